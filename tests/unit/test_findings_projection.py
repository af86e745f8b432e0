"""The findings' pure row logic and what test.py and report.xml are told of a run: no database, no Ray."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from ulid import ULID

from domain.findings.projection import FINDING_EVENTS, FindingFact, FindingsProjection, build_findings, merge_finding
from domain.findings.run_facts import device_caps_of, run_for_report, run_for_test
from domain.projections import run_row_change
from domain.run import Run
from domain.sessions import session_capabilities

APP = {"apkPath": "/apps/notes.json", "appiumServerUrl": "http://127.0.0.1:4723",
       "packageName": "com.example.notes", "appActivity": ".ConsentActivity"}
STEPS = [{"kind": "tap", "target": ["id", "com.example.notes:id/crash"], "label": 'tap "Sync now"',
          "actionId": "tap:crash", "fromScreen": "home", "toScreen": None}]
CRASH = {"exception": "java.lang.IllegalStateException", "message": "sync failed",
         "frames": ["com.example.notes.SyncManager.sync(SyncManager.java:42)"]}


def new_run(inputs: dict[str, str] | None = None) -> tuple[Run, str]:
    run_id = ULID()
    run = Run(id=run_id.to_uuid(), app_config=APP, goal=None, max_steps=10, inputs=inputs or {},
              tenant_id="t", project_id="p")
    run.start("device-sim-1/ABCDEFGH", datetime.now(timezone.utc))
    return run, str(run_id)


def detect(run: Run, finding_id: str, step: int, kind: str = "crash") -> None:
    run.detect_finding(finding_id=finding_id, kind=kind, title=f"{kind} on home",
               signature=f"{kind}|sig-{finding_id}", step_ordinal=step, screen_id="home", activity=".HomeActivity",
               action_id="tap:crash", details=CRASH if kind == "crash" else {"rule": "TouchTargetSizeCheck"},
               artifacts={"screenshot": "shot-1", "pageSource": "src-1"})


def crashed_run() -> tuple[list[Any], str]:
    """A crash met at step 2 and three times more, reproduced 1 of 2; an accessibility finding at step 1."""
    run, run_id = new_run()
    detect(run, "a11y", 1, kind="accessibility")
    detect(run, "crash", 2)
    for step in (4, 6, 8):
        run.record_recurrence(finding_id="crash", step_ordinal=step)
    run.record_reproduction(finding_id="crash", attempts=2, reproduced=1, steps=STEPS)
    return run.collect_events(), run_id


def test_a_detection_starts_the_row_and_recurrences_count_occurrences():
    events, run_id = crashed_run()
    a11y, crash = build_findings(events)
    assert (a11y["finding_id"], a11y["kind"], a11y["first_step"], a11y["occurrences"], a11y["reproduction"]) == (
        "a11y", "accessibility", 1, 1, None)
    assert crash == {
        "finding_id": "crash", "run_id": run_id, "kind": "crash", "title": "crash on home",
        "signature": "crash|sig-crash", "first_step": 2, "occurrences": 4, "screen_id": "home",
        "activity": ".HomeActivity", "action_id": "tap:crash", "details": CRASH,
        "artifacts": {"screenshot": "shot-1", "pageSource": "src-1"},
        "reproduction": {"steps": STEPS, "attempts": 2, "reproduced": 1},
    }


def test_the_latest_reproduction_wins_and_occurrences_stay():
    run, _ = new_run()
    detect(run, "crash", 2)
    run.record_reproduction(finding_id="crash", attempts=2, reproduced=0, steps=STEPS)
    run.record_reproduction(finding_id="crash", attempts=2, reproduced=2, steps=STEPS)  # resumed: again
    [row] = build_findings(run.collect_events())
    assert (row["occurrences"], row["reproduction"]["reproduced"]) == (1, 2)


def test_facts_of_no_detected_finding_change_no_row():
    assert merge_finding(None, FindingFact("r", "f", occurrences=1)) is None
    reproduction = {"steps": [], "attempts": 2, "reproduced": 0}
    assert merge_finding(None, FindingFact("r", "f", reproduction=reproduction)) is None


def test_a_second_detection_is_an_occurrence_of_the_first():
    run, _ = new_run()
    detect(run, "crash", 2)
    detect(run, "crash", 5)
    [row] = build_findings(run.collect_events())
    assert (row["first_step"], row["occurrences"]) == (2, 2)


def test_the_projection_reads_only_the_findings_events_and_hands_a_page_over_with_its_last_position():
    assert set(FindingsProjection.topics) == {get_topic(Run.FindingDetected), get_topic(Run.FindingRecurred),
                                              get_topic(Run.FindingReproduced)}
    events, _ = crashed_run()

    class View:
        def __init__(self) -> None:
            self.applied: list[tuple[list[Any], Tracking]] = []

        def apply(self, facts: list[Any], tracking: Tracking) -> None:
            self.applied.append((facts, tracking))

    view = View()
    page = [(e, Tracking("RunService", n)) for n, e in enumerate(events, 1)]
    FindingsProjection(view=view).process_page(page)
    [(facts, tracking)] = view.applied
    assert tracking.notification_id == len(events)
    assert [n for n, _ in facts] == [n for n, (e, _) in enumerate(page, 1) if isinstance(e, FINDING_EVENTS)]
    assert len(facts) == 6  # 2 detections, 3 recurrences, 1 reproduction; not the run's request or start


def test_the_runs_table_counts_each_detection_once():
    events, _ = crashed_run()
    assert sum(run_row_change(e).add.get("findings", 0) for e in events) == 2


def test_the_test_is_told_the_session_and_the_inputs_keys_never_their_values():
    run, run_id = new_run(inputs={"password": "s3cret", "username": "ada"})
    devices = {"device-sim-1": {"appium:automationName": "Simulator", "appium:udid": "sim-1"}}
    caps = device_caps_of(run.worker_id, devices, "Simulator")
    told = run_for_test(run, caps)
    assert told == {"runId": run_id, "app": APP, "inputs": ["password", "username"],
                    "capabilities": session_capabilities(APP, devices["device-sim-1"])}
    assert told["capabilities"]["appium:udid"] == "sim-1"
    assert "s3cret" not in repr(told) and "ada" not in repr(told)


def test_a_run_no_known_device_held_gets_the_service_s_driver_only():
    assert device_caps_of(None, {}, "UiAutomator2") == {"appium:automationName": "UiAutomator2"}
    assert device_caps_of("device-gone/ABC", {"device-sim-0": {"appium:udid": "sim-0"}}, "Simulator") == {
        "appium:automationName": "Simulator"}


def test_the_report_is_told_a_completed_run_s_metrics():
    run, run_id = new_run()
    assert run_for_report(run, run.collect_events()[-1])["metrics"] == {}
    run.complete("max_steps", {"steps": 10, "durationMs": 1234})
    told = run_for_report(run, run.collect_events()[-1])
    assert told == {"runId": run_id, "app": APP, "status": "completed", "stopReason": "max_steps",
                    "metrics": {"steps": 10, "durationMs": 1234}}
