"""A run's memory (issue 31) through the clients and the command line, against the scripted loopback server
standing in for a service that has it: `start(memory="warm")` and `--warm` (the body sent), `app_map` and
`runservice app map` (200 and 404), `wait(fail_on=...)` and `--fail-on new` (the exit status), and what `get`
and `findings` show of a warm run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from runservice_client import AppMap, AsyncRunClient, FailingFindings, RunClient, RunServiceError
from tests.client.servers import Handler, scripted_server
from tests.client.test_cli import assert_one_line_error, runservice
from tests.client.test_retries import RUN, SPEC, STARTED

PACKAGE = "com.example.shop"
OLD_RUN = "01K9999999999999999999999Z"
APP_MAP = {"package": PACKAGE,
           "versions": [{"version": "12", "versionCode": 12, "versionName": "3.2.1", "runs": 2, "firstRunId": OLD_RUN,
                         "lastRunId": OLD_RUN},
                        {"version": "13", "versionCode": 13, "versionName": "3.3.0", "runs": 1, "firstRunId": RUN,
                         "lastRunId": RUN}],
           "screens": [{"screenId": "home", "activity": ".Home", "elements": ["Button Cart"], "versions": ["12", "13"],
                        "firstRunId": OLD_RUN, "lastRunId": RUN},
                       {"screenId": "wish", "activity": ".Wish", "elements": [], "versions": ["13"],
                        "firstRunId": RUN, "lastRunId": RUN}],
           "actions": [{"screenId": "home", "actionId": "a1", "kind": "click", "label": "Cart",
                        "outcomes": {"12": ["crashed"], "13": ["screen:wish"]}}],
           "findings": [{"signature": "sig-npe", "kind": "crash", "title": "NullPointerException: cart",
                         "versions": ["12", "13"], "runs": 3, "firstRunId": OLD_RUN, "firstVersion": "12",
                         "lastRunId": RUN, "lastVersion": "13"}]}
FIXED = {"signature": "sig-anr", "kind": "anr", "title": "ANR in .Sync", "lastVersion": "12", "lastRunId": OLD_RUN}
STATE = {"runId": RUN, "status": "completed", "stopReason": "max_steps", "lastEventSeq": 3, "memory": "warm",
         "app": {"packageName": PACKAGE, "version": {"versionCode": 13, "versionName": "3.3.0"}},
         "fixed": [FIXED], "drift": None}
METRICS = {"steps": 1, "screensDiscovered": 2, "knownFromMemory": 5}
EVENTS = [(1, "run.queued", {"runId": RUN, "maxSteps": 1}),
          (2, "agent.node.started", {"runId": RUN, "stepOrdinal": 1, "nodeName": "Perceive"}),
          (3, "run.completed", {"runId": RUN, "stopReason": "max_steps", "metrics": METRICS})]
# A crash an earlier run met first (known), and an ANR no run met before (new).
FINDINGS = [{"findingId": "f-crash", "kind": "crash", "title": "NullPointerException: cart", "occurrences": 1,
             "firstStep": 1, "history": {"status": "known", "firstVersion": "12", "firstRunId": OLD_RUN}},
            {"findingId": "f-anr", "kind": "anr", "title": "ANR in .Checkout", "occurrences": 1, "firstStep": 1,
             "history": {"status": "new"}}]


def warm_service(bodies: list[bytes]) -> Any:
    """A service with one finished warm run (RUN) and the map of PACKAGE; every POST /run answers RUN."""
    def respond(handler: Handler, count: int) -> None:
        path = handler.path
        if handler.command == "POST" and path == "/run":
            bodies.append(handler.body)
            handler.send_json(201, STARTED)
        elif path == f"/run/{RUN}/stream":
            after = int(handler.headers["Last-Event-ID"])
            handler.send_events([event for event in EVENTS if event[0] > after])
        elif path == f"/run/{RUN}/findings":
            handler.send_json(200, {"runId": RUN, "findings": FINDINGS})
        elif path == f"/run/{RUN}":
            handler.send_json(200, STATE)
        elif path == f"/apps/{PACKAGE}/map":
            handler.send_json(200, APP_MAP)
        else:
            handler.send_json(404, {"code": "not_found", "message": f"nothing at {path}", "details": None})
    return respond


@pytest.fixture
def scripted() -> Any:
    """(url, seen, bodies): the scripted warm service, what it was asked, and the POST /run bodies it got."""
    bodies: list[bytes] = []
    with scripted_server(warm_service(bodies)) as (url, seen):
        yield url, seen, bodies


def test_a_warm_start_sends_memory_and_a_cold_one_the_body_of_before(scripted):
    url, _, bodies = scripted
    with RunClient(url) as client:
        client.start(**SPEC)
        client.start(**SPEC, memory="cold")
        client.start(**SPEC, memory="warm")
        client.start_many([{**SPEC, "memory": "warm"}, SPEC])

    sent = [json.loads(body) for body in bodies]
    assert bodies[0] == bodies[1] and "memory" not in sent[0]  # byte for byte: the service's digest is the same
    assert sent[2] == {**sent[0], "memory": "warm"}
    assert sorted(body.get("memory", "-") for body in sent[3:]) == ["-", "warm"]


def test_the_async_client_sends_it_alike(scripted):
    url, _, bodies = scripted

    async def start() -> None:
        async with AsyncRunClient(url) as client:
            await client.start(**SPEC, memory="warm")

    asyncio.run(start())
    assert json.loads(bodies[0])["memory"] == "warm"


def test_app_map_answers_the_map_and_an_unknown_app_is_a_404(scripted):
    url, seen, _ = scripted
    with RunClient(url) as client:
        app_map = client.app_map(PACKAGE)
        with pytest.raises(RunServiceError) as unknown:
            client.app_map("com.example.other")

    assert isinstance(app_map, AppMap) and app_map == APP_MAP
    assert app_map.screens_per_version() == {"12": 1, "13": 2}
    assert (unknown.value.status, unknown.value.code) == (404, "not_found")
    assert [path for _, path, _ in seen.requests] == [f"/apps/{PACKAGE}/map", "/apps/com.example.other/map"]


def test_the_async_app_map_alike_and_a_bare_detail_is_the_message():
    def bare(handler: Handler, count: int) -> None:  # a refusal in FastAPI's own shape
        handler.send_json(404, {"detail": "no runs of app com.example.other"})

    async def ask(url: str) -> None:
        async with AsyncRunClient(url) as client:
            await client.app_map("com.example.other")

    with scripted_server(bare) as (url, _), pytest.raises(RunServiceError) as unknown:
        asyncio.run(ask(url))
    assert (unknown.value.status, unknown.value.message) == (404, "no runs of app com.example.other")


def test_wait_fails_on_what_fail_on_names_with_new_only_the_new_findings(scripted):
    url, seen, _ = scripted
    with RunClient(url) as client:
        assert client.wait(RUN, progress=False, fail_on="crash,new").known_from_memory == 5  # the crash is known
        with pytest.raises(FailingFindings) as new:
            client.wait(RUN, progress=False, fail_on=["new"])
        with pytest.raises(FailingFindings) as crash:
            client.wait(RUN, progress=False, fail_on="crash")
        asked = len(seen.requests)
        with pytest.raises(ValueError, match="unknown finding kind 'freeze'"):
            client.wait(RUN, progress=False, fail_on="crash,freeze")

    assert [f.id for f in new.value.findings] == ["f-anr"] and new.value.run.memory == "warm"
    assert [f.id for f in crash.value.findings] == ["f-crash"] and crash.value.fail_on == ("crash",)
    assert len(seen.requests) == asked  # refused before waiting


def test_the_async_wait_alike(scripted):
    url, _, _ = scripted

    async def wait() -> FailingFindings:
        async with AsyncRunClient(url) as client:
            with pytest.raises(FailingFindings) as failed:
                await client.wait(RUN, progress=False, fail_on="new")
            return failed.value

    assert [f.id for f in asyncio.run(wait()).findings] == ["f-anr"]


START = ["start", "--apk", "/apps/shop.json", "--appium", "http://127.0.0.1:4723", "--package", PACKAGE,
         "--activity", ".ShopHomeActivity"]


def test_start_warm_from_the_command_line(scripted):
    url, _, bodies = scripted

    warm, cold = runservice(*START, "--warm", url=url), runservice(*START, url=url)

    assert (warm.returncode, cold.returncode) == (0, 0), (warm.stderr, cold.stderr)
    assert warm.stdout.strip() == RUN
    assert json.loads(bodies[0])["memory"] == "warm" and "memory" not in json.loads(bodies[1])


@pytest.mark.parametrize(("fail_on", "status", "verdict"), [
    ("new", 5, " (fail on new anr 1)"),
    ("crash,new", 0, ""),  # the crash is known: no new crash
    ("crash", 5, " (fail on crash 1)"),  # as before finding history
])
def test_fail_on_new_fails_only_on_new_findings(scripted, fail_on, status, verdict):
    url, _, _ = scripted

    done = runservice(*START, "--warm", "--wait", "--fail-on", fail_on, url=url)

    assert done.returncode == status, done
    assert done.stdout.strip().splitlines()[-2:] == ["completed: max_steps", f"findings: crash 1, anr 1{verdict}"]


def test_fail_on_new_with_json_exits_5_too(scripted):
    done = runservice(*START, "--wait", "--fail-on", "new", "--json", url=scripted[0])

    assert done.returncode == 5, done
    assert [f["history"]["status"] for f in json.loads(done.stdout)["findings"]] == ["known", "new"]


def test_app_map_from_the_command_line(scripted):
    url, _, _ = scripted

    text, as_json = runservice("app", "map", PACKAGE, url=url), runservice("app", "map", PACKAGE, "--json", url=url)
    unknown = runservice("app", "map", "com.example.other", url=url)

    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"{PACKAGE}: 2 versions, 2 screens, 1 action, 1 finding"
    assert lines[2].split()[:4] == ["VERSION", "NAME", "RUNS", "SCREENS"]
    assert lines[3].split()[:4] == ["12", "3.2.1", "2", "1"] and lines[4].split()[:4] == ["13", "3.3.0", "1", "2"]
    assert lines[6].split() == ["KIND", "TITLE", "FIRST", "LAST", "RUNS"]
    assert lines[7].split() == ["crash", "NullPointerException:", "cart", "12", "13", "3"]
    assert json.loads(as_json.stdout) == APP_MAP
    assert_one_line_error(unknown, "404 not_found", "/apps/com.example.other/map")


def test_get_and_findings_show_what_the_warm_run_remembered(scripted):
    url, _, _ = scripted

    shown, found = runservice("get", RUN, url=url), runservice("findings", RUN, url=url)

    assert shown.returncode == 0, shown.stderr
    assert {"memory: warm", "app.version: 3.3.0 (13)", "metrics.knownFromMemory: 5",
            f"fixed.sig-anr: anr ANR in .Sync (last in 12, run {OLD_RUN})"} <= set(shown.stdout.splitlines())
    assert found.returncode == 0, found.stderr
    head, crash, anr = found.stdout.splitlines()
    assert head.split()[-1] == "HISTORY" and crash.endswith("known since 12") and anr.endswith("NEW")
