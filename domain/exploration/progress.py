"""DetectProgress: is the exploration still finding anything new?"""

from __future__ import annotations


class ProgressTracker:
    """Counts steps since the last new screen or new transition; `stalled` after `limit` of them.

    Feed it every step, in order (replaying a run's steps rebuilds it after a worker restart).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self.steps_without_progress = 0
        self._screens: set[str] = set()
        self._transitions: set[tuple[str, str, str]] = set()

    def record(
        self,
        screen_id: str | None = None,
        transition: tuple[str, str, str] | None = None,
        *,
        new_screen: bool = False,
        new_transition: bool = False,
    ) -> bool:
        """One step: the screen it ended on and its (from, action, to) transition, and/or
        what the caller already knows is new. True when the step found something new."""
        progressed = new_screen or new_transition
        if screen_id is not None:
            progressed |= screen_id not in self._screens
            self._screens.add(screen_id)
        if transition is not None:
            progressed |= transition not in self._transitions
            self._transitions.add(transition)
        return self.record_outcome(progressed)

    def record_outcome(self, progressed: bool) -> bool:
        """For callers that already know whether the step found something new."""
        self.steps_without_progress = 0 if progressed else self.steps_without_progress + 1
        return progressed

    @property
    def stalled(self) -> bool:
        return self.steps_without_progress >= self.limit

    @property
    def screens_seen(self) -> int:
        return len(self._screens)
