"""The journal a run keeps to reproduce its findings: where launches start, and what a route must do on
each screen before leaving it."""

from __future__ import annotations

from domain.findings.journal import FindingsJournal

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
