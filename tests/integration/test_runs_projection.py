"""The runs table on PostgreSQL, kept a page of the log at a time (actors/projector.py).

Rows hold every DESIGN.md column; each notification is applied exactly once,
even across runner restarts; dropping the tables and replaying rebuilds them
identically.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from psycopg.rows import dict_row
from ulid import ULID

from actors.projector import runs_projection_runner
from domain.application import RunRequest, RunService
from domain.projections import app_config_id, run_row_change
from domain.run import Run

WAIT_SECONDS = 20.0  # a deadline for the runner to catch up, not a sleep
DESIGN_COLUMNS = {
    "run_id", "tenant_id", "project_id", "app_config_id", "status", "created_at", "updated_at", "processing_by",
    "lease_expires_at", "heartbeat_at", "started_at", "finished_at", "cancel_requested_at", "stop_reason",
}
NOTES = {"apk_path": "/apps/notes.json", "appium_server_url": "http://127.0.0.1:4723",
         "package_name": "com.example.notes", "app_activity": ".ConsentActivity"}
SHOP = {"apk_path": "/apps/shop.json", "appium_server_url": "http://127.0.0.1:4723",
        "package_name": "com.example.shop", "app_activity": ".ShopHomeActivity"}


def request(runs: RunService, app: dict[str, str] = NOTES, **fields: Any) -> str:
    run = runs.request_run(RunRequest(**app, **{"max_steps": 6, "goal": "log in", **fields}))
    return str(ULID.from_uuid(run.id))


def caught_up(runner: Any, runs: RunService) -> None:
    """Waits until the runner has tracked every notification written so far."""
    runner.wait(runs.recorder.max_notification_id(), timeout=WAIT_SECONDS)


def rows(database_url: str, table: str) -> list[dict[str, Any]]:
    key = {"runs": "run_id", "app_configs": "app_config_id"}[table]
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()


def row(database_url: str, run_id: str) -> dict[str, Any]:
    return {r["run_id"]: r for r in rows(database_url, "runs")}[run_id]


def stored(runs: RunService, run_id: str) -> dict[str, Any]:
    """The run's stored events by type name (the last of each)."""
    return {type(e).__name__: e for e in runs.events.get(ULID.from_str(run_id).to_uuid())}


def explore(runs: RunService, run_id: str, steps: range, worker: str = "device-0") -> None:
    for step in steps:
        runs.start_node(run_id, "Perceive", step, worker)
        runs.record(run_id, Run.discover_screen, worker, step_ordinal=step, screen_id=f"s{step}", activity=".A")
        runs.record(run_id, Run.discover_transition, worker, step_ordinal=step, from_screen=f"s{step - 1}",
                    action={"kind": "tap"}, to_screen=f"s{step}")
        runs.record(run_id, Run.record_screen, worker, step_ordinal=step, screen_id=f"s{step}", activity=".A",
                    package="com.example.notes", element_count=4, artifacts={})
        runs.finish_node(run_id, "Perceive", step, "SUCCESS", worker)


def a_history(runs: RunService) -> dict[str, str]:
    """Runs in every state, two of them on one app configuration."""
    canceled = request(runs, inputs={"password": "secret"})
    runs.start_run(canceled, "device-0", lease_seconds=30)
    explore(runs, canceled, range(1, 4))
    runs.cancel_run(canceled)
    runs.start_node(canceled, "Act", 3, "device-0")
    runs.finish_node(canceled, "Act", 3, "SKIPPED", "device-0")
    runs.confirm_cancel(canceled, "device-0")

    completed = request(runs, SHOP, goal=None, max_steps=2)
    runs.start_run(completed, "device-1", lease_seconds=30)
    runs.start_run(completed, "device-2", lease_seconds=30)  # device-1 was lost: taken over
    explore(runs, completed, range(1, 3), worker="device-2")
    runs.complete_run(completed, "max_steps", {"steps": 2}, "device-2")

    failed = request(runs)
    runs.fail_run(failed, "app_not_found", "no such file")

    canceled_queued = request(runs)
    runs.cancel_run(canceled_queued)

    running = request(runs)
    runs.start_run(running, "device-3", lease_seconds=30)
    runs.start_node(running, "EnsureDevice", 0, "device-3")

    queued = request(runs, goal="x" * 2000, max_steps=1000)
    return {"canceled": canceled, "completed": completed, "failed": failed, "canceled_queued": canceled_queued,
            "running": running, "queued": queued}


def test_rows_hold_every_column_after_a_sequence_of_events(pg_env, database_url, runs):
    ids = a_history(runs)

    with runs_projection_runner(pg_env) as runner:
        caught_up(runner, runs)

    table = {r["run_id"]: r for r in rows(database_url, "runs")}
    assert set(table) == set(ids.values())
    assert DESIGN_COLUMNS <= set(table[ids["queued"]])

    e = stored(runs, ids["canceled"])
    assert table[ids["canceled"]] == {
        "run_id": ids["canceled"], "tenant_id": "local", "project_id": "default",
        "app_config_id": app_config_id(e["Requested"].app_config), "status": "canceled",
        "created_at": e["Requested"].timestamp, "updated_at": e["Canceled"].timestamp,
        "processing_by": "device-0", "lease_expires_at": None, "heartbeat_at": e["NodeFinished"].timestamp,
        "started_at": e["Started"].timestamp, "finished_at": e["Canceled"].timestamp,
        "cancel_requested_at": e["CancelRequested"].timestamp, "stop_reason": "user_cancelled", "goal": "log in",
        "max_steps": 6, "attempt": 1, "steps_taken": 3, "screens_discovered": 3, "transitions_discovered": 3,
        "last_event_seq": runs.get_run(ids["canceled"]).version, "policy": "dfs", "findings": 0,
        "memory": "cold", "version_code": None, "version_name": None,  # a run of no known version, not warm
    }

    e = stored(runs, ids["completed"])
    completed = table[ids["completed"]]
    assert (completed["status"], completed["stop_reason"], completed["processing_by"]) == (
        "completed", "max_steps", "device-2")
    assert (completed["attempt"], completed["steps_taken"], completed["screens_discovered"]) == (2, 2, 2)
    assert (completed["started_at"], completed["finished_at"]) == (e["Started"].timestamp, e["Completed"].timestamp)
    assert completed["goal"] is None and completed["cancel_requested_at"] is None

    failed = table[ids["failed"]]
    assert (failed["status"], failed["stop_reason"], failed["started_at"], failed["processing_by"]) == (
        "failed", "app_not_found", None, None)
    assert failed["finished_at"] == stored(runs, ids["failed"])["Failed"].timestamp

    e = stored(runs, ids["canceled_queued"])
    assert table[ids["canceled_queued"]]["status"] == "canceled"
    assert table[ids["canceled_queued"]]["cancel_requested_at"] == e["CancelRequested"].timestamp
    assert table[ids["canceled_queued"]]["last_event_seq"] == 3

    e = stored(runs, ids["running"])
    running = table[ids["running"]]
    assert (running["status"], running["processing_by"], running["lease_expires_at"]) == (
        "running", "device-3", e["Started"].lease_expires_at)
    assert running["finished_at"] is None and running["stop_reason"] is None
    assert running["heartbeat_at"] == e["NodeStarted"].timestamp

    queued = table[ids["queued"]]
    assert (queued["status"], queued["max_steps"], queued["goal"], queued["attempt"], queued["steps_taken"]) == (
        "queued", 1000, "x" * 2000, 0, 0)
    assert queued["created_at"] == queued["updated_at"] == stored(runs, ids["queued"])["Requested"].timestamp
    assert all(queued[c] is None for c in ("processing_by", "lease_expires_at", "heartbeat_at", "started_at",
                                           "finished_at", "cancel_requested_at", "stop_reason"))


def test_app_configurations_have_their_own_table_one_row_per_configuration(pg_env, database_url, runs):
    ids = a_history(runs)

    with runs_projection_runner(pg_env) as runner:
        caught_up(runner, runs)

    configs = {r["app_config_id"]: r for r in rows(database_url, "app_configs")}
    assert len(configs) == 2
    table = {r["run_id"]: r for r in rows(database_url, "runs")}
    notes_id = table[ids["canceled"]]["app_config_id"]
    assert {table[ids[k]]["app_config_id"] for k in ("failed", "queued", "running", "canceled_queued")} == {notes_id}
    assert table[ids["completed"]]["app_config_id"] != notes_id
    first = stored(runs, ids["canceled"])["Requested"]
    assert configs[notes_id] == {"app_config_id": notes_id, **NOTES, "created_at": first.timestamp}
    assert {k: configs[table[ids["completed"]]["app_config_id"]][k] for k in SHOP} == SHOP


def test_a_restarted_runner_applies_each_event_exactly_once(pg_env, database_url, runs):
    run_id = request(runs)
    runs.start_run(run_id, "device-0", lease_seconds=30)
    explore(runs, run_id, range(1, 4))

    with runs_projection_runner(pg_env) as first:
        caught_up(first, runs)
    assert row(database_url, run_id)["screens_discovered"] == 3

    explore(runs, run_id, range(4, 6))  # written while no runner runs

    with runs_projection_runner(pg_env) as second:
        caught_up(second, runs)
        after_restart = row(database_url, run_id)
        runs.complete_run(run_id, "max_steps", {}, "device-0")
        caught_up(second, runs)

    with runs_projection_runner(pg_env) as third:  # nothing new: must change nothing
        caught_up(third, runs)

    assert (after_restart["screens_discovered"], after_restart["transitions_discovered"]) == (5, 5)
    final = row(database_url, run_id)
    assert (final["screens_discovered"], final["transitions_discovered"], final["steps_taken"]) == (5, 5, 5)
    assert (final["status"], final["last_event_seq"]) == ("completed", runs.get_run(run_id).version)


def test_a_notification_applied_again_is_refused_and_changes_nothing(pg_env, database_url, runs):
    run_id = request(runs)
    runs.start_run(run_id, "device-0", lease_seconds=30)
    runs.record(run_id, Run.discover_screen, step_ordinal=1, screen_id="s1", activity=".A")

    with runs_projection_runner(pg_env) as runner:
        caught_up(runner, runs)
        view = runner.view
        before = row(database_url, run_id)
        last = runs.recorder.select_notifications(start=None, limit=1000)[-1]
        discovered = runs.mapper.to_domain_event(last)
        assert isinstance(discovered, Run.ScreenDiscovered)

        with pytest.raises(IntegrityError):  # a redelivered notification, e.g. after a crash before the ack
            view.apply([(run_row_change(discovered), None)], Tracking(RunService.name, last.id))

    assert row(database_url, run_id) == before
    assert before["screens_discovered"] == 1


def test_dropping_the_tables_and_replaying_rebuilds_identical_rows(pg_env, database_url, runs):
    a_history(runs)
    with runs_projection_runner(pg_env) as runner:
        caught_up(runner, runs)
        view = runner.view
    original = {table: rows(database_url, table) for table in ("runs", "app_configs")}
    assert len(original["runs"]) == 6 and len(original["app_configs"]) == 2

    view.drop_tables()
    view.datastore.close()
    with psycopg.connect(database_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert not {"runs", "app_configs", "runs_projection_tracking"} & tables

    with runs_projection_runner({**pg_env, "CREATE_TABLE": "y"}) as rebuilt:
        caught_up(rebuilt, runs)

    assert {table: rows(database_url, table) for table in original} == original
