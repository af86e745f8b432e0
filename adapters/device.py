"""The device port: what the agent asks of a device, and the errors a device answers with.

`adapters/appium.py` is the real device (an Appium session); a test may hand the agent any
object with these methods (tests/unit/fakes.py has one in memory).
"""

from __future__ import annotations

from typing import Any, Protocol

from domain.exploration import Action

APP_STATE_FOREGROUND = 4
Locator = tuple[str, Any]


class DeviceError(Exception):
    """A command the device or Appium refused; the run may retry or recover."""


class DeviceUnavailable(DeviceError):
    """The Appium server cannot be reached or does not answer."""


class SessionLost(DeviceUnavailable):
    """The session or its server is gone (UiAutomator2's instrumentation crashed, the session id is no longer
    valid, the server refuses or never answers): a new session may bring the device back. A kind of
    DeviceUnavailable, so code that knows nothing of recovery still stops on it."""

    def __init__(self, message: str, cause: str = "session_lost") -> None:
        super().__init__(message)
        self.cause = cause  # server_crashed, session_invalid, unreachable, timeout: agent.device.recovered says it


class AppNotFound(DeviceError):
    """The app file to install does not exist."""


class AppLaunchFailed(DeviceError):
    """The session could not start the app."""


class DevicePort(Protocol):
    def page_source(self) -> str: ...
    def screenshot_png(self) -> bytes: ...
    def logcat(self) -> list[str]: ...
    def screen_density(self) -> int | None: ...
    def current_activity(self) -> str: ...
    def current_package(self) -> str: ...
    def is_app_installed(self, package: str) -> bool: ...
    def install_app(self, apk_path: str) -> None: ...
    def activate_app(self, package: str) -> None: ...
    def terminate_app(self, package: str) -> None: ...
    def app_state(self, package: str) -> int: ...
    def tap(self, locator: Locator) -> None: ...
    def type_text(self, locator: Locator, text: str) -> None: ...
    def back(self) -> None: ...
    def long_press(self, locator: Locator) -> None: ...
    def scroll(self, locator: Locator, direction: str) -> bool: ...
    def is_keyboard_shown(self) -> bool: ...
    def hide_keyboard(self) -> None: ...
    def quit(self) -> None: ...


def perform(device: DevicePort, action: Action) -> bool:
    """Does `action` on the device; False only for a scroll that reached the end of its view."""
    if action.kind == "back":
        device.back()
    elif action.kind == "type":
        device.type_text(action.target, action.text or "")
    elif action.kind == "long_press":
        device.long_press(action.target)
    elif action.kind == "scroll":
        return device.scroll(action.target, action.direction or "down")
    else:
        device.tap(action.target)
    return True
