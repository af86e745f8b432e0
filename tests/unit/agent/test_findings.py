"""Crashes met while exploring: detected once with their logcat block and the dialog as evidence, the
app restarted, and each replayed from a fresh launch once exploring ends (DESIGN.md "Findings")."""

from __future__ import annotations

from typing import Any

import agent.reproduction
from adapters.device import DeviceError
from domain.findings.signature import finding_id
from tests.unit.agent import Finished, assert_one_terminal, crashy_app
from tests.unit.fakes import Crash, El, FakeDevice, Page, fake_run, label


def findings(finished: Finished, kind: str = "crash") -> list[dict[str, Any]]:
    return [d for d in finished.named("agent.finding.detected") if d["kind"] == kind]


def reproduced(finished: Finished) -> dict[str, dict[str, Any]]:
    return {d["findingId"]: d for d in finished.named("agent.finding.reproduced")}


def test_a_crash_is_one_finding_with_its_exception_frames_and_evidence():
    run = fake_run(crashy_app(), max_steps=20)
    run.execute()
    finished = Finished.of(run)

    (sync,) = findings(finished)
    assert sync["details"]["exception"] == "java.lang.IllegalStateException"
    assert sync["details"]["message"] == "token is null"
    assert sync["details"]["frames"][:2] == list(Crash().frames)
    assert sync["signature"] == ("crash|java.lang.IllegalStateException|com.example.shop.sync.SyncClient.push"
                                 "|com.example.shop.ui.HomeActivity.onSync")
    assert sync["findingId"] == finding_id(run.run_id, sync["signature"])
    assert sync["activity"] == ".HomeActivity" and sync["actionId"] == "tap:id/sync"
    assert "IllegalStateException" in sync["title"]
    logcat, media_type = run.artifacts.get(sync["artifacts"]["logcat"])
    assert media_type == "text/plain" and b"FATAL EXCEPTION" in logcat and b"token is null" in logcat
    assert b"has died" not in logcat  # the block only, not the system's lines after it
    dialog_source = run.artifacts.get(sync["artifacts"]["pageSource"])[0].decode()
    assert "android:id/aerr_close" in dialog_source  # what showed after the tap: Android's dialog
    assert finished.terminal.name == "run.completed"


def test_a_crash_restarts_the_app_and_the_run_goes_on():
    run = fake_run(crashy_app(), max_steps=20)
    run.execute()
    finished = Finished.of(run)

    assert_one_terminal(finished, "run.completed", "completed", "explored")
    home = finished.screen_of(".HomeActivity")
    (crash,) = [a for a in finished.named("agent.action.performed")
                if a["action"]["action_id"] == "tap:id/sync" and not a["reproducing"]]
    (verify,) = [c for c in finished.calls() if c.name == "Verify" and c.step == crash["stepOrdinal"]]
    assert [(c.name, c.outcome, c.detail["screenId"]) for c in verify.inner] == [("RestartApp", "SUCCESS", home)]
    assert verify.detail["screenId"] == home  # the step ends on the restarted app, not the launcher
    assert finished.metrics["restarts"] == 1
    nexts = [d for d in finished.named("graph.screen.discovered") if d["activity"] == ".NextActivity"]
    assert nexts and nexts[0]["stepOrdinal"] > crash["stepOrdinal"]
    assert all(p["package"] == "com.example.shop" for p in finished.named("agent.screen.perceived"))
    # Android's dialog closed before the relaunch, and after each of the two replays
    assert run.device.taps.count(("id", "android:id/aerr_close")) == 1 + 2


def test_a_crash_is_reproduced_from_a_fresh_launch_after_exploring():
    run = fake_run(crashy_app(), max_steps=20)
    run.execute()
    finished = Finished.of(run)

    (sync,) = findings(finished)
    result = reproduced(finished)[sync["findingId"]]
    assert (result["attempts"], result["reproduced"]) == (2, 2)
    assert [s["actionId"] for s in result["steps"]] == ["tap:id/sync"]
    replays = [a for a in finished.named("agent.action.performed") if a["reproducing"] == sync["findingId"]]
    assert len(replays) == 2 * len(result["steps"])
    assert min(a["stepOrdinal"] for a in replays) > finished.metrics["steps"]  # after exploring, outside maxSteps
    (node,) = [c for c in finished.calls() if c.name == "Reproduce"]
    assert (node.outcome, node.detail["findingId"], node.detail["reproduced"]) == ("SUCCESS", sync["findingId"], 2)
    assert run.device.calls["terminate_app"] == 2  # each attempt from a fresh launch
    assert not finished.named("agent.finding.recurred")  # a replay is no new sighting


def test_a_crash_behind_a_form_is_reproduced_with_its_typing():
    device = FakeDevice({
        "home": Page(".HomeActivity", (El("open_form", "Open form"),), back="home"),
        "form": Page(".FormActivity", (El("note", editable=True), El("submit", "Submit")), back="home"),
    }, {("home", "open_form"): "form",
        ("form", "submit"): Crash("java.lang.NumberFormatException", 'For input string: "hello"',
                                  ("com.example.shop.ui.FormActivity.submit(FormActivity.java:17)",))}, start="home")
    run = fake_run(device, max_steps=20)
    run.execute()
    finished = Finished.of(run)

    (form,) = findings(finished)
    result = reproduced(finished)[form["findingId"]]
    assert form["activity"] == ".FormActivity" and (result["attempts"], result["reproduced"]) == (2, 2)
    assert [s["actionId"] for s in result["steps"]] == ["tap:id/open_form", "type:id/note", "tap:id/submit"]
    assert result["steps"][1]["text"]  # generated text, written down; inputs would be a key
    assert device.calls["type_text"] == 1 + 2  # typed while exploring, then in each replay


def test_a_crash_met_again_recurs_and_is_not_detected_twice():
    """One bug behind two buttons: the same exception and frames, one finding met twice."""
    device = FakeDevice({
        "home": Page(".HomeActivity", (El("sync", "Sync now"), El("more", "More")), back="home"),
        "more": Page(".MoreActivity", (label("title", "More"), El("sync_all", "Sync all")), back="home"),
    }, {("home", "sync"): Crash(), ("home", "more"): "more", ("more", "sync_all"): Crash()}, start="home")
    run = fake_run(device, max_steps=30)
    run.execute()
    finished = Finished.of(run)

    (sync,) = findings(finished)
    taps = [a for a in finished.named("agent.action.performed")
            if a["action"]["action_id"] in {"tap:id/sync", "tap:id/sync_all"} and not a["reproducing"]]
    recurred = [r for r in finished.named("agent.finding.recurred") if r["findingId"] == sync["findingId"]]
    assert len(taps) == 2 and len(recurred) == 1
    assert recurred[0]["stepOrdinal"] == max(a["stepOrdinal"] for a in taps)
    assert finished.metrics["restarts"] == 2


def test_a_crash_that_happens_only_sometimes_reproduces_only_sometimes(monkeypatch):
    monkeypatch.setattr(agent.reproduction, "CRASH_WAIT_SECONDS", 0.0)  # how long a replay looks for the dialog
    device = crashy_app()
    run = fake_run(device, max_steps=20, reproduce_attempts=4)
    device.on("terminate_app", 3, lambda: device.transitions.update({("home", "sync"): "home"}))  # fixed, it seems

    run.execute()
    finished = Finished.of(run)

    (sync,) = findings(finished)
    result = reproduced(finished)[sync["findingId"]]
    assert (result["attempts"], result["reproduced"]) == (4, 2)


def test_without_logcat_a_crash_is_still_found_from_its_dialog_and_says_why():
    device = crashy_app()
    for _ in range(100):
        device.fail("logcat", DeviceError("Potentially insecure feature 'adb_shell' has not been enabled"))
    run = fake_run(device, max_steps=12)
    run.execute()
    finished = Finished.of(run)

    assert finished.terminal.name == "run.completed", finished.terminal
    (sync,) = findings(finished)
    assert sync["signature"] == "crash|.HomeActivity|tap:id/sync"  # no stack: the screen and the action
    assert "adb_shell" in sync["details"]["logcatError"] and "logcat" not in sync["artifacts"]
    assert reproduced(finished)[sync["findingId"]]["reproduced"] == 2
    assert device.failures["logcat"], "logcat was refused every time it was read"
