"""Reproduction under time (DESIGN.md "Time and faults"): a replay dismisses a dialog of the app it does not
know with back, and waits where the run saw the app change by itself."""

from __future__ import annotations

from tests.unit.agent import Finished, crashy_app
from tests.unit.fakes import Crash, El, FakeDevice, Page, fake_run, label


def test_a_dialog_the_run_did_not_meet_is_dismissed_with_back_before_the_next_step():
    device = crashy_app()
    device.pages["rate"] = Page(".HomeActivity", (El("rate_title", "Enjoying Shop?", cls="com.example.RateDialog",
                                                      clickable=False), El("later", "Later")), back="home")

    def rate_us_from_now_on() -> None:  # a "rate us" dialog at every later launch, as on a second launch
        device.start = "rate"

    device.on("terminate_app", 1, rate_us_from_now_on)  # the first replay's fresh start
    run = fake_run(device, max_steps=30)
    run.execute()

    finished = Finished.of(run)
    (reproduction,) = finished.named("agent.finding.reproduced")
    assert (reproduction["attempts"], reproduction["reproduced"]) == (2, 2)
    assert device.calls["back"] >= 2  # one per replay, on the dialog
    assert ("id", "com.example.shop:id/later") not in device.taps


def test_a_replay_waits_where_the_app_went_on_by_itself():
    device = FakeDevice({
        "splash": Page(".SplashActivity", (label("logo", "Shop"),), after=(2, "home")),
        "home": Page(".HomeActivity", (El("sync", "Sync now"),), back="home"),
    }, {("home", "sync"): Crash()}, start="splash")
    run = fake_run(device, max_steps=30)
    run.execute()

    finished = Finished.of(run)
    (reproduction,) = finished.named("agent.finding.reproduced")
    assert [step["kind"] for step in reproduction["steps"]] == ["wait", "tap"]
    assert reproduction["reproduced"] == 2
