"""Progress bars on stderr (tqdm.auto outside Jupyter): steps against maxSteps with screens and status,
and runs finished with their stop reasons; and the async client, following live runs."""

from __future__ import annotations

import asyncio
import re

from ulid import ULID

from runservice_client import AsyncRunClient, RunServiceError
from tests.client.conftest import LOGIN, run_spec


def last_bar(stderr: str) -> str:
    """The bar as last drawn: tqdm redraws in place with carriage returns."""
    return [line for line in re.split(r"[\r\n]+", stderr) if line.strip()][-1]


def test_wait_draws_the_steps_against_max_steps_with_screens_and_status(client, appium_server, capsys):
    run = client.start(**run_spec(appium_server, inputs=LOGIN, max_steps=6))

    finished = client.wait(run.id)
    bar = last_bar(capsys.readouterr().err)
    assert f"run {run.id}" in bar
    assert f"{finished.metrics['steps']}/6" in bar  # steps against maxSteps
    assert f"screens={finished.metrics['screensDiscovered']}" in bar
    assert "status=completed: max_steps" in bar


def test_wait_all_draws_runs_finished_with_counts_by_stop_reason(client, appium_server, capsys):
    runs = client.start_many([run_spec(appium_server, "settings", max_steps=2),
                              run_spec(appium_server, "shop", max_steps=3)])

    finished = client.wait_all([run.id for run in runs])
    bar = last_bar(capsys.readouterr().err)
    assert "2/2" in bar and "runs" in bar
    reasons = {run.stop_reason for run in finished}
    assert all(f"{reason}=" in bar for reason in reasons)
    assert sum(int(n) for n in re.findall(r"=(\d+)", bar)) == 2


def test_without_progress_nothing_is_drawn(client, appium_server, capsys):
    run = client.start(**run_spec(appium_server, "settings", max_steps=2))

    assert client.wait(run.id, progress=False).status == "completed"
    assert capsys.readouterr().err == ""


def test_the_async_client_follows_live_runs_with_the_same_methods(service, appium_server, capsys):
    async def scenario() -> None:
        async with AsyncRunClient(service.api_url) as client:
            started = await client.start_many([run_spec(appium_server, app, max_steps=3) for app in ("notes", "shop")])
            seqs = [event.seq async for event in client.events(started[0].id)]
            assert seqs == list(range(1, len(seqs) + 1))
            finished = await client.wait_all([run.id for run in started])
            assert [run.id for run in finished] == [run.id for run in started]
            assert all(run.status == "completed" and run.metrics["steps"] == 3 for run in finished)
            waited = await client.wait(started[1].id)  # an ended run: its history replays at once
            assert waited.metrics == finished[1].metrics == (await client.get(started[1].id)).metrics
            assert "<svg" in await client.graph_svg(started[0].id) and "<svg" in waited._repr_html_()
            screens = (await client.graph(started[0].id))["screens"]  # a projection: may still be catching up
            assert 1 <= len(screens) <= finished[0].metrics["screensDiscovered"]
            listed = [row["run_id"] async for row in client.runs(limit=2, page_size=1)]
            assert len(listed) == 2 and listed == sorted(listed, reverse=True)
            try:
                await client.cancel(str(ULID()))
            except RunServiceError as error:
                assert (error.status, error.code) == (404, "not_found")
            else:
                raise AssertionError("cancelling an unknown run succeeded")

    asyncio.run(scenario())
    assert "3/3" in capsys.readouterr().err
