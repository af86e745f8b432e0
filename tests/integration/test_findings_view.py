"""The findings projection on PostgreSQL (storage/findings_view.py), run a page of the log at a time
(actors/projector.py), and the runs table's count of findings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from ulid import ULID

from actors.projector import PagedProjectionRunner, findings_runner, projections_runner
from domain.application import RunRequest, RunService, parse_run_id
from domain.findings.projection import FindingFact, FindingsProjection, build_findings
from storage.findings_view import FindingsView, open_findings_view
from storage.schema import create_tables
from tests.integration.test_runs_projection import row
from domain.run import Run

WAIT_SECONDS = 10
STEPS = [{"kind": "type", "target": ["id", "com.example.notes:id/password"], "label": "type password",
          "actionId": "type:password", "fromScreen": "login", "toScreen": "login", "inputKey": "password"},
         {"kind": "tap", "target": ["id", "com.example.notes:id/crash"], "label": 'tap "Sync now"',
          "actionId": "tap:crash", "fromScreen": "home", "toScreen": None}]
CRASH = {"exception": "java.lang.IllegalStateException", "message": "Sync failed: no network",
         "frames": ["com.example.notes.sync.SyncWorker.run(SyncWorker.java:42)", "android.os.Handler.dispatch"]}


@pytest.fixture
def view(pg_env: dict[str, str]) -> Iterator[FindingsView]:
    findings_view = open_findings_view(pg_env)
    yield findings_view
    findings_view.datastore.close()


@contextmanager
def running_projection(env: dict[str, str]) -> Iterator[PagedProjectionRunner]:
    runner = findings_runner(env)
    with runner:
        yield runner
    runner.view.datastore.close()


def caught_up(view: FindingsView, runs: RunService) -> None:
    """Until the view has tracked the last finding event stored so far (its subscription reads only those)."""
    found = runs.recorder.select_notifications(start=None, limit=1_000_000, topics=FindingsProjection.topics)
    assert found, "no finding event stored: nothing to wait for"
    view.wait(RunService.name, found[-1].id, timeout=WAIT_SECONDS)


def new_running_run(runs: RunService) -> str:
    run = runs.request_run(RunRequest("/apps/notes.json", "http://127.0.0.1:4723", "com.example.notes",
                                      ".ConsentActivity", inputs={"password": "s3cret"}))
    run_id = str(ULID.from_uuid(run.id))
    runs.start_run(run_id, "device-sim-0/ABCDEFGH", lease_seconds=30)
    return run_id


def detect(runs: RunService, run_id: str, finding_id: str, step: int, kind: str = "crash") -> None:
    runs.record(run_id, Run.detect_finding, finding_id=finding_id, kind=kind, title=f"Notes keeps stopping ({kind})",
                signature=f"{kind}|{finding_id}", step_ordinal=step, screen_id="home", activity=".HomeActivity",
                action_id="tap:crash", details=CRASH if kind == "crash" else {"rule": "TouchTargetSizeCheck"},
                artifacts={"screenshot": f"shot-{step}", "pageSource": f"src-{step}", "logcat": f"log-{step}"})


def crash_met_four_times_and_reproduced(runs: RunService, run_id: str, finding_id: str = "crash-1") -> None:
    detect(runs, run_id, finding_id, 3)
    for step in (5, 7, 9):
        runs.record(run_id, Run.record_recurrence, finding_id=finding_id, step_ordinal=step)
    runs.record(run_id, Run.record_reproduction, finding_id=finding_id, attempts=2, reproduced=1, steps=STEPS)


def stored_events(runs: RunService, *run_ids: str) -> list[Any]:
    """The runs' events in log order, as a replay reads them."""
    originators = {parse_run_id(run_id).to_uuid() for run_id in run_ids}
    notifications = runs.recorder.select_notifications(start=None, limit=1_000_000)
    return [runs.mapper.to_domain_event(n) for n in notifications if n.originator_id in originators]


def test_detected_recurred_and_reproduced_make_one_row_each_finding(pg_env, runs, view):
    with running_projection(pg_env):
        run_id, other_id = new_running_run(runs), new_running_run(runs)
        detect(runs, run_id, "a11y-1", 1, kind="accessibility")
        crash_met_four_times_and_reproduced(runs, run_id)
        detect(runs, other_id, "crash-2", 2)
        caught_up(view, runs)
    a11y, crash = view.get_findings(run_id)
    assert crash == {
        "findingId": "crash-1", "kind": "crash", "title": "Notes keeps stopping (crash)", "signature": "crash|crash-1",
        "firstStep": 3, "occurrences": 4, "screenId": "home", "activity": ".HomeActivity", "actionId": "tap:crash",
        "details": CRASH, "artifacts": {"screenshot": "shot-3", "pageSource": "src-3", "logcat": "log-3"},
        "reproduction": {"steps": STEPS, "attempts": 2, "reproduced": 1},
    }
    assert (a11y["findingId"], a11y["firstStep"], a11y["occurrences"], a11y["reproduction"]) == ("a11y-1", 1, 1, None)
    assert view.get_finding(run_id, "crash-1") == crash
    assert view.get_finding(run_id, "crash-2") is None  # another run's finding
    assert [f["findingId"] for f in view.get_findings(other_id)] == ["crash-2"]
    assert view.all_rows() == build_findings(stored_events(runs, run_id, other_id))


def test_a_page_applied_twice_changes_nothing(pg_env, runs, view):
    run_id = new_running_run(runs)
    with running_projection(pg_env):
        crash_met_four_times_and_reproduced(runs, run_id)
        caught_up(view, runs)
    before = view.all_rows()
    position = view.max_tracking_id(RunService.name)
    again = FindingFact(run_id, "crash-1", occurrences=1)
    view.apply([(position, again)], Tracking(RunService.name, position))
    view.apply([(position - 1, again)], Tracking(RunService.name, position - 1))
    assert view.all_rows() == before
    assert view.max_tracking_id(RunService.name) == position

    # A page reaching past the position: what it tracked already is skipped, the rest is applied.
    view.apply([(position, again), (position + 1, again)], Tracking(RunService.name, position + 1))
    assert [r["occurrences"] for r in view.all_rows()] == [5]
    assert view.max_tracking_id(RunService.name) == position + 1


def test_a_restarted_runner_applies_each_event_exactly_once(pg_env, runs, view):
    run_id = new_running_run(runs)
    with running_projection(pg_env):
        detect(runs, run_id, "crash-1", 3)
        runs.record(run_id, Run.record_recurrence, finding_id="crash-1", step_ordinal=5)
        caught_up(view, runs)
    for step in (7, 9):  # stored while no runner runs
        runs.record(run_id, Run.record_recurrence, finding_id="crash-1", step_ordinal=step)
    with running_projection(pg_env):
        caught_up(view, runs)
    assert [f["occurrences"] for f in view.get_findings(run_id)] == [4]
    assert view.all_rows() == build_findings(stored_events(runs, run_id))


def test_dropping_the_table_and_replaying_rebuilds_it_identically(pg_env, database_url, runs, view):
    with running_projection(pg_env):
        first, second = new_running_run(runs), new_running_run(runs)
        crash_met_four_times_and_reproduced(runs, first)
        detect(runs, second, "a11y-2", 1, kind="accessibility")
        detect(runs, first, "anr-1", 11, kind="anr")
        caught_up(view, runs)
    before = view.all_rows()
    assert len(before) == 3
    view.drop_tables()
    create_tables(database_url)  # what the service does at start-up
    assert view.all_rows() == []
    with running_projection(pg_env):
        caught_up(view, runs)
    assert view.all_rows() == before


def test_the_read_waits_for_the_run_s_latest_finding_event_not_its_latest_event(pg_env, runs, view):
    run_id = new_running_run(runs)
    assert runs.last_position(run_id, FindingsProjection.topics) is None
    crash_met_four_times_and_reproduced(runs, run_id)
    position = runs.last_position(run_id, FindingsProjection.topics)
    runs.complete_run(run_id, "max_steps", {"steps": 9})  # after the findings: no finding topic
    assert position is not None and position < runs.last_position(run_id)
    assert not view.caught_up(runs.name, position, timeout=0.2)  # no runner yet
    with running_projection(pg_env):
        assert view.caught_up(runs.name, position, timeout=WAIT_SECONDS)
    assert [f["occurrences"] for f in view.get_findings(run_id)] == [4]


def test_the_runs_table_counts_the_run_s_findings(pg_env, database_url, runs):
    run_id = new_running_run(runs)
    detect(runs, run_id, "a11y-1", 1, kind="accessibility")
    crash_met_four_times_and_reproduced(runs, run_id)  # recurrences and reproduction are no new findings
    with projections_runner(pg_env) as runner:  # the JobQueue's runner: the runs table and the findings
        runner.wait(runs.recorder.max_notification_id(), timeout=WAIT_SECONDS)
        findings_view = runner.views[2]
        caught_up(findings_view, runs)
        assert row(database_url, run_id)["findings"] == 2
        assert [f["findingId"] for f in findings_view.get_findings(run_id)] == ["a11y-1", "crash-1"]
    for view in runner.views:
        view.datastore.close()
