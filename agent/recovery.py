"""A lost session replaced (DESIGN.md "Time and faults"): UiAutomator2's server died, the session id is no
longer valid, the server refuses or never answers. A new session, the app launched, the route followed back
to the screen the step started on; the run goes on with the next step. MAX_FAILED_RECOVERIES in a row end
the run `device_unavailable`: a new session that fails to open, or that is lost again before a step is done
with it (a server that dies faster than a step can be taken is as gone as one that does not start)."""

from __future__ import annotations

import time

from adapters.device import AppLaunchFailed, DeviceError, SessionLost
from agent.context import RunContext
from agent.outcome import Stop, cancelled
from agent.route import RouteFollower
from domain.exploration import Screen
from domain.run import Run

MAX_FAILED_RECOVERIES = 3
BACKOFF_SECONDS = (0.5, 1.0, 2.0)  # a server that restarts needs a moment before it takes a session


class SessionRecovery:
    def __init__(self, context: RunContext) -> None:
        self.context, self.node = context, context.node
        self.follower = RouteFollower(context)
        self.failures = 0  # failed recoveries in a row, across steps: reset once a step is done (`step_done`)

    def __call__(self, step: int, screen: Screen, lost: SessionLost) -> Screen | Stop:
        """The screen the next step starts from (`screen` when the route led back to it)."""
        began, error = time.monotonic(), lost
        while self.failures < MAX_FAILED_RECOVERIES:
            try:
                now, route_length = self._reopen(step, screen)
            except DeviceError as again:  # lost again, a server that is down, a route step it refused
                self.failures += 1
                error = again
                if self.failures < MAX_FAILED_RECOVERIES:
                    self._backoff(BACKOFF_SECONDS[self.failures - 1])
                continue
            self.failures += 1  # until a step is done with the new session
            self.context.figures.recoveries += 1
            self.node.record(Run.record_recovery, step_ordinal=step, cause=lost.cause,
                             seconds=round(time.monotonic() - began, 2), route_length=route_length)
            return now
        return Stop.failed("device_unavailable", f"{MAX_FAILED_RECOVERIES} recoveries of the session failed in a "
                                                 f"row; the last: {error}")

    def step_done(self) -> None:
        self.failures = 0

    def reopen_only(self, step: int, lost: SessionLost) -> bool:
        """A new session with the app launched (a replay starts from a fresh launch: no route back), recorded
        as a recovery at `step`; False once MAX_FAILED_RECOVERIES in a row failed."""
        began = time.monotonic()
        while self.failures < MAX_FAILED_RECOVERIES:
            try:
                self._launch(step)
            except DeviceError:
                self.failures += 1
                continue
            self.failures = 0
            self.node.record(Run.record_recovery, step_ordinal=step, cause=lost.cause,
                             seconds=round(time.monotonic() - began, 2), route_length=0)
            return True
        return False

    def _reopen(self, step: int, screen: Screen) -> tuple[Screen, int]:
        now = self._launch(step)
        start = self.context.journal.start
        if start is not None and now.screen_id != start:  # a dialog at this launch ("rate us"): not on any route
            now = self.follower.clear_dialog(step, {"fromScreen": start}, now)
        route = self.context.journal.route(now.screen_id, screen.screen_id, self.context.inputs) or []
        followed = 0
        for leg in route:
            try:
                now = self.follower.take(step, leg, now)
            except SessionLost:
                raise
            except DeviceError:  # the way back is not what it was (an item gone): go on from where it led
                now = self.context.surroundings.look(step, record=False)[0]
                break
            followed += 1
        if not now.in_app(self.context.package):
            raise AppLaunchFailed("the app left the foreground on the way back")
        return now, followed

    def _launch(self, step: int) -> Screen:
        self.context.device.reopen()
        now = self.follower.launch(step)
        if not now.in_app(self.context.package):
            raise AppLaunchFailed(f"{self.context.package} is not in the foreground in the new session")
        self.context.journal.launched(now.screen_id)
        return now

    def _backoff(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.node.cancel_requested():
                raise cancelled()
            time.sleep(min(0.05, left))
