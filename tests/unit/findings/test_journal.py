"""The journal a run keeps to reproduce its findings: where launches start, and what a route must do on
each screen before leaving it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

from domain.findings.journal import FindingsJournal
from domain.run import Run

USER = {"kind": "type", "action_id": "type:id/user", "text": "alice"}
PASSWORD = {"kind": "type", "action_id": "type:id/pw", "text": "secret"}
SIGN_IN = {"kind": "tap", "action_id": "tap:id/sign_in"}


def test_a_form_filled_over_two_visits_is_filled_whole_before_leaving():
    journal = FindingsJournal()
    journal.launched("login")
    journal.acted("login", PASSWORD, "login")
    journal.acted("login", {"kind": "tap", "action_id": "tap:id/help"}, "help")
    journal.acted("help", {"kind": "back", "action_id": "back"}, "login")
    journal.acted("login", USER, "login")
    journal.acted("login", SIGN_IN, "home")

    assert journal.led_on[("login", "tap:id/sign_in")] == [PASSWORD, USER]
    assert journal.led_on[("login", "tap:id/help")] == [PASSWORD]
    assert journal.transitions == {("login", "tap:id/help", "help"), ("help", "back", "login"),
                                   ("login", "tap:id/sign_in", "home")}


def test_the_first_launch_is_where_reproductions_start_and_a_crash_keeps_its_typing():
    journal = FindingsJournal()
    journal.launched("home")
    journal.acted("home", {"kind": "tap", "action_id": "tap:id/form"}, "form")
    journal.acted("form", USER, "form")
    journal.launched("home")  # the crash's restart is recorded before the action that caused it
    journal.acted("form", SIGN_IN, "home")

    assert journal.start == "home"
    assert journal.led_on[("form", "tap:id/sign_in")] == [USER]


def test_a_signature_is_a_new_finding_once():
    journal = FindingsJournal()

    assert journal.met("crash|X", "f1", "crash", ("home", "tap:id/sync"), ".HomeActivity")
    assert not journal.met("crash|X", "f1", "crash", ("home", "tap:id/sync"), ".HomeActivity")
    assert journal.kinds == {"f1": "crash"} and journal.activities == {"f1": ".HomeActivity"}


def test_a_run_that_continues_rebuilds_its_journal_from_its_events():
    run = Run(id=uuid4(), app_config={}, goal=None, max_steps=10, inputs={}, tenant_id="local", project_id="default")
    run.start("worker-1", datetime.now(timezone.utc) + timedelta(minutes=5))
    run.finish_node("WaitIdle", 0, "SUCCESS", {"screenId": "login"})
    for step, (action, to_screen) in enumerate([(PASSWORD, "login"), (USER, "login"), (SIGN_IN, "home")], 1):
        run.record_action(step_ordinal=step, screen_id="login", action=action)
        run.finish_node("Verify", step, "SUCCESS", {"screenId": to_screen})
    run.finish_node("RestartApp", 4, "SUCCESS", {"screenId": "splash"})  # not where reproductions start
    run.finish_node("WaitIdle", 4, "FAILURE", {"screenId": "other"})
    run.detect_finding(finding_id="f1", kind="anr", title="ANR", signature="anr|.Home", step_ordinal=4,
                       screen_id="home", activity=".Home", action_id=None, details={"freezeSeconds": 7.5},
                       artifacts={})
    run.record_recurrence(finding_id="f1", step_ordinal=5)
    run.record_action(step_ordinal=6, screen_id="home", action={"kind": "tap", "action_id": "tap:id/x"},
                      reproducing="f1")  # a reproduction's action is no part of the exploration
    run.finish_node("Verify", 6, "SUCCESS", {"screenId": "crashed"})

    journal = FindingsJournal.from_events(run.collect_events())

    assert journal.start == "login"
    assert journal.transitions == {("login", "tap:id/sign_in", "home")}
    assert journal.led_on == {("login", "tap:id/sign_in"): [PASSWORD, USER]}
    assert journal.findings == {"anr|.Home": "f1"} and journal.kinds == {"f1": "anr"}
    assert journal.triggers == {"f1": ("home", "")} and journal.activities == {"f1": ".Home"}
    assert journal.freezes == {"f1": 7.5}
