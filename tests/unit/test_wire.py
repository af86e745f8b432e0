"""How stored run events look to clients: SSE event names and data (DESIGN.md, SSE contract)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from ulid import ULID

from domain.run import Run
from domain.wire import iso, to_wire

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LEASE = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
SECRET_INPUTS = {"password": "hunter2-secret"}
APP_CONFIG = {"apkPath": "/private/apps/notes.json", "appiumServerUrl": "http://10.0.0.9:4723",
              "packageName": "com.example.notes", "appActivity": ".ConsentActivity"}


def every_kind_of_event(cancel: bool = True) -> tuple[str, list[Any]]:
    """One run that goes through every event kind; returns its ULID and its events."""
    run_ulid = ULID()
    run = Run(id=run_ulid.to_uuid(), app_config=APP_CONFIG, goal="find the cart", max_steps=9,
              inputs=SECRET_INPUTS, tenant_id="tenant-a", project_id="project-b")
    run.start("device-0/ABC", LEASE)
    run.start_node("Perceive", 1)
    run.finish_node("Perceive", 1, "SUCCESS", {"screenId": "s1", "durationMs": 1.5})
    run.record_screen(step_ordinal=1, screen_id="s1", activity=".Home", package="com.example.notes",
               element_count=12, artifacts={"pageSource": "abc", "screenshot": "def"})
    run.record_action(step_ordinal=1, screen_id="s1", action={"kind": "tap", "label": "Cart"})
    run.discover_screen(step_ordinal=1, screen_id="s1", activity=".Home")
    run.discover_transition(step_ordinal=1, from_screen="s1", action={"kind": "tap"}, to_screen="s2")
    run.record_llm_call(step_ordinal=1, purpose="rank", model="gemma", prompt_tokens=90, completion_tokens=6,
               latency_ms=812.5, cached=False, outcome="chosen", reason=None, action_id="tap:Cart", goal_reached=None)
    if cancel:
        run.request_cancel()
        run.confirm_cancel()
    else:
        run.complete("max_steps", {"steps": 9, "screensDiscovered": 2})
    return str(run_ulid), run.collect_events()


EXPECTED_NAMES = [
    "run.queued", "run.started", "agent.node.started", "agent.node.finished", "agent.screen.perceived",
    "agent.action.performed", "graph.screen.discovered", "graph.transition.discovered", "agent.llm.called",
    "run.cancel_requested", "run.canceled",
]


def test_pause_and_resume_events_have_their_contract_names_and_say_where_and_how():
    run = Run(id=ULID().to_uuid(), app_config=APP_CONFIG, goal=None, max_steps=9, inputs={},
              tenant_id="t", project_id="p")
    run.start("device-0/ABC", LEASE)
    run.start_node("Act", 4)
    run.request_pause()
    run.confirm_pause()
    run.resume()

    wire = [to_wire(e) for e in run.collect_events()[3:]]

    assert [w.name for w in wire] == ["run.pause_requested", "run.paused", "run.resumed"]
    assert wire[1].data["stepOrdinal"] == 4 and wire[2].data["status"] == "queued"
    assert not any(w.is_terminal for w in wire)


def test_each_event_kind_has_its_contract_name_and_sequence():
    _, events = every_kind_of_event()

    wire = [to_wire(e) for e in events]

    assert [w.name for w in wire] == EXPECTED_NAMES
    assert [w.seq for w in wire] == list(range(1, len(events) + 1))
    assert all(w.data["seq"] == w.seq for w in wire)


@pytest.mark.parametrize(("end", "name", "data"), [
    (lambda run: run.complete("goal_reached", {"steps": 3}), "run.completed",
     {"stopReason": "goal_reached", "metrics": {"steps": 3}}),
    (lambda run: run.fail("app_launch_failed", "no such activity"), "run.failed",
     {"stopReason": "app_launch_failed", "error": "no such activity"}),
    (lambda run: (run.request_cancel(), run.confirm_cancel()), "run.canceled", {"stopReason": "user_cancelled"}),
], ids=["completed", "failed", "canceled"])
def test_terminal_events_carry_their_stop_reason_and_are_terminal(end, name, data):
    run = Run(id=ULID().to_uuid(), app_config=APP_CONFIG, goal=None, max_steps=1, inputs={},
              tenant_id="t", project_id="p")
    run.start("device-0", LEASE)
    end(run)

    wire = [to_wire(e) for e in run.collect_events()]

    assert wire[-1].name == name and wire[-1].is_terminal
    assert {k: wire[-1].data[k] for k in data} == data
    assert [w.is_terminal for w in wire] == [False] * (len(wire) - 1) + [True]


def test_run_id_is_the_ulid_of_the_aggregate_id():
    run_id, events = every_kind_of_event()

    for event in events:
        data = to_wire(event).data
        assert data["runId"] == run_id
        assert ULID.from_str(data["runId"]).to_uuid() == event.originator_id


def test_timestamps_are_iso_utc_with_milliseconds_and_z():
    _, events = every_kind_of_event()

    for event in events:
        ts = to_wire(event).data["ts"]
        assert ISO_Z.match(ts), ts
        parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        assert abs(parsed - event.timestamp) < timedelta(milliseconds=1)


def test_datetime_fields_are_iso_utc_too():
    _, events = every_kind_of_event()

    started = to_wire(events[1]).data

    assert started["leaseExpiresAt"] == "2031-05-06T07:08:09.123Z"


@pytest.mark.parametrize(("ts", "expected"), [
    (datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=timezone.utc), "2026-11-26T10:00:00.123Z"),
    (datetime(2026, 11, 26, 10, 0, 0, 999999, tzinfo=timezone.utc), "2026-11-26T10:00:00.999Z"),
    (datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc), "2026-11-26T10:00:00.000Z"),
    (datetime(2026, 11, 26, 12, 30, 0, 5000, tzinfo=timezone(timedelta(hours=2, minutes=30))),
     "2026-11-26T10:00:00.005Z"),
    (datetime(2026, 1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=3))), "2025-12-31T22:00:00.000Z"),
])
def test_iso_converts_to_utc(ts, expected):
    assert iso(ts) == expected


def test_field_names_are_camel_case():
    _, events = every_kind_of_event()
    data = {w.name: w.data for w in map(to_wire, events)}

    assert data["run.queued"] == {"runId": data["run.queued"]["runId"], "seq": 1, "ts": data["run.queued"]["ts"],
                                  "goal": "find the cart", "maxSteps": 9, "tenantId": "tenant-a",
                                  "projectId": "project-b", "policy": "dfs"}
    assert {k: data["run.started"][k] for k in ("workerId", "attempt")} == {"workerId": "device-0/ABC", "attempt": 1}
    assert {k: data["agent.node.started"][k] for k in ("nodeName", "stepOrdinal")} == {"nodeName": "Perceive",
                                                                                        "stepOrdinal": 1}
    assert data["agent.node.finished"]["outcomeStatus"] == "SUCCESS"
    assert data["agent.node.finished"]["detail"] == {"screenId": "s1", "durationMs": 1.5}
    assert data["agent.screen.perceived"]["elementCount"] == 12
    assert {k: v for k, v in data["agent.llm.called"].items() if k not in ("runId", "seq", "ts")} == {
        "stepOrdinal": 1, "purpose": "rank", "model": "gemma", "promptTokens": 90, "completionTokens": 6,
        "latencyMs": 812.5, "cached": False, "outcome": "chosen", "reason": None, "actionId": "tap:Cart",
        "goalReached": None}
    assert (data["graph.transition.discovered"]["fromScreen"], data["graph.transition.discovered"]["toScreen"]) == (
        "s1", "s2")
    for fields in data.values():
        assert all("_" not in key for key in fields), fields


def test_inputs_and_app_config_never_reach_clients():
    _, events = every_kind_of_event()

    for event in events:
        data = to_wire(event).data
        serialised = json.dumps(data)
        assert not {"inputs", "appConfig", "app_config"} & set(data)
        assert "hunter2-secret" not in serialised and "/private/apps" not in serialised
        assert not {"originatorId", "originatorVersion", "originatorTopic", "timestamp"} & set(data)


def test_wire_data_is_json_and_the_same_every_time():
    """A replay is identical to what was sent live: the mapping depends on the stored event only."""
    _, events = every_kind_of_event(cancel=False)

    first = [json.dumps(to_wire(e).data) for e in events]
    again = [json.dumps(to_wire(e).data) for e in events]

    assert first == again
    assert [json.loads(line)["seq"] for line in first] == list(range(1, len(events) + 1))
