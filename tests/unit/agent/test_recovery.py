"""A lost session (DESIGN.md "Time and faults"): the agent opens a new one with the run's capabilities,
launches the app, follows the route back to the screen it was on and goes on with the next step; three
failed recoveries in a row end the run device_unavailable."""

from __future__ import annotations

import pytest

import agent.recovery
from tests.unit.agent import Finished, assert_one_terminal, crashy_app, shop_app
from tests.unit.fakes import FakeRun, fake_run

CAPS = {"appium:simFaults": {"serverCrashAfter": 150}, "appium:newCommandTimeout": 60,
        "platformName": "iOS", "appium:app": "/elsewhere.apk"}


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(agent.recovery, "BACKOFF_SECONDS", (0.0, 0.0, 0.0))  # the pauses, not their count


def perceive_steps(finished: Finished) -> list[int]:
    return [e.data["stepOrdinal"] for e in finished.events
            if e.name == "agent.node.started" and e.data["nodeName"] == "Perceive"]


def assert_no_gap_no_repeat(finished: Finished) -> None:
    last = finished.calls()[-1]  # the Stop node, at the last step (a failed run has no metrics)
    assert last.name == "Stop" and perceive_steps(finished) == list(range(1, last.step + 1))


def lose_session_at_tap(run: FakeRun, n: int, after_commands: int = 0) -> None:
    """The session answers `after_commands` more commands once the n-th tap is done, then it is gone."""
    run.device.on("tap", n, lambda: run.device.die_after(after_commands))


@pytest.mark.parametrize("tap, commands", [(1, 0), (3, 2), (4, 5), (6, 1), (8, 9)])
def test_a_lost_session_is_replaced_and_the_run_goes_on_from_the_same_step(tap, commands):
    run = fake_run(shop_app(), max_steps=40, capabilities=CAPS)
    lose_session_at_tap(run, tap, commands)
    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    assert_no_gap_no_repeat(finished)
    (recovered,) = finished.named("agent.device.recovered")
    assert recovered["cause"] == "server_crashed" and recovered["seconds"] >= 0
    assert run.device.sessions == 2 and finished.metrics["recoveries"] == 1
    recover = [c for c in finished.calls() if c.name == "RecoverSession"]
    assert [(c.step, c.outcome) for c in recover] == [(recovered["stepOrdinal"], "SUCCESS")]
    assert len(finished.discovered()) == 5  # every screen, as without the fault


def test_the_route_leads_back_to_the_screen_the_step_started_on():
    run = fake_run(shop_app(), max_steps=40)
    lose_session_at_tap(run, 3)  # the third tap is on the product page, two screens away from home
    run.execute()

    finished = Finished.of(run)
    (recovered,) = finished.named("agent.device.recovered")
    step = recovered["stepOrdinal"]
    perceived = {p["stepOrdinal"]: p["screenId"] for p in finished.named("agent.screen.perceived")}
    assert perceived[step] != perceived[1]  # not the launch screen: a route was needed
    assert recovered["routeLength"] >= 2
    assert perceived[step + 1] == perceived[step]  # the next step goes on where the lost one was
    assert [c.detail["screenId"] for c in finished.calls() if c.name == "RecoverSession"] == [perceived[step]]
    assert_no_gap_no_repeat(finished)


def test_every_session_gets_the_device_and_the_run_capabilities_but_never_over_the_runs_own():
    run = fake_run(shop_app(), max_steps=40, capabilities=CAPS)
    lose_session_at_tap(run, 2)
    run.execute()

    first, second = run.device.session_caps
    assert first == second
    assert first["appium:udid"] == "fake" and first["appium:simFaults"] == {"serverCrashAfter": 150}
    assert first["appium:newCommandTimeout"] == 60
    assert "platformName" not in first and "appium:app" not in first  # the run's own are never replaced


def test_three_failed_recoveries_in_a_row_end_the_run_device_unavailable():
    run = fake_run(shop_app(), max_steps=40)
    run.device.on("tap", 2, lambda: (run.device.die_after(0), run.device.refuse_sessions(3)))
    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.failed", "failed", "device_unavailable")
    assert "3 recoveries" in finished.terminal.data["error"] and "unreachable" in finished.terminal.data["error"]
    recover = finished.calls()[-2]
    assert (recover.name, recover.outcome, recover.detail["stopReason"]) == (
        "RecoverSession", "FAILURE", "device_unavailable")
    assert len(run.device.session_caps) == 1 + 3 and not finished.named("agent.device.recovered")
    assert_no_gap_no_repeat(finished)


def test_two_failed_recoveries_then_one_that_works_go_on():
    run = fake_run(shop_app(), max_steps=40)
    run.device.on("tap", 2, lambda: (run.device.die_after(0), run.device.refuse_sessions(2)))
    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    assert len(finished.named("agent.device.recovered")) == 1 and run.device.sessions == 2
    assert_no_gap_no_repeat(finished)


def test_a_session_that_dies_in_each_session_ends_completed_or_device_unavailable_without_repeats():
    device = shop_app()
    device.crash_every = 25
    run = fake_run(device, max_steps=40)
    run.execute()

    finished = Finished.of(run)
    assert finished.terminal.data["stopReason"] in ("explored", "max_steps", "device_unavailable")
    assert len(finished.named("agent.device.recovered")) >= 2 and device.sessions >= 3
    assert_no_gap_no_repeat(finished)


def test_a_session_lost_while_reproducing_is_replaced_and_the_next_attempt_replays():
    run = fake_run(crashy_app(), max_steps=30, capabilities={"appium:simFaults": {"serverCrashAfter": 9}})
    run.device.on("terminate_app", 1, lambda: run.device.die_after(0))  # the first replay's first command
    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    (reproduction,) = finished.named("agent.finding.reproduced")
    assert (reproduction["attempts"], reproduction["reproduced"]) == (2, 1)
    assert run.device.sessions == 2 and run.device.session_caps[1] == run.device.session_caps[0]
    assert run.device.session_caps[1]["appium:simFaults"] == {"serverCrashAfter": 9}
    (recovered,) = finished.named("agent.device.recovered")  # outside maxSteps, at the replay's step
    assert recovered["stepOrdinal"] >= finished.metrics["steps"] and recovered["routeLength"] == 0


def test_a_session_lost_while_setting_up_is_set_up_again():
    run = fake_run(shop_app(), max_steps=40)
    run.device.on("activate_app", 1, lambda: run.device.die_after(0))
    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    setup = [(c.step, c.name, c.outcome) for c in finished.calls()[:5]]
    assert setup[:2] == [(0, "EnsureDevice", "SUCCESS"), (0, "ProvisionApp", "SUCCESS")]
    assert setup[2][1:] == ("LaunchOrAttach", "FAILURE") and run.device.sessions == 2
    assert_no_gap_no_repeat(finished)


def test_sessions_lost_again_before_a_step_is_done_count_as_failed_recoveries():
    device = shop_app()
    run = fake_run(device, max_steps=40)
    def lose_it_for_good() -> None:  # lost now, and from now on no step fits in a session
        device.crash_every = 12
        device.die_after(0)

    device.on("tap", 2, lose_it_for_good)
    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.failed", "failed", "device_unavailable")
    recover = [c for c in finished.calls() if c.name == "RecoverSession"]
    assert [c.outcome for c in recover] == ["SUCCESS"] * (len(recover) - 1) + ["FAILURE"]
    assert len(finished.named("agent.device.recovered")) == 3  # each new session opened, none took a step
    assert device.sessions == 4 and len(recover) == 4
    assert_no_gap_no_repeat(finished)
