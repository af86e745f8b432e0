"""Perception on the device: the current screen, and waiting until it stops changing."""

from __future__ import annotations

import time
from typing import Callable

from adapters.device import DeviceError, DevicePort
from agent.outcome import cancelled
from domain.exploration import PageSourceError, Screen, parse_screen

IDLE_POLL_SECONDS = 0.05
IDLE_MAX_POLLS = 20  # about a second: an app still animating after that is perceived as it is


class Observer:
    def __init__(self, device: DevicePort, package: str, cancel_requested: Callable[[], bool],
                 before_waiting: Callable[[], None]) -> None:
        self.device, self.package, self.cancel_requested = device, package, cancel_requested
        self.before_waiting = before_waiting
        self.last_source = ""

    def screen(self) -> Screen:
        source = self.device.page_source()
        self.last_source = source
        return self._parse(source)

    def wait_idle(self) -> Screen:
        """The screen once two page sources in a row are equal (bounded; cancel interrupts)."""
        previous = self.device.page_source()
        for poll in range(IDLE_MAX_POLLS):
            current = self.device.page_source()
            if current == previous:
                break
            if poll == 0:
                self.before_waiting()  # the screen is still changing: show what happened so far
            if self.cancel_requested():
                raise cancelled()
            time.sleep(IDLE_POLL_SECONDS)
            previous = current
        self.last_source = previous
        return self._parse(previous)

    def wait_change(self, source: str, seconds: float) -> Screen | None:
        """The screen once its page source is no longer `source` (then idle), or None after `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.cancel_requested():
                raise cancelled()
            time.sleep(IDLE_POLL_SECONDS)
            if self.device.page_source() != source:
                return self.wait_idle()
        return None

    def _parse(self, source: str) -> Screen:
        """A page source that cannot be read (not XML, a DOCTYPE) is the device's error: retried, then
        `device_error`, like a refused command."""
        activity, package = self.device.current_activity(), self.device.current_package()
        try:
            return parse_screen(source, activity=activity, package=package)
        except PageSourceError as error:
            raise DeviceError(f"unreadable page source: {error}") from None
