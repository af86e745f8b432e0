"""The HTTP and SSE contracts of DESIGN.md, over HTTP against the whole service (the `service` fixture).

Streams are read here from their raw lines, so keep-alive comments are seen as
comments, and every wait has a deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from ulid import ULID

from tests.fixtures.service import start, start_body, status_of, wait_for
from tests.unit.test_request_model import INVALID_BODIES as MODEL_CASES

REPO = Path(__file__).resolve().parents[2]
TERMINAL = {"run.completed", "run.failed", "run.canceled"}
STREAM_SECONDS = 60.0  # the longest any stream here may stay open
FAILS_WITHIN_SECONDS = 15.0  # "within seconds" for runs that cannot even start


# Helpers

def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """("event", {"id", "event", "data"}) per dispatched event and ("comment", text) per comment line."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                yield "event", {"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])}
            fields = {}
        elif line.startswith(":"):
            yield "comment", line[1:].strip()
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            fields[name] = fields[name] + "\n" + value if name == "data" and name in fields else value


@contextmanager
def open_stream(client: httpx.Client, run_id: str, headers: dict[str, str] | None = None,
                params: dict[str, Any] | None = None) -> Iterator[tuple[httpx.Response, Iterator[tuple[str, Any]]]]:
    """The stream's response and its parsed items; fails once STREAM_SECONDS have passed."""
    deadline = time.monotonic() + STREAM_SECONDS

    def items(response: httpx.Response) -> Iterator[tuple[str, Any]]:
        for item in parse_sse(response.iter_lines()):
            assert time.monotonic() < deadline, f"stream of {run_id} still open after {STREAM_SECONDS} s"
            yield item

    timeout = httpx.Timeout(10.0)  # keep-alives come every second: a 10 s silence is a dead stream
    with client.stream("GET", f"/run/{run_id}/stream", headers=headers, params=params, timeout=timeout) as response:
        yield response, items(response)


def read_events(client: httpx.Client, run_id: str, headers: dict[str, str] | None = None,
                params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every event until the server closes the stream."""
    with open_stream(client, run_id, headers, params) as (response, items):
        assert response.status_code == 200, response.read()
        return [value for kind, value in items if kind == "event"]


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_one_run(events: list[dict[str, Any]], run_id: str) -> dict[str, Any]:
    """ids 1..n without gaps, data consistent with them, exactly one terminal event, last; returns it."""
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["data"]["runId"] == run_id and e["data"]["seq"] == e["id"] for e in events)
    assert [e["event"] in TERMINAL for e in events].count(True) == 1, [e["event"] for e in events]
    assert events[-1]["event"] in TERMINAL
    return events[-1]


def assert_error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    assert "Traceback" not in answer.text
    return body


def long_run(appium_server: str) -> dict[str, Any]:
    """Explores for tens of seconds (the settings app's deep tree), unless cancelled."""
    return start_body(appium_server, app="settings", maxSteps=1000)


# Validation: 400 invalid_argument naming every invalid field. Which bodies are refused, and how the answer
# says it, is tested on the request model and the error shaping without Serve: tests/unit/test_request_model.py.
# Here, the wiring: the schema's errors reach the error handler, which adds the replica's access problems.

# One case needs the replica (its access problems joined to the schema's), one shows every field reaching the answer.
INVALID_BODIES = {name: MODEL_CASES[name] for name in ("unregistered server and maxSteps 0", "several at once")}


@pytest.mark.parametrize("case", INVALID_BODIES, ids=list(INVALID_BODIES))
def test_an_invalid_body_is_refused_naming_every_invalid_field(api, appium_server, case):
    make, fields = INVALID_BODIES[case]

    body = assert_error(api.post("/run", json=make(start_body(appium_server))), 400, "invalid_argument")

    for field in fields:
        assert field in body["message"], (field, body["message"])
    named = {d["field"].split(".")[0] for d in body["details"]}
    assert named == set(fields), body["details"]


@pytest.mark.parametrize(("content", "content_type"), [
    (b'{"apkPath": "/apps/notes.json",', "application/json"),
    (b"{'apkPath': '/apps/notes.json'}", "application/json"),
    (b"\xff\xfe not utf-8", "application/json"),
    (b"", "application/json"),
], ids=["truncated", "single quotes", "not utf-8", "empty"])
def test_a_body_that_is_not_json_is_refused(api, content, content_type):
    body = assert_error(api.post("/run", content=content, headers={"content-type": content_type}),
                        400, "invalid_argument")
    assert body["message"]


@pytest.mark.parametrize("payload", [[], ["apkPath"], "a run please", 42, None, True],
                         ids=["empty list", "list", "string", "number", "null", "true"])
def test_a_body_that_is_not_an_object_is_refused(api, payload):
    body = assert_error(api.post("/run", content=json.dumps(payload), headers={"content-type": "application/json"}),
                        400, "invalid_argument")
    assert "body" in body["message"]


def test_a_form_encoded_body_is_refused(api, appium_server):
    answer = api.post("/run", data={"apkPath": "/apps/notes.json", "appiumServerUrl": appium_server})
    assert answer.status_code in (400, 415), answer.text
    assert answer.json()["code"] == "invalid_argument"


def test_the_limits_themselves_are_accepted(api, appium_server):
    bodies = [start_body(appium_server, maxSteps=1, goal="g" * 2000),
              start_body(appium_server, maxSteps=1000, inputs={"username": "alice", "password": "secret"}),
              {k: v for k, v in start_body(appium_server).items() if k != "maxSteps"}]
    run_ids = [start(api, body) for body in bodies]
    for run_id in run_ids:
        api.post(f"/run/{run_id}/cancel")  # they were only needed to be accepted
    for run_id in run_ids:
        assert_one_run(read_events(api, run_id), run_id)
    assert api.get(f"/run/{run_ids[2]}").json()["maxSteps"] == 50  # the default


def test_the_start_answer(api, appium_server):
    before = datetime.now(timezone.utc)

    answer = api.post("/run", json=start_body(appium_server, maxSteps=1))

    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"runId", "status", "createdAt", "streamUrl"}
    assert str(ULID.from_str(body["runId"])) == body["runId"]
    assert body["status"] == "PENDING" and body["streamUrl"] == f"/run/{body['runId']}/stream"
    created = parse_ts(body["createdAt"])
    assert created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= created <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert_one_run(read_events(api, body["runId"]), body["runId"])


# Unknown and malformed run ids

@pytest.mark.parametrize("route", ["get", "cancel", "stream"])
def test_an_unknown_run_is_404(api, route):
    run_id = str(ULID())
    answer = {"get": lambda: api.get(f"/run/{run_id}"), "cancel": lambda: api.post(f"/run/{run_id}/cancel"),
              "stream": lambda: api.get(f"/run/{run_id}/stream")}[route]()

    body = assert_error(answer, 404, "not_found")
    assert run_id in body["message"]


@pytest.mark.parametrize("route", ["get", "cancel", "stream"])
@pytest.mark.parametrize("bad_id", ["not-a-ulid", "0" * 27, "U" * 26, "8" + "0" * 25])
def test_a_malformed_run_id_is_400(api, route, bad_id):
    answer = {"get": lambda: api.get(f"/run/{bad_id}"), "cancel": lambda: api.post(f"/run/{bad_id}/cancel"),
              "stream": lambda: api.get(f"/run/{bad_id}/stream")}[route]()

    body = assert_error(answer, 400, "invalid_argument")
    assert "runId" in body["message"] or body["details"] == {"field": "runId"}


@pytest.mark.parametrize(("headers", "params"), [
    ({"Last-Event-ID": "three"}, None), ({"Last-Event-ID": "-1"}, None), (None, {"after": "x"}), (None, {"after": -2}),
], ids=["header not a number", "header negative", "after not a number", "after negative"])
def test_a_bad_resume_position_is_400(api, headers, params):
    run_id = str(ULID())  # validation comes first: no run is needed
    assert_error(api.get(f"/run/{run_id}/stream", headers=headers, params=params), 400, "invalid_argument")


# Health

def test_health(api, service):
    answer = api.get("/health")

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"timestamp", "status", "database", "details"}
    assert (body["status"], body["database"]) == ("healthy", "connected")
    devices = len(service.workers)  # every test device's resource is declared by the local Ray
    assert body["details"] == {"devices": devices, "placed": devices, "waiting": []}
    timestamp = parse_ts(body["timestamp"])
    assert timestamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - timestamp) < timedelta(seconds=10)


# Every device busy: runs wait in the queue

@pytest.fixture(scope="class")
def busy_devices(service, appium_server) -> Iterator[list[str]]:
    """One long run on every device actor; cancelled, and ended, at the end of the class."""
    with httpx.Client(base_url=service.api_url, timeout=30) as client:
        blockers = [start(client, long_run(appium_server)) for _ in service.workers]
        wait_for(lambda: all(status_of(client, run_id) == "running" for run_id in blockers), 60,
                 "every device to be busy")
        yield blockers
        for run_id in blockers:
            client.post(f"/run/{run_id}/cancel")
        for run_id in blockers:
            assert_one_run(read_events(client, run_id), run_id)


class TestWhileEveryDeviceIsBusy:
    def test_a_queued_run_is_cancelled_at_once(self, api, appium_server, busy_devices):
        run_id = start(api, start_body(appium_server, maxSteps=2))
        assert status_of(api, run_id) == "queued"

        answer = api.post(f"/run/{run_id}/cancel")

        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"runId", "status", "cancelledAt"}
        assert (body["runId"], body["status"]) == (run_id, "CANCELLED")
        events = read_events(api, run_id)
        assert [e["event"] for e in events] == ["run.queued", "run.cancel_requested", "run.canceled"]
        assert assert_one_run(events, run_id)["data"]["stopReason"] == "user_cancelled"
        assert api.post(f"/run/{run_id}/cancel").json() == body  # idempotent: the same answer
        assert status_of(api, run_id) == "canceled"
        assert all(status_of(api, blocker) == "running" for blocker in busy_devices)  # it really was waiting

    def test_cancelled_at_is_when_the_cancel_was_requested(self, api, appium_server, busy_devices):
        run_id = start(api, start_body(appium_server, maxSteps=2))
        created = parse_ts(api.get(f"/run/{run_id}").json()["createdAt"])
        wait_for(lambda: datetime.now(timezone.utc) - created > timedelta(milliseconds=50), 5,
                 "the clock to move past the request")

        body = api.post(f"/run/{run_id}/cancel").json()

        requested = next(e for e in read_events(api, run_id) if e["event"] == "run.cancel_requested")
        cancelled_at = parse_ts(body["cancelledAt"])
        assert abs(cancelled_at - parse_ts(requested["data"]["ts"])) < timedelta(milliseconds=1)
        assert cancelled_at > created

    def test_an_idle_stream_gets_keep_alive_comments(self, api, appium_server, busy_devices):
        run_id = start(api, start_body(appium_server, maxSteps=2))
        seen: list[tuple[str, Any]] = []
        with open_stream(api, run_id) as (response, items):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            opened = time.monotonic()
            for item in items:
                seen.append(item)
                if [kind for kind, _ in seen].count("comment") >= 2:
                    break
            idle_for = time.monotonic() - opened
        api.post(f"/run/{run_id}/cancel")

        assert seen[0][0] == "event" and seen[0][1]["event"] == "run.queued"
        assert [value for kind, value in seen if kind == "comment"] == ["keep-alive", "keep-alive"]
        assert [kind for kind, _ in seen].count("event") == 1  # nothing happened: a queued run is idle
        assert idle_for < 5  # two comments at a 1 s keep-alive, with slack


# Cancelling a running run, and a finished one

def test_cancelling_a_running_run_ends_its_stream_with_run_canceled(api, appium_server):
    run_id = start(api, long_run(appium_server))
    events: list[dict[str, Any]] = []
    answer = None
    with open_stream(api, run_id) as (response, items):
        assert response.status_code == 200
        for kind, value in items:
            if kind != "event":
                continue
            events.append(value)
            if answer is None and value["event"] == "agent.node.started":
                answer = api.post(f"/run/{run_id}/cancel")

    assert answer is not None and answer.status_code == 200, answer and answer.text
    assert (answer.json()["runId"], answer.json()["status"]) == (run_id, "CANCELLED")
    last = assert_one_run(events, run_id)
    assert (last["event"], last["data"]["stopReason"]) == ("run.canceled", "user_cancelled")
    names = [e["event"] for e in events]
    assert names.index("run.started") < names.index("run.cancel_requested")
    assert names.count("run.cancel_requested") == 1
    assert_honoured_at_a_node_boundary(events[names.index("run.cancel_requested") + 1:])
    assert api.post(f"/run/{run_id}/cancel").json() == answer.json()  # the same answer again
    summary = api.get(f"/run/{run_id}").json()
    assert (summary["status"], summary["stopReason"], summary["lastEventSeq"]) == (
        "canceled", "user_cancelled", events[-1]["id"])


def assert_honoured_at_a_node_boundary(tail: list[dict[str, Any]]) -> None:
    """After run.cancel_requested: at most the step in flight (the agent saves a step's events together),
    then the node the cancel stopped, the Stop node, and run.canceled."""
    assert [e["event"] for e in tail[-4:]] == ["agent.node.finished", "agent.node.started", "agent.node.finished",
                                              "run.canceled"], [e["event"] for e in tail]
    assert tail[-3]["data"]["nodeName"] == tail[-2]["data"]["nodeName"] == "Stop"
    stopped = tail[-4]["data"]
    assert (stopped["outcomeStatus"], stopped["detail"].get("reason")) == ("SKIPPED", "cancel requested") or (
        stopped["outcomeStatus"], stopped["detail"].get("stopReason")) == ("FAILURE", "user_cancelled"), stopped
    steps = sorted({e["data"]["stepOrdinal"] for e in tail if "stepOrdinal" in e["data"]})
    assert steps == list(range(steps[0], steps[0] + len(steps))) and len(steps) <= 2, steps
    assert sum(e["event"] == "agent.node.finished" and e["data"]["outcomeStatus"] == "SKIPPED" for e in tail) <= 1


def test_cancelling_a_finished_run_is_409(api, appium_server, unreachable_appium_url):
    completed = start(api, start_body(appium_server, maxSteps=1))
    failed = start(api, start_body(unreachable_appium_url, maxSteps=1))
    for run_id, end in ((completed, "run.completed"), (failed, "run.failed")):
        assert assert_one_run(read_events(api, run_id), run_id)["event"] == end

        body = assert_error(api.post(f"/run/{run_id}/cancel"), 409, "failed_precondition")

        assert body["message"]
        assert read_events(api, run_id)[-1]["event"] == end  # nothing was added


# Resuming and replaying streams

@pytest.fixture(scope="module")
def finished_run(service, appium_server) -> tuple[str, list[dict[str, Any]]]:
    """A run read live from its first event to its last."""
    with httpx.Client(base_url=service.api_url, timeout=30) as client:
        run_id = start(client, start_body(appium_server, maxSteps=3))
        return run_id, read_events(client, run_id)


def test_stream_headers(api, finished_run):
    run_id, _ = finished_run
    with open_stream(api, run_id) as (response, items):
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0].strip() == "text/event-stream"
        assert response.headers["cache-control"] == "no-cache"
        assert [kind for kind, _ in items].count("event") > 0


def test_a_replay_is_identical_to_what_was_streamed_live(api, finished_run):
    run_id, live = finished_run
    assert_one_run(live, run_id)

    assert read_events(api, run_id) == live
    assert read_events(api, run_id) == live


@pytest.mark.parametrize("how", ["Last-Event-ID", "after"])
def test_resuming_after_n_gives_exactly_the_events_after_n(api, finished_run, how):
    run_id, live = finished_run
    for n in sorted({0, 1, 2, len(live) // 2, len(live) - 2, len(live) - 1}):
        if how == "Last-Event-ID":
            resumed = read_events(api, run_id, headers={"Last-Event-ID": str(n)})
        else:
            resumed = read_events(api, run_id, params={"after": n})
        assert resumed == live[n:], n


def test_after_and_last_event_id_together_agree(api, finished_run):
    run_id, live = finished_run
    n = len(live) // 3
    assert read_events(api, run_id, headers={"Last-Event-ID": str(n)}, params={"after": n}) == live[n:]


def test_resuming_after_the_terminal_event_closes_at_once(api, finished_run):
    """A client (an EventSource) reconnects with the last id it got, the terminal one: nothing is left."""
    run_id, live = finished_run
    last = live[-1]["id"]
    for headers, params in (({"Last-Event-ID": str(last)}, None), (None, {"after": last})):
        with open_stream(api, run_id, headers, params) as (response, items):
            assert response.status_code == 200
            opened = time.monotonic()
            received: list[tuple[str, Any]] = []
            for item in items:
                received.append(item)
                if time.monotonic() - opened > 5:
                    break  # still open after 5 s: the assertion below fails
        assert time.monotonic() - opened < 5, f"stream after the terminal event stayed open: {received[:3]}"
        assert [kind for kind, _ in received if kind == "event"] == []


def test_a_stream_resumed_while_the_run_goes_on_has_no_gaps_and_no_duplicates(api, appium_server):
    run_id = start(api, start_body(appium_server, app="shop", maxSteps=4))
    first: list[dict[str, Any]] = []
    with open_stream(api, run_id) as (_, items):
        for kind, value in items:
            if kind == "event":
                first.append(value)
                if len(first) == 12:
                    break  # the client drops the connection mid-run
    assert [e["id"] for e in first] == list(range(1, 13))

    rest = read_events(api, run_id, headers={"Last-Event-ID": "12"})

    assert_one_run(first + rest, run_id)
    assert first + rest == read_events(api, run_id)


# Runs that cannot start fail fast with the cause

def fails_fast(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    began = time.monotonic()
    run_id = start(api, body)
    events = read_events(api, run_id)
    elapsed = time.monotonic() - began
    last = assert_one_run(events, run_id)
    assert last["event"] == "run.failed", last
    assert elapsed < FAILS_WITHIN_SECONDS, f"took {elapsed:.1f} s"
    assert last["data"]["error"]
    assert [e["event"] for e in events[:2]] == ["run.queued", "run.started"]
    return last


def test_a_missing_app_file_fails_with_app_not_found(api, appium_server):
    missing = REPO / "apps" / f"missing-{ULID()}.json"
    assert not missing.exists()

    last = fails_fast(api, start_body(appium_server, apkPath=str(missing)))

    assert last["data"]["stopReason"] == "app_not_found"


def test_an_unreachable_appium_server_fails_with_device_unavailable(api, unreachable_appium_url):
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{unreachable_appium_url}/status", timeout=2)  # nothing listens there

    last = fails_fast(api, start_body(unreachable_appium_url))

    assert last["data"]["stopReason"] == "device_unavailable"


def test_a_wrong_app_activity_fails_with_app_launch_failed(api, appium_server):
    last = fails_fast(api, start_body(appium_server, appActivity=".NoSuchActivity"))

    assert last["data"]["stopReason"] == "app_launch_failed"


# Many runs at once

def test_twelve_concurrent_runs_each_end_exactly_once_and_are_listed(service, appium_server):
    apps = ["notes", "settings", "shop"]

    def one_run(i: int) -> tuple[str, list[dict[str, Any]]]:
        with httpx.Client(base_url=service.api_url, timeout=30) as client:
            run_id = start(client, start_body(appium_server, app=apps[i % 3], maxSteps=2))
            return run_id, read_events(client, run_id)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(one_run, range(12)))

    assert len({run_id for run_id, _ in results}) == 12
    ends = {run_id: assert_one_run(events, run_id)["event"].removeprefix("run.") for run_id, events in results}
    assert set(ends.values()) == {"completed"}
    with httpx.Client(base_url=service.api_url, timeout=30) as client:
        def listed() -> dict[str, dict[str, Any]] | None:
            rows = {r["run_id"]: r for r in client.get("/runs", params={"limit": 500}).json()["runs"]}
            ours = {run_id: rows.get(run_id) for run_id in ends}
            return ours if all(row and row["status"] == ends[run_id] for run_id, row in ours.items()) else None

        rows = wait_for(listed, 60, "the runs table to show the twelve runs ended")
        for run_id, events in results:
            assert rows[run_id]["last_event_seq"] == events[-1]["id"]
            assert rows[run_id]["stop_reason"] == events[-1]["data"]["stopReason"] == "max_steps"
        completed = {r["run_id"] for r in client.get("/runs", params={"status": "completed", "limit": 500})
                     .json()["runs"]}
        assert set(ends) <= completed
