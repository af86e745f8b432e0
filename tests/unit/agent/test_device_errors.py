"""What the agent does with the device's errors: at setup each fails the run with its reason; in a step
a refused command is recovered from (a few times), a lost device ends the run."""

from __future__ import annotations

import pytest

import agent.step
from adapters.device import AppNotFound, DeviceError, DeviceUnavailable
from tests.run_events import assert_setup_failed
from tests.unit.agent import STEP_NODES, Finished, assert_one_terminal, small_app
from tests.unit.fakes import fake_run


def failed_setup(error: Exception) -> Finished:
    def open_device(app, caps, settings):
        raise error

    run = fake_run(small_app())
    run.agent(open_device=open_device).execute()
    return Finished.of(run)


def test_an_unreachable_device_fails_the_run_with_device_unavailable():
    finished = failed_setup(DeviceUnavailable("Appium server unreachable: http://10.0.0.9:4723"))

    assert_setup_failed(finished, "device_unavailable", "http://10.0.0.9:4723")


def test_a_missing_app_fails_the_run_with_app_not_found():
    finished = failed_setup(AppNotFound("/apps/missing.apk does not exist"))

    assert_setup_failed(finished, "app_not_found", "missing.apk")


def test_an_app_that_does_not_come_to_the_foreground_fails_the_run_with_app_launch_failed():
    run = fake_run(small_app())
    run.device.activate_app = lambda package: None  # the launch shows nothing of the app

    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.failed", "failed", "app_launch_failed")
    assert "not in the foreground" in finished.terminal.data["error"]
    assert [(c.name, c.outcome) for c in finished.calls()] == [
        ("EnsureDevice", "SUCCESS"), ("ProvisionApp", "SUCCESS"), ("LaunchOrAttach", "FAILURE"), ("Stop", "SUCCESS")]
    assert run.device.calls["quit"] == 1


def test_a_refused_command_is_recovered_from_and_the_run_goes_on():
    run = fake_run(small_app(), max_steps=30)
    run.device.on("tap", 2, lambda: run.device.fail("tap", DeviceError("stale element reference")))

    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    (failed,) = [c for c in finished.calls() if c.outcome == "FAILURE"]
    step = [c for c in finished.calls() if c.step == failed.step]
    assert [(c.name, c.outcome) for c in step] == [
        *((name, "SUCCESS") for name in STEP_NODES[:3]), ("Act", "FAILURE"), ("RecoverFromError", "SUCCESS")]
    assert "stale element reference" in failed.detail["error"]
    assert step[-1].detail["screenId"] == finished.named("agent.screen.perceived")[failed.step - 1]["screenId"]
    assert [c.name for c in finished.calls() if c.step == failed.step + 1][0] == "Perceive"  # the next step
    assert finished.metrics["errors"] == 1 and finished.metrics["steps"] > failed.step


def test_repeated_errors_fail_the_run_with_device_error(monkeypatch):
    monkeypatch.setattr(agent.step, "RETRY_BACKOFF_SECONDS", (0.0, 0.0, 0.0))  # the retries' pauses, not their count
    run = fake_run(small_app(), max_steps=30)
    refused = DeviceError("instrumentation is not running")

    def fail_from_now_on() -> None:  # the tap, then every retry's first look
        for method in ("tap", "page_source", "page_source", "page_source"):
            run.device.fail(method, refused)

    run.device.on("tap", 1, fail_from_now_on)

    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.failed", "failed", "device_error")
    recover = finished.calls()[-2]
    assert (recover.step, recover.name, recover.outcome, recover.detail["stopReason"]) == (
        1, "RecoverFromError", "FAILURE", "device_error")
    assert "instrumentation is not running" in finished.terminal.data["error"]


@pytest.mark.parametrize("method", ["tap", "page_source"])
def test_a_device_lost_during_a_step_fails_the_run_with_device_unavailable(method):
    run = fake_run(small_app(), max_steps=30)
    run.device.on("tap", 2, lambda: run.device.fail(method, DeviceUnavailable("Appium server unreachable")))

    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.failed", "failed", "device_unavailable")
    assert not [c for c in finished.calls() if c.name == "RecoverFromError"]
    assert finished.calls()[-1].step == 2 and run.device.calls["quit"] == 1
