"""How a run ends on this worker: an outcome the loop returns, and the one exception, a user's request.

Reaching the goal, spending the budget or the device giving up are what a node's work returns
(a `Stop`); the loop hands it back up. Only a cancel or a pause, which may arrive while the agent
waits anywhere (polling the screen, backing off, replaying a finding), interrupts it as an exception.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stop:
    """`outcome` is completed, failed, canceled, or paused (not an end: the run frees its device)."""

    outcome: str
    stop_reason: str
    error: str = ""

    @classmethod
    def completed(cls, stop_reason: str) -> Stop:
        return cls("completed", stop_reason)

    @classmethod
    def failed(cls, stop_reason: str, error: str) -> Stop:
        return cls("failed", stop_reason, error)


CANCELED = Stop("canceled", "user_cancelled")
PAUSED = Stop("paused", "paused")


class Interrupted(Exception):
    """A user's cancel or pause, met at a node boundary or while the agent waits."""

    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.stop_reason)
        self.stop = stop


def cancelled() -> Interrupted:
    return Interrupted(CANCELED)
