"""A run's extra capabilities (DESIGN.md "Time and faults") from the shell and from Python, against the live
service: `runservice start --capability KEY=JSON` (a value that is not JSON is a string), `get` showing them, the
clients' `start` and `start_many`, and a capability the run sets refused in one line that names it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from runservice_client import AsyncRunClient, RunClient, RunServiceError
from tests.client.conftest import run_spec, stop
from tests.client.test_cli import assert_one_line_error, runservice, start_args

FAULTS = {"serverCrashAfter": 150}


def test_capability_options_reach_the_run_and_get_shows_them(service, appium_server, client):
    url = service.api_url
    started = runservice(*start_args(appium_server, max_steps=1), "--capability", "appium:simSeed=3",
                         "--capability", "appium:udid=emulator-5554", "--capability", 'appium:serial="5554"',
                         "--capability", f"appium:simFaults={json.dumps(FAULTS)}", url=url)
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()

    shown = runservice("get", run_id, "--json", url=url)
    text = runservice("get", run_id, url=url)

    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["capabilities"] == {  # JSON values parsed, a plain word a string
        "appium:simSeed": 3, "appium:udid": "emulator-5554", "appium:serial": "5554", "appium:simFaults": FAULTS}
    lines = text.stdout.splitlines()
    assert {"capabilities.appium:simSeed: 3", 'capabilities.appium:udid: "emulator-5554"',
            'capabilities.appium:serial: "5554"', f"capabilities.appium:simFaults: {json.dumps(FAULTS)}"} <= set(lines)
    assert client.get(run_id).capabilities["appium:simFaults"] == FAULTS
    stop(client, run_id)


def test_without_the_option_the_run_has_none(service, appium_server, client):
    started = runservice(*start_args(appium_server, max_steps=1), "--json", url=service.api_url)
    assert started.returncode == 0, started.stderr
    run_id = json.loads(started.stdout)["runId"]

    lines = runservice("get", run_id, url=service.api_url).stdout.splitlines()

    assert "capabilities: {}" in lines and not [line for line in lines if line.startswith("capabilities.")]
    stop(client, run_id)


def test_a_capability_the_run_sets_is_one_line_naming_it_and_no_equals_sign_is_bad_usage(service, appium_server):
    refused = runservice(*start_args(appium_server), "--capability", "appium:simSeed=3",
                         "--capability", "appium:appPackage=com.other", url=service.api_url)
    assert_one_line_error(refused, "400", "capabilities.appium:appPackage", "set by the run itself")

    usage = runservice(*start_args(appium_server), "--capability", "appium:simSeed", url=service.api_url)
    assert usage.returncode == 2 and "expected KEY=JSON, got 'appium:simSeed'" in usage.stderr, usage.stderr
    assert "Traceback" not in usage.stderr


def test_the_client_starts_runs_with_them_one_or_many(client: RunClient, appium_server):
    one = client.start(**run_spec(appium_server, max_steps=1), capabilities={"appium:simSeed": 3})
    many = client.start_many([run_spec(appium_server, max_steps=1, capabilities={"appium:simFaults": FAULTS}),
                              run_spec(appium_server, max_steps=1)])

    shown = [client.get(run.id) for run in [one, *many]]

    assert [run.capabilities for run in shown] == [{"appium:simSeed": 3}, {"appium:simFaults": FAULTS}, {}]
    for run in shown:
        stop(client, run.id)


def test_the_async_client_too(service, appium_server):
    async def started() -> dict[str, Any]:
        async with AsyncRunClient(service.api_url) as client:
            run = await client.start(**run_spec(appium_server, max_steps=1), capabilities={"appium:simSeed": 5})
            shown = await client.get(run.id)
            try:
                await client.cancel(run.id)
            except RunServiceError as error:
                assert error.status == 409, error
            return shown

    assert asyncio.run(started()).capabilities == {"appium:simSeed": 5}
