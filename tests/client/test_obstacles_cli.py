"""A run's `permissions` and `avoid` (DESIGN.md "What real apps do to an agent") from the shell and from Python,
against the live service: `runservice start --permissions --avoid`, `get` showing them, the clients' `start`
and `start_many`, and a bad pattern refused in one line that names it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from runservice_client import AsyncRunClient, RunClient, RunServiceError
from tests.client.conftest import run_spec, stop
from tests.client.test_cli import assert_one_line_error, runservice, start_args

AVOID = ["id/sign_out", "text:delete (account|all notes)"]


def test_permissions_and_avoid_reach_the_run_and_get_shows_them(service, appium_server, client):
    url = service.api_url
    started = runservice(*start_args(appium_server, max_steps=1), "--permissions", "deny",
                         "--avoid", AVOID[0], "--avoid", AVOID[1], url=url)
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()

    shown = runservice("get", run_id, "--json", url=url)
    text = runservice("get", run_id, url=url)

    assert shown.returncode == 0, shown.stderr
    assert (json.loads(shown.stdout)["permissions"], json.loads(shown.stdout)["avoid"]) == ("deny", AVOID)
    lines = text.stdout.splitlines()
    assert "permissions: deny" in lines and f"avoid: {json.dumps(AVOID)}" in lines, text.stdout
    stop(client, run_id)


def test_without_the_options_the_run_grants_and_avoids_nothing(service, appium_server, client):
    started = runservice(*start_args(appium_server, max_steps=1), "--json", url=service.api_url)
    assert started.returncode == 0, started.stderr
    run_id = json.loads(started.stdout)["runId"]

    lines = runservice("get", run_id, url=service.api_url).stdout.splitlines()

    assert "permissions: grant" in lines and "avoid: []" in lines
    stop(client, run_id)


def test_a_bad_pattern_is_one_line_naming_it_and_a_bad_answer_is_bad_usage(service, appium_server):
    refused = runservice(*start_args(appium_server), "--avoid", "id/sign_out", "--avoid", "text:[a-", url=service.api_url)
    assert_one_line_error(refused, "400", "avoid.1", "'text:[a-'", "not a valid regex")

    usage = runservice(*start_args(appium_server), "--permissions", "ask", url=service.api_url)
    assert usage.returncode == 2 and "'ask' is not one of 'grant', 'deny'" in usage.stderr, usage.stderr
    assert "Traceback" not in usage.stderr


def test_the_client_starts_runs_with_them_one_or_many(client: RunClient, appium_server):
    one = client.start(**run_spec(appium_server, max_steps=1), permissions="deny", avoid=("id/sign_out",))
    many = client.start_many([run_spec(appium_server, max_steps=1, avoid=AVOID),
                              run_spec(appium_server, max_steps=1, permissions="deny", avoid="text:buy .*")])

    shown = [client.get(run.id) for run in [one, *many]]

    assert [(run.permissions, run.avoid) for run in shown] == [
        ("deny", ["id/sign_out"]), ("grant", AVOID), ("deny", ["text:buy .*"])]  # one string: one pattern
    for run in shown:
        stop(client, run.id)


def test_the_async_client_too(service, appium_server):
    async def started() -> dict[str, Any]:
        async with AsyncRunClient(service.api_url) as client:
            run = await client.start(**run_spec(appium_server, max_steps=1), permissions="deny", avoid=AVOID)
            shown = await client.get(run.id)
            try:
                await client.cancel(run.id)
            except RunServiceError as error:
                assert error.status == 409, error
            return shown

    shown = asyncio.run(started())

    assert (shown["permissions"], shown["avoid"]) == ("deny", AVOID)
