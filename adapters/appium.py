"""Thin calls to a device through a real Appium server (Appium-Python-Client).

The only module that imports Appium. Every call has a client timeout: a silent
server would otherwise hang a worker forever. An unreachable server raises
urllib3 errors, not WebDriverException, so both are translated here into the
errors the agent understands.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from appium import webdriver
from appium.options.common import AppiumOptions
from appium.webdriver.client_config import AppiumClientConfig
from appium.webdriver.common.appiumby import AppiumBy
from selenium.common.exceptions import WebDriverException
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import Retry

from adapters import telemetry as metrics
from adapters.device import (  # noqa: F401 - the errors are part of this adapter's face
    APP_STATE_FOREGROUND,
    AppLaunchFailed,
    AppNotFound,
    DeviceError,
    DeviceUnavailable,
    SessionLost,
)
from domain.sessions import session_capabilities

BACK_KEY = 4
LOCATOR_KINDS = {"id": AppiumBy.ID, "xpath": AppiumBy.XPATH, "accessibility_id": AppiumBy.ACCESSIBILITY_ID}
_MISSING_APP = re.compile(r"(does not exist|not found|no such file|ENOENT|cannot (read|load|open))", re.I)
# What the server answers once the session is gone: UiAutomator2's server died under it, or the session was
# ended (newCommandTimeout, another client, a restarted Appium). Only a new session helps then.
_SESSION_GONE = (
    (re.compile(r"instrumentation process is not running|uiautomator2 server .*(not running|crashed)", re.I),
     "server_crashed"),
    (re.compile(r"invalid session id|session .*(does not exist|is either terminated|not started|was terminated)"
                r"|no such session", re.I), "session_invalid"),
)


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        with metrics.waiting("appium"):
            yield
    except (Urllib3Error, OSError) as error:
        # Mid-session, a server that refuses or never answers (the client timeout) is a lost session.
        raise SessionLost(f"Appium server unreachable: {error}", _network_cause(error)) from None
    except WebDriverException as error:
        message = _message(error)
        cause = next((cause for pattern, cause in _SESSION_GONE if pattern.search(message)), None)
        raise (DeviceError(message) if cause is None else SessionLost(message, cause)) from None


def _network_cause(error: BaseException) -> str:
    reason = error.reason if isinstance(error, MaxRetryError) else error
    if isinstance(reason, (NewConnectionError, ConnectionError)):
        return "unreachable"  # NewConnectionError is a TimeoutError too: asked first
    return "timeout" if isinstance(reason, (Urllib3Timeout, TimeoutError)) else "unreachable"


def _message(error: WebDriverException) -> str:
    return (error.msg or str(error)).strip().splitlines()[0][:500]


def server_status(server_url: str, timeout: float) -> dict[str, Any]:
    """GET /status: is the Appium server up (before any session is asked for)."""
    try:
        with urllib.request.urlopen(f"{server_url.rstrip('/')}/status", timeout=timeout) as response:
            return json.loads(response.read())
    except (OSError, ValueError) as error:
        raise DeviceUnavailable(f"Appium server {server_url} unreachable: {error}") from None


SCROLL_PERCENT = 0.8  # of the view's height: the last rows stay in sight, so nothing is skipped


class Device:
    """One Appium session on one device, for one run."""

    def __init__(self, driver: webdriver.Remote) -> None:
        self.driver = driver

    @classmethod
    def open_session(cls, server_url: str, app: dict[str, str], session_timeout: float, timeout: float,
                     extra_caps: dict[str, Any], idle_timeout_ms: int | None = None) -> "Device":
        """A session within `session_timeout` (installing and launching take longer than a command), whose
        later commands each get `timeout`; UiAutomator2 waits at most `idle_timeout_ms` for an idle screen."""
        options = AppiumOptions().load_capabilities(session_capabilities(app, extra_caps))
        # A command that timed out is not sent again: a hung server would cost 4 timeouts a command (urllib3's
        # default retries), and a tap resent is a second tap. Refused connections are still retried.
        pool = {"init_args_for_pool_manager": {"retries": Retry(total=3, read=0)}}
        config = AppiumClientConfig(remote_server_addr=server_url, timeout=session_timeout,
                                    init_args_for_pool_manager=pool)
        try:
            driver = webdriver.Remote(server_url, options=options, client_config=config)
        except (Urllib3Error, OSError) as error:
            raise DeviceUnavailable(f"Appium server {server_url} unreachable: {error}") from None
        except WebDriverException as error:
            message = _message(error)
            raise (AppNotFound if _MISSING_APP.search(message) else AppLaunchFailed)(message) from None
        config.timeout = timeout  # the driver reads its config at every request
        if idle_timeout_ms is not None:
            _set_idle_timeout(driver, idle_timeout_ms)
        return cls(driver)

    def page_source(self) -> str:
        with translated_errors():
            return self.driver.page_source

    def screenshot_png(self) -> bytes:
        with translated_errors():
            return self.driver.get_screenshot_as_png()

    def logcat(self) -> list[str]:
        """What the device logged since the last read, as logcat prints it (UiAutomator2's `logcat` log
        type; its entries all say level ALL, so only the message counts). Needs the log permission on a
        real server: a refusal is a DeviceError the caller records, not a reason to stop."""
        with translated_errors():
            return [str(entry.get("message", "")) for entry in self.driver.get_log("logcat")]

    def screen_density(self) -> int | None:
        """The session's `deviceScreenDensity` (dpi), to turn bounds into dp; None when the driver does not say."""
        try:
            return int(float((self.driver.capabilities or {})["deviceScreenDensity"]))
        except (KeyError, TypeError, ValueError):
            return None

    def current_activity(self) -> str:
        with translated_errors():
            return self.driver.current_activity

    def current_package(self) -> str:
        with translated_errors():
            return self.driver.current_package

    def is_app_installed(self, package: str) -> bool:
        with translated_errors():
            return bool(self.driver.is_app_installed(package))

    def install_app(self, apk_path: str) -> None:
        with translated_errors():
            self.driver.install_app(apk_path)

    def activate_app(self, package: str) -> None:
        with translated_errors():
            self.driver.activate_app(package)

    def terminate_app(self, package: str) -> None:
        with translated_errors():
            self.driver.terminate_app(package)

    def app_state(self, package: str) -> int:
        with translated_errors():
            return int(self.driver.query_app_state(package))

    def tap(self, locator: tuple[str, Any]) -> None:
        kind, value = locator
        with translated_errors():
            if kind == "point":
                self.driver.tap([tuple(value)])
            else:
                self.driver.find_element(LOCATOR_KINDS[kind], value).click()

    def type_text(self, locator: tuple[str, Any], text: str) -> None:
        kind, value = locator
        with translated_errors():
            element = self.driver.find_element(LOCATOR_KINDS[kind], value)
            element.clear()
            element.send_keys(text)

    def back(self) -> None:
        with translated_errors():
            self.driver.back()

    def long_press(self, locator: tuple[str, Any]) -> None:
        with translated_errors():
            self.driver.execute_script("mobile: longClickGesture", self._gesture_target(locator, point=True))

    def scroll(self, locator: tuple[str, Any], direction: str) -> bool:
        """Scroll a scrollable view most of its height; True while more can come that way (UiAutomator2's answer)."""
        with translated_errors():
            args = {**self._gesture_target(locator, point=False), "direction": direction, "percent": SCROLL_PERCENT}
            return bool(self.driver.execute_script("mobile: scrollGesture", args))

    def is_keyboard_shown(self) -> bool:
        with translated_errors():
            return bool(self.driver.is_keyboard_shown())

    def hide_keyboard(self) -> None:
        """UiAutomator2 hides it without a back press (a back would leave the screen if it were hidden already)."""
        with translated_errors():
            self.driver.hide_keyboard()

    def _gesture_target(self, locator: tuple[str, Any], point: bool) -> dict[str, Any]:
        """`elementId` of the located element; a "point" locator as x/y, or as a small area around it."""
        kind, value = locator
        if kind == "point":
            x, y = value
            return {"x": x, "y": y} if point else {"left": x - 1, "top": y - 1, "width": 2, "height": 2}
        return {"elementId": self.driver.find_element(LOCATOR_KINDS[kind], value).id}

    def quit(self) -> None:
        try:
            self.driver.quit()
        except (WebDriverException, Urllib3Error, OSError):
            pass  # the session is gone either way


def _set_idle_timeout(driver: webdriver.Remote, idle_timeout_ms: int) -> None:
    """UiAutomator2 waits up to 10 s for an animated screen to go idle before every read; a driver that has no
    such setting (or refuses it) is read as it is: the run goes on either way."""
    try:
        driver.update_settings({"waitForIdleTimeout": idle_timeout_ms})
    except (WebDriverException, Urllib3Error, OSError):
        pass


def open_device(app: dict[str, str], device_caps: dict[str, Any], appium_timeout: float,
                session_timeout: float, idle_timeout_ms: int | None = None) -> Device:
    """The agent's device for one run: a server that is down refuses at once; one that is slow to answer is
    busy starting other devices' sessions (dozens at once): it gets as long as any Appium call."""
    server = app["appiumServerUrl"]
    server_status(server, timeout=appium_timeout)
    return Device.open_session(server, app, session_timeout, appium_timeout, device_caps, idle_timeout_ms)
