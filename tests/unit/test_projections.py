"""The runs table's row logic: what each run event changes in its run's row."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from ulid import ULID

from domain.projections import RowChange, RunsProjection, app_config_id, run_id_of, run_row_change
from domain.run import Run

LEASE = datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
APP = {"apkPath": "/apps/shop.json", "appiumServerUrl": "http://127.0.0.1:4723",
       "packageName": "com.example.shop", "appActivity": ".ShopHomeActivity"}


def new_run(app_config: dict[str, str] = APP) -> Run:
    return Run(id=ULID().to_uuid(), app_config=app_config, goal="buy dune", max_steps=12, inputs={"password": "s3cret-input"},
               tenant_id="tenant-a", project_id="project-b")


def last_event(run: Run) -> Any:
    return run.collect_events()[-1]


def running() -> Run:
    run = new_run()
    run.start("device-1/XYZ", LEASE)
    return run


def common(e: Any) -> dict[str, Any]:
    return {"updated_at": e.timestamp, "last_event_seq": e.originator_version}


def test_requested_sets_the_whole_new_row():
    run = new_run()
    e = last_event(run)

    change = run_row_change(e)

    assert change == RowChange(str(ULID.from_uuid(run.id)), {
        **common(e), "tenant_id": "tenant-a", "project_id": "project-b", "app_config_id": app_config_id(APP),
        "status": "queued", "created_at": e.timestamp, "goal": "buy dune", "max_steps": 12, "policy": "dfs",
    }, {})


def test_no_row_change_holds_the_inputs():
    run = running()
    for e in run.collect_events():
        assert not any("s3cret-input" in str(v) for v in run_row_change(e).set.values())


def test_started_sets_running_worker_lease_and_attempt():
    run = running()
    e = last_event(run)

    assert run_row_change(e).set == {
        **common(e), "status": "running", "processing_by": "device-1/XYZ", "lease_expires_at": LEASE,
        "heartbeat_at": e.timestamp, "started_at": e.timestamp, "attempt": 1,
    }


def test_a_takeover_sets_the_new_worker_and_attempt():
    run = running()
    run.start("device-2/QRS", LEASE)
    e = last_event(run)

    change = run_row_change(e).set

    assert (change["processing_by"], change["attempt"], change["status"]) == ("device-2/QRS", 2, "running")


@pytest.mark.parametrize("finish", [False, True], ids=["node_started", "node_finished"])
def test_node_events_are_heartbeats_and_count_steps(finish):
    run = running()
    run.start_node("Act", 4)
    if finish:
        run.finish_node("Act", 4, "SUCCESS", {})
    e = last_event(run)

    change = run_row_change(e)

    assert change.set == {**common(e), "heartbeat_at": e.timestamp, "steps_taken": 4}
    assert change.add == {}


@pytest.mark.parametrize("node", ["Reproduce", "CheckFixed", "Stop"])
def test_nodes_after_exploring_are_heartbeats_but_not_steps_taken(node):
    """Reproducing findings is numbered after the last step, outside maxSteps: the row shows 12 / 12, not 15 / 12."""
    run = running()
    run.start_node(node, 15)
    e = last_event(run)

    assert run_row_change(e).set == {**common(e), "heartbeat_at": e.timestamp}


def test_cancel_requested_sets_when():
    run = running()
    run.request_cancel()
    e = last_event(run)

    assert run_row_change(e).set == {**common(e), "cancel_requested_at": e.timestamp}


@pytest.mark.parametrize(("end", "status", "stop_reason"), [
    (lambda run: run.complete("explored", {}), "completed", "explored"),
    (lambda run: run.fail("device_unavailable", "gone"), "failed", "device_unavailable"),
    (lambda run: (run.request_cancel(), run.confirm_cancel()), "canceled", "user_cancelled"),
], ids=["completed", "failed", "canceled"])
def test_terminal_events_finish_the_row_and_clear_the_lease(end, status, stop_reason):
    run = running()
    end(run)
    e = last_event(run)

    assert run_row_change(e).set == {**common(e), "status": status, "stop_reason": stop_reason,
                                     "finished_at": e.timestamp, "lease_expires_at": None}


def test_a_paused_run_shows_paused_without_a_holder_and_a_resumed_one_queued():
    run = running()
    run.request_pause()
    requested = last_event(run)
    run.confirm_pause()
    paused = last_event(run)
    run.resume()
    resumed = last_event(run)

    assert run_row_change(requested).set == common(requested)  # still running until the worker stops
    assert run_row_change(paused).set == {**common(paused), "status": "paused", "processing_by": None,
                                          "lease_expires_at": None}
    assert run_row_change(resumed).set == {**common(resumed), "status": "queued"}


def test_a_queued_run_canceled_at_once_is_canceled():
    run = new_run()
    run.request_cancel()
    requested, canceled = run.collect_events()[1:]

    assert run_row_change(requested).set["cancel_requested_at"] == requested.timestamp
    assert run_row_change(canceled).set["status"] == "canceled"


@pytest.mark.parametrize(("name", "fields", "counter"), [
    ("discover_screen", {"screen_id": "s1", "activity": ".A"}, {"screens_discovered": 1}),
    ("discover_transition", {"from_screen": "s1", "action": {}, "to_screen": "s2"}, {"transitions_discovered": 1}),
    ("record_screen", {"screen_id": "s1", "activity": ".A", "package": "p", "element_count": 1, "artifacts": {}},
     {}),
    ("record_action", {"screen_id": "s1", "action": {}}, {}),
])
def test_exploration_events_add_to_their_counters_only(name, fields, counter):
    run = running()
    getattr(run, name)(step_ordinal=2, **fields)
    e = last_event(run)

    change = run_row_change(e)

    assert change.set == common(e)
    assert change.add == counter


def test_every_change_names_the_run_by_its_ulid():
    run = running()
    run.start_node("Perceive", 1)
    run.complete("max_steps", {})
    run_id = str(ULID.from_uuid(run.id))

    assert {run_row_change(e).run_id for e in run.collect_events()} == {run_id}
    assert ULID.from_str(run_id).to_uuid() == run.id


# app_config_id: a natural key

def test_the_same_app_configuration_has_the_same_id():
    assert app_config_id(dict(APP)) == app_config_id(dict(reversed(list(APP.items()))))
    assert app_config_id(new_run().app_config) == app_config_id(new_run().app_config)


@pytest.mark.parametrize("field", sorted(APP))
def test_any_difference_makes_another_configuration(field):
    other = {**APP, field: APP[field] + "x"}

    assert app_config_id(other) != app_config_id(APP)


def test_app_config_id_is_a_uuid_string():
    from uuid import UUID

    value = app_config_id(APP)
    assert str(UUID(value)) == value


# RunsProjection: which view call each event makes

class FakeView:
    def __init__(self) -> None:
        self.pages: list[tuple[list[tuple[RowChange, dict | None]], Tracking]] = []

    def apply(self, changes: list[tuple[RowChange, dict | None]], tracking: Tracking) -> None:
        self.pages.append((list(changes), tracking))


class Other(Aggregate):
    """An aggregate that is not a run, in the same notification log."""


def test_the_projection_hands_the_app_config_with_the_requested_event_only():
    view = FakeView()
    run = running()
    events = run.collect_events()

    RunsProjection(view).process_page([(e, Tracking("RunService", n)) for n, e in enumerate(events, start=1)])

    [(changes, tracking)] = view.pages  # one page: one call, with the page's last position
    assert [app_config for _, app_config in changes] == [APP, None]
    assert [c.run_id for c, _ in changes] == [run_id_of(e) for e in events]
    assert [c.set["status"] for c, _ in changes] == ["queued", "running"]
    assert tracking.notification_id == len(events)


def test_the_projection_tracks_events_of_other_aggregates_without_a_row():
    view = FakeView()
    other = Other()

    RunsProjection(view).process_event(other.collect_events()[0], Tracking("RunService", 7))

    assert [(changes, t.notification_id) for changes, t in view.pages] == [([], 7)]
