"""Which Appium failures mean the session is gone (adapters/appium.py): a new session helps only then
(DESIGN.md "Time and faults"); and the waitForIdleTimeout setting at session start, which a driver may refuse."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import InvalidSessionIdException, WebDriverException
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError

from adapters.appium import _set_idle_timeout, translated_errors
from adapters.device import DeviceError, DeviceUnavailable, SessionLost

CRASHED = ("An unknown server-side error occurred while processing the command. Original error: "
           "'Instrumentation process is not running (probably crashed)'")


def raised(error: Exception) -> DeviceError:
    with pytest.raises(DeviceError) as caught:
        with translated_errors():
            raise error
    return caught.value


@pytest.mark.parametrize("error, cause", [
    (WebDriverException(CRASHED), "server_crashed"),
    (InvalidSessionIdException("invalid session id: A session is either terminated or not started"),
     "session_invalid"),
    (WebDriverException("A session is either terminated or not started"), "session_invalid"),
    (MaxRetryError(None, "/session/1/source", NewConnectionError(None, "Connection refused")), "unreachable"),
    (ConnectionRefusedError(111, "Connection refused"), "unreachable"),
    (ReadTimeoutError(None, "/session/1/source", "Read timed out. (read timeout=3)"), "timeout"),
])
def test_a_gone_session_is_session_lost_with_its_cause(error, cause):
    lost = raised(error)
    assert isinstance(lost, SessionLost) and lost.cause == cause
    assert isinstance(lost, DeviceUnavailable)  # code that knows nothing of recovery still stops on it


@pytest.mark.parametrize("message", ["stale element reference: element is not attached to the page document",
                                     "An element could not be located on the page"])
def test_a_refused_command_is_a_device_error_not_a_lost_session(message):
    error = raised(WebDriverException(message))
    assert type(error) is DeviceError and message[:20] in str(error)


class Driver:
    def __init__(self, refuse: Exception | None) -> None:
        self.refuse, self.settings = refuse, {}

    def update_settings(self, settings: dict) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.settings.update(settings)


def test_the_idle_timeout_is_set_at_session_start_and_a_refusal_does_not_fail_it():
    driver = Driver(None)
    _set_idle_timeout(driver, 500)
    assert driver.settings == {"waitForIdleTimeout": 500}
    _set_idle_timeout(Driver(WebDriverException("Unknown command: settings")), 500)  # no raise
