"""Through the client and the command line, on the live service: idempotent start (also when an answer
is lost and the client retries), pause and resume, and the comparison of two runs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from runservice_client import RunClient, RunServiceError
from tests.client.conftest import LOGIN, run_spec
from tests.client.servers import losing_first_answer, scripted_server
from tests.client.test_cli import runservice, start_args

DIFF_KEYS = {"screensAdded", "screensRemoved", "screensChanged", "transitionsAdded", "transitionsRemoved"}


def test_the_same_key_answers_the_same_run_and_another_body_is_refused(client, appium_server):
    key = str(uuid.uuid4())
    first = client.start(**run_spec(appium_server, "settings", max_steps=2), idempotency_key=key)

    again = client.start(**run_spec(appium_server, "settings", max_steps=2), idempotency_key=key)
    assert again.id == first.id
    with pytest.raises(RunServiceError) as refused:
        client.start(**run_spec(appium_server, "settings", max_steps=3), idempotency_key=key)
    assert (refused.value.status, refused.value.code) == (409, "failed_precondition")
    client.wait(first.id, progress=False)


def test_a_start_whose_answer_was_lost_is_retried_into_the_same_run(service, appium_server):
    answers: list[tuple[int, dict[str, Any]]] = []
    with scripted_server(losing_first_answer(service.api_url, answers)) as (url, _), RunClient(url) as proxied:
        run = proxied.start(**run_spec(appium_server, "shop", max_steps=2))  # no key given: one made up

    assert [status for status, _ in answers] == [201, 200]  # created, then found again
    assert {body["runId"] for _, body in answers} == {run.id}
    with RunClient(service.api_url) as client:
        assert client.wait(run.id, progress=False).status == "completed"


def test_the_command_line_takes_a_key_too(service, appium_server):
    args = [*start_args(appium_server, "settings", max_steps=2), "--idempotency-key", str(uuid.uuid4())]

    ids = {runservice(*args, url=service.api_url).stdout.strip() for _ in range(2)}
    assert len(ids) == 1 and len(ids.pop()) == 26


def steps_of(events: list[Any]) -> list[int]:
    return [e.data["stepOrdinal"] for e in events if e.name == "agent.node.started" and e.data.get("stepOrdinal")]


def test_a_paused_run_frees_nothing_of_its_progress_and_continues_when_resumed(client, appium_server):
    run = client.start(**run_spec(appium_server, inputs=LOGIN, max_steps=12))
    for event in client.events(run.id):
        if event.data.get("stepOrdinal", 0) >= 3:
            break

    assert client.pause(run.id) == {"runId": run.id, "status": "PAUSED"}
    assert client.pause(run.id)["status"] == "PAUSED"  # idempotent
    paused = next(e for e in client.events(run.id) if e.name == "run.paused")
    assert client.get(run.id).status == "paused"
    assert client.resume(run.id) == {"runId": run.id, "status": "PENDING"}

    ended = client.wait(run.id, progress=False)
    assert ended.status == "completed"
    events = list(client.events(run.id))
    names = [e.name for e in events]
    assert names.index("run.paused") < names.index("run.resumed") < names.index("run.completed")
    before, after = steps_of(events[:paused.seq]), steps_of(events[paused.seq:])
    assert before and after and min(after) >= max(before)  # continued, not started afresh
    assert ended.metrics["steps"] == max(after)


def test_pause_and_resume_from_the_command_line(service, appium_server):
    url = service.api_url
    # The biggest sample app (6-8 s to explore): a device explores the notes app to its end in about 1 s,
    # which can be before the next command starts (it was, once: the pause answered 409).
    run_id = runservice(*start_args(appium_server, app="settings", max_steps=500), url=url).stdout.strip()

    assert runservice("pause", run_id, url=url).stdout.strip() == f"{run_id} PAUSED"
    with RunClient(url) as client:
        next(e for e in client.events(run_id) if e.name == "run.paused")
        assert runservice("resume", run_id, url=url).stdout.strip() == f"{run_id} PENDING"
        # resumed, it goes on to the end (a cancel here would race the end: the sample app is explored in seconds)
        finished = client.wait(run_id, progress=False)
    assert finished.status == "completed"
    refused = runservice("pause", run_id, url=url)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "409" in refused.stderr


def test_two_runs_compare_as_json_and_as_a_picture(client, appium_server, tmp_path):
    base, head = client.wait_all([r.id for r in client.start_many(
        [run_spec(appium_server, "notes", max_steps=3), run_spec(appium_server, "notes", inputs=LOGIN, max_steps=8)])],
        progress=False)

    drift = client.diff(base.id, head.id)
    assert set(drift) >= DIFF_KEYS
    assert drift["screensAdded"]  # logged in, the head run reached screens the base never saw
    assert "<svg" in client.diff_svg(base.id, head.id)
    picture = tmp_path / "diff.svg"
    shown = runservice("diff", base.id, head.id, "-o", str(picture), url=client.base_url)
    assert shown.returncode == 0 and "screensAdded" in shown.stdout and "<svg" in picture.read_text()
