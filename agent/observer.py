"""Perception on the device: the current screen, once it has stopped changing and finished loading
(DESIGN.md "Time and faults")."""

from __future__ import annotations

import time
from typing import Callable

from adapters.device import DeviceError, DevicePort
from agent.outcome import cancelled
from domain.exploration import PageSourceError, Screen, parse_screen
from domain.exploration.labels import is_loading

IDLE_POLL_SECONDS = 0.05
LOADING_POLL_SECONDS = 0.2  # a loading screen changes in seconds: no need to read it 20 times a second


class Observer:
    def __init__(self, device: DevicePort, package: str, cancel_requested: Callable[[], bool],
                 before_waiting: Callable[[], None], settle_seconds: float = 3.0, loading_seconds: float = 10.0,
                 on_wait: Callable[[float], None] = lambda seconds: None) -> None:
        self.device, self.package, self.cancel_requested = device, package, cancel_requested
        self.before_waiting, self.on_wait = before_waiting, on_wait
        self.settle_seconds, self.loading_seconds = settle_seconds, loading_seconds
        self.last_source = ""
        # Loading screens waited for in vain: a spinner that never ends costs LOADING_SECONDS once, not each look.
        self.endless: set[str] = set()

    def screen(self) -> Screen:
        source = self.device.page_source()
        self.last_source = source
        return self._parse(source)

    def wait_idle(self) -> Screen:
        """The screen once two page sources in a row are equal (at most settle_seconds), and once it shows more
        than a progress bar (at most loading_seconds); cancel interrupts."""
        began = time.monotonic()
        try:
            return self._settle()
        finally:
            self._waited(began)

    def changed(self, screen_id: str) -> Screen | None:
        """One page-source read: None when it is the one last taken. Else the screen changed by itself while
        the agent thought: as it is when it is still the screen `screen_id` (a ticking clock, a banner: its
        texts moved on, nothing to wait for), else once it has settled."""
        source = self.device.page_source()
        if source == self.last_source:
            return None
        screen = self._parse(source)
        if screen.screen_id != screen_id:
            return self.wait_idle()
        self.last_source = source
        return screen

    def wait_change(self, source: str, seconds: float) -> Screen | None:
        """The screen once its page source is no longer `source` (then idle), or None after `seconds`."""
        began = time.monotonic()
        try:
            while time.monotonic() < began + seconds:
                self._pause(IDLE_POLL_SECONDS)
                if self.device.page_source() != source:
                    return self._settle()
            return None
        finally:
            self._waited(began)

    def _settle(self) -> Screen:
        began = time.monotonic()
        settle_by, load_by = began + self.settle_seconds, began + self.loading_seconds
        previous = self.device.page_source()
        waited, parsed, screen = False, None, None
        while True:
            current = self.device.page_source()
            if current == previous or time.monotonic() >= settle_by:
                # A loading screen read again unchanged is not asked for its activity again (each is a command).
                screen = screen if current == parsed else self._parse(current)
                parsed, loading = current, is_loading(screen)
                if not loading or current in self.endless or time.monotonic() >= load_by:
                    if loading:
                        self.endless.add(current)
                    break
                pause = LOADING_POLL_SECONDS
            else:
                pause = IDLE_POLL_SECONDS
            if not waited:
                self.before_waiting()  # the screen is still changing: show what happened so far
                waited = True
            self._pause(pause)
            previous = current
        self.last_source = current
        return screen

    def _pause(self, seconds: float) -> None:
        if self.cancel_requested():
            raise cancelled()
        time.sleep(seconds)

    def _waited(self, began: float) -> None:
        """Only waits count (not two reads that found the screen still): the run's waitSeconds."""
        if (seconds := time.monotonic() - began) >= IDLE_POLL_SECONDS:
            self.on_wait(seconds)

    def _parse(self, source: str) -> Screen:
        """A page source that cannot be read (not XML, a DOCTYPE) is the device's error: retried, then
        `device_error`, like a refused command."""
        activity, package = self.device.current_activity(), self.device.current_package()
        try:
            return parse_screen(source, activity=activity, package=package)
        except PageSourceError as error:
            raise DeviceError(f"unreadable page source: {error}") from None
