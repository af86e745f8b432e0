"""Findings made by the agent, run directly (no Ray) on the real Appium simulator and PostgreSQL: a
crash behind a form, a flaky crash, an ANR and accessibility problems, each reported once with its
evidence and reproduced from a fresh launch after exploring (DESIGN.md "Findings")."""

from __future__ import annotations

from typing import Any

import pytest

from agent.agent_run import AgentRun
from config.settings import Settings
from domain.findings.signature import finding_id
from tests.integration.test_agent import SIMULATOR_CAPS, WORKER, Finished, button, h, write_app  # noqa: F401

PACKAGE = "com.example.buggy"
APP = (PACKAGE, ".HomeActivity")
SYNC_CRASH = {"crash": {"exception": "java.lang.IllegalStateException", "message": "token is null",
                        "frames": [f"{PACKAGE}.sync.SyncClient.push(SyncClient.java:88)",
                                   f"{PACKAGE}.ui.HomeActivity.onSync(HomeActivity.java:41)"]}}
FORM_CRASH = {"crash": {"exception": "java.lang.NumberFormatException", "message": "For input string: \"hello\"",
                        "frames": [f"{PACKAGE}.ui.FormActivity.submit(FormActivity.java:17)"]}}


def buggy_app(tmp_path, probability: float = 1.0) -> str:
    """home: Sync now crashes (with `probability`), Export freezes for 1 s (an ANR), an icon button says
    nothing, a 20 px target; form: typing then Submit crashes."""
    sync = {"crash": {**SYNC_CRASH["crash"], "probability": probability}}
    return write_app(tmp_path, PACKAGE, "home", {
        "home": {"activity": ".HomeActivity", "back": "home", "elements": [
            button("sync", "Sync now", sync),
            button("export", "Export", {"anr": {"seconds": 1}}),
            button("open_form", "Open form", {"goto": "form"}),
            {"id": "share", "class": "android.widget.ImageButton", "onClick": [{"toast": "shared"}]},
            {"id": "tiny", "class": "android.widget.Button", "text": "i", "bounds": "[10,2200][40,2220]",
             "onClick": [{"toast": "info"}]}]},
        "form": {"activity": ".FormActivity", "elements": [
            {"id": "note", "class": "android.widget.EditText", "hint": "Note", "editable": True},
            button("submit", "Submit", {"when": {"note": "hello"}, **FORM_CRASH})]},
    })


def findings(finished: Finished, kind: str | None = None) -> list[dict[str, Any]]:
    return [d for d in finished.named("agent.finding.detected") if kind is None or d["kind"] == kind]


def reproduced(finished: Finished) -> dict[str, dict[str, Any]]:
    return {d["findingId"]: d for d in finished.named("agent.finding.reproduced")}


@pytest.fixture
def explored(h, tmp_path) -> Finished:
    return h.explore(buggy_app(tmp_path), APP, max_steps=40)


def test_a_crash_is_one_finding_with_its_exception_frames_and_evidence(h, explored):
    (sync,) = [f for f in findings(explored, "crash") if f["details"].get("exception") == "java.lang.IllegalStateException"]

    assert sync["details"]["message"] == "token is null"
    assert sync["details"]["frames"][:2] == SYNC_CRASH["crash"]["frames"]
    assert sync["signature"].startswith("crash|java.lang.IllegalStateException|")
    assert sync["findingId"] == finding_id(explored.run_id, sync["signature"])
    assert sync["activity"] == ".HomeActivity" and sync["actionId"] == "tap:id/sync"
    assert "IllegalStateException" in sync["title"]
    logcat = h.artifacts.get(sync["artifacts"]["logcat"])
    assert b"FATAL EXCEPTION" in logcat[0] and b"token is null" in logcat[0]
    dialog_source = h.artifacts.get(sync["artifacts"]["pageSource"])[0].decode()
    assert "android:id/aerr_close" in dialog_source  # what showed after the tap: Android's dialog
    assert explored.terminal.name == "run.completed"


def test_a_crash_behind_a_form_is_reproduced_with_its_typing(explored):
    (form,) = [f for f in findings(explored, "crash") if f["activity"] == ".FormActivity"]
    result = reproduced(explored)[form["findingId"]]

    assert (result["attempts"], result["reproduced"]) == (2, 2)
    kinds = [s["kind"] for s in result["steps"]]
    assert kinds[-2:] == ["type", "tap"] and result["steps"][-1]["actionId"] == "tap:id/submit"
    assert result["steps"][-2]["text"] == "hello"  # generated text, written down; inputs would be a key
    replays = [a for a in explored.named("agent.action.performed") if a["reproducing"] == form["findingId"]]
    assert len(replays) == 2 * len(result["steps"])
    last_exploring = max(a["stepOrdinal"] for a in explored.named("agent.action.performed") if not a["reproducing"])
    assert min(a["stepOrdinal"] for a in replays) > last_exploring  # after exploring, outside maxSteps
    assert explored.metrics["steps"] <= 40


def test_an_anr_is_a_finding_of_the_activity_that_froze(explored):
    (anr,) = findings(explored, "anr")

    assert anr["signature"] == "anr|.HomeActivity" and anr["actionId"] == "tap:id/export"
    assert anr["details"]["freezeSeconds"] >= 0.5
    assert reproduced(explored)[anr["findingId"]]["reproduced"] >= 1


def test_accessibility_findings_name_the_rule_and_the_element(explored):
    by_rule = {(f["details"]["rule"], f["actionId"]) for f in findings(explored, "accessibility")}

    assert ("SpeakableTextPresentCheck", "tap:id/share") in by_rule
    assert ("TouchTargetSizeCheck", "tap:id/tiny") in by_rule
    assert not any(rule == "TouchTargetSizeCheck" and action == "tap:id/sync" for rule, action in by_rule)
    assert all(f["findingId"] not in reproduced(explored) for f in findings(explored, "accessibility"))


def test_without_logcat_a_crash_is_still_found_from_its_dialog_and_says_why(h, tmp_path):
    """A server that refuses logcat (no adb_shell permission) does not fail the run."""
    run_id = h.request(buggy_app(tmp_path), APP, max_steps=12)
    settings = Settings(database_url=h.database_url).worker_settings()
    AgentRun(h.runs, h.artifacts, settings, run_id, {**SIMULATOR_CAPS, "appium:simLogcat": False},
             worker_id=WORKER).execute()
    finished = h.finished(run_id)

    assert finished.terminal.name == "run.completed", finished.terminal
    sync = next(f for f in findings(finished, "crash") if f["actionId"] == "tap:id/sync")
    assert sync["signature"] == "crash|.HomeActivity|tap:id/sync"  # no stack: the screen and the action
    assert "adb_shell" in sync["details"]["logcatError"] and "logcat" not in sync["artifacts"]
    assert reproduced(finished)[sync["findingId"]]["reproduced"] == 2
