"""Pause and resume over HTTP, on the real service: a paused run frees its device, and a
resumed one continues where it stopped (its step count, its screen graph) on any device."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse
from ulid import ULID

from tests.fixtures.service import read_stream, start, start_body, status_of, wait_for

TERMINAL = {"run.completed", "run.failed", "run.canceled"}
SETUP_NODES = ["EnsureDevice", "ProvisionApp", "LaunchOrAttach", "WaitIdle"]
LOGIN = {"username": "alice", "password": "secret"}


def pause(client: httpx.Client, run_id: str) -> None:
    answer = client.post(f"/run/{run_id}/pause")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"runId": run_id, "status": "PAUSED"}


def resume(client: httpx.Client, run_id: str) -> None:
    answer = client.post(f"/run/{run_id}/resume")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"runId": run_id, "status": "PENDING"}


def events_until(client: httpx.Client, run_id: str, last: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The run's events up to the first one `last` accepts (a paused run's stream stays open)."""
    events = []
    with connect_sse(client, "GET", f"/run/{run_id}/stream", timeout=60) as source:
        for sse in source.iter_sse():
            if sse.data:
                events.append({"id": int(sse.id), "event": sse.event, "data": json.loads(sse.data)})
                if last(events[-1]):
                    return events
    raise AssertionError(f"the stream of {run_id} closed before the awaited event: {events[-3:]}")


def named(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda event: event["event"] == name


def at_step(step: int) -> Callable[[dict[str, Any]], bool]:
    return lambda event: event["event"] == "agent.node.started" and event["data"]["stepOrdinal"] >= step


def long_run(appium_server: str) -> dict[str, Any]:
    """Explores for tens of seconds (the settings app's deep tree), unless cancelled."""
    return start_body(appium_server, app="settings", maxSteps=1000)


def listed(client: httpx.Client, run_id: str, status: str) -> bool:
    rows = client.get("/runs", params={"status": status, "limit": 500}).json()["runs"]
    return any(row["run_id"] == run_id for row in rows)


@contextmanager
def busy(api: httpx.Client, appium_server: str, devices: int) -> Iterator[list[str]]:
    """A long run on `devices` device actors; cancelled, and ended, on leaving. They explore for
    ten seconds or more: start them right before the moment they must keep the devices busy."""
    blockers = [start(api, long_run(appium_server)) for _ in range(devices)]
    try:
        wait_for(lambda: all(status_of(api, run_id) == "running" for run_id in blockers), 60, "busy devices")
        yield blockers
    finally:
        for run_id in blockers:
            api.post(f"/run/{run_id}/cancel")
        for run_id in blockers:
            assert read_stream(api, run_id)[-1]["event"] in TERMINAL


def test_a_queued_run_leaves_the_queue_when_paused_and_runs_when_resumed(api, service, appium_server):
    with busy(api, appium_server, len(service.workers)) as blockers:
        run_id = start(api, start_body(appium_server, maxSteps=3, inputs=LOGIN))
        assert status_of(api, run_id) == "queued"

        pause(api, run_id)

        assert all(status_of(api, blocker) == "running" for blocker in blockers)  # it was queued when paused

    assert status_of(api, run_id) == "paused"
    assert [e["event"] for e in events_until(api, run_id, named("run.paused"))] == [
        "run.queued", "run.pause_requested", "run.paused"]
    wait_for(lambda: listed(api, run_id, "paused"), 30, "the runs table to show it paused")
    # Devices free up, and a run queued after the paused one gets one: the paused one had left the queue.
    later = start(api, start_body(appium_server, maxSteps=2, inputs=LOGIN))
    assert read_stream(api, later)[-1]["event"] == "run.completed"
    state = api.get(f"/run/{run_id}").json()
    assert (state["status"], state["lastEventSeq"], state["workerId"]) == ("paused", 3, None)  # never started
    assert not listed(api, run_id, "queued")

    resume(api, run_id)

    events = read_stream(api, run_id)
    assert [e["event"] for e in events[:5]] == ["run.queued", "run.pause_requested", "run.paused", "run.resumed",
                                                "run.started"]
    assert events[-1]["event"] == "run.completed" and events[-1]["data"]["stopReason"] == "max_steps"
    setup = [e["data"] for e in events if e["event"] == "agent.node.finished" and e["data"]["stepOrdinal"] == 0]
    assert [d["nodeName"] for d in setup] == SETUP_NODES  # it had never run: a plain start
    assert not any(d["detail"].get("resumed") for d in setup)


def test_a_running_run_pauses_at_a_node_boundary_frees_its_device_and_continues_where_it_stopped(
        api, service, appium_server):
    run_id = start(api, start_body(appium_server, maxSteps=25, inputs=LOGIN))
    before = events_until(api, run_id, at_step(4))
    first_worker = next(e["data"]["workerId"] for e in before if e["event"] == "run.started")

    with busy(api, appium_server, len(service.workers) - 1) as blockers:  # every other device
        pause(api, run_id)
        pause(api, run_id)  # idempotent

        paused_events = events_until(api, run_id, named("run.paused"))
        # Its device is free: the next run gets it while every other device is still busy.
        other = start(api, start_body(appium_server, maxSteps=2, inputs=LOGIN))
        other_start = events_until(api, other, named("run.started"))[-1]["data"]
        assert all(status_of(api, blocker) == "running" for blocker in blockers)
    assert other_start["workerId"] == first_worker
    assert read_stream(api, other)[-1]["event"] == "run.completed"

    assert status_of(api, run_id) == "paused"
    names = [e["event"] for e in paused_events]
    assert names.count("run.pause_requested") == 1 and not TERMINAL & set(names)
    skipped = [e["data"] for e in paused_events if e["event"] == "agent.node.finished"][-1]
    assert (skipped["outcomeStatus"], skipped["detail"]["reason"]) == ("SKIPPED", "pause requested")
    paused_at = paused_events[-1]["data"]["stepOrdinal"]
    assert paused_at >= 4
    row = wait_for(lambda: next((r for r in api.get("/runs", params={"status": "paused"}).json()["runs"]
                                 if r["run_id"] == run_id), None), 30, "the runs table to show it paused")
    assert row["processing_by"] is None and row["lease_expires_at"] is None and row["steps_taken"] == paused_at
    pause(api, run_id)  # idempotent once paused too
    assert events_until(api, run_id, named("run.paused"))[-1]["id"] == paused_events[-1]["id"]

    resume(api, run_id)
    resume(api, run_id)  # idempotent

    events = read_stream(api, run_id)
    assert events[-1]["event"] == "run.completed", events[-1]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    names = [e["event"] for e in events]
    assert names.count("run.resumed") == 1 and names.count("run.paused") == 1
    resumed_at = names.index("run.resumed")
    assert names[resumed_at + 1] == "run.started"
    after = events[resumed_at + 2:]
    # Setup again (a new Appium session, the app relaunched), at the step it stopped at, marked as resumed.
    setup = [e["data"] for e in after if e["event"] == "agent.node.finished" and e["data"]["nodeName"] in SETUP_NODES]
    assert [d["nodeName"] for d in setup] == SETUP_NODES
    assert all(d["stepOrdinal"] == paused_at and d["detail"]["resumed"] is True for d in setup)
    # Continued, not restarted: steps never go back, the next step is the one after, the budget is shared.
    steps = [e["data"]["stepOrdinal"] for e in events if e["event"] == "agent.node.started"]
    assert steps == sorted(steps)
    explored_after = [e["data"]["stepOrdinal"] for e in after
                      if e["event"] == "agent.node.started" and e["data"]["nodeName"] == "Perceive"]
    assert explored_after[0] == paused_at + 1 and explored_after[-1] <= 25
    # The same screen graph: no screen is discovered twice, and the metrics count the whole run.
    discovered = [e["data"]["screenId"] for e in events if e["event"] == "graph.screen.discovered"]
    assert len(discovered) == len(set(discovered))
    metrics = events[-1]["data"]["metrics"]
    assert metrics["screensDiscovered"] == len(discovered) and metrics["steps"] == explored_after[-1]


def test_a_paused_run_is_cancelled_at_once(api, appium_server):
    run_id = start(api, start_body(appium_server, maxSteps=50, inputs=LOGIN))
    events_until(api, run_id, at_step(2))
    pause(api, run_id)
    events_until(api, run_id, named("run.paused"))

    answer = api.post(f"/run/{run_id}/cancel")

    assert answer.status_code == 200 and answer.json()["status"] == "CANCELLED"
    events = read_stream(api, run_id)  # closes after the terminal event
    assert [e["event"] for e in events[-3:]] == ["run.paused", "run.cancel_requested", "run.canceled"]
    assert events[-1]["data"]["stopReason"] == "user_cancelled"
    assert status_of(api, run_id) == "canceled"
    for action in ("pause", "resume"):
        refused = api.post(f"/run/{run_id}/{action}")
        assert refused.status_code == 409 and refused.json()["code"] == "failed_precondition"


def test_a_finished_run_can_be_neither_paused_nor_resumed(api, appium_server):
    run_id = start(api, start_body(appium_server, maxSteps=1))
    events = read_stream(api, run_id)
    assert events[-1]["event"] == "run.completed"

    for action in ("pause", "resume"):
        answer = api.post(f"/run/{run_id}/{action}")
        body = answer.json()
        assert answer.status_code == 409 and body["code"] == "failed_precondition", answer.text
        assert "completed" in body["message"] and set(body) == {"code", "message", "details"}
    assert read_stream(api, run_id) == events  # nothing was added


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_pause_and_resume_of_an_unknown_or_malformed_run(api, action):
    unknown = api.post(f"/run/{ULID()}/{action}")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    malformed = api.post(f"/run/not-a-ulid/{action}")
    assert malformed.status_code == 400 and malformed.json()["code"] == "invalid_argument"


def test_resuming_a_run_that_was_never_paused_changes_nothing(api, appium_server):
    run_id = start(api, start_body(appium_server, maxSteps=3, inputs=LOGIN))
    events_until(api, run_id, named("run.started"))

    resume(api, run_id)

    events = read_stream(api, run_id)
    assert events[-1]["event"] == "run.completed"
    assert not any(e["event"].startswith(("run.pause", "run.resumed")) for e in events)


def test_runs_are_listed_by_status_paused_too(api):
    answer = api.get("/runs", params={"status": "paused"})
    assert answer.status_code == 200
    assert all(row["status"] == "paused" for row in answer.json()["runs"])
    refused = api.get("/runs", params={"status": "sleeping"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_argument"
