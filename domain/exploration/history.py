"""What a run explored so far, read back from its events.

A run that continues on another worker (resumed after a pause, or taken over
after its worker was lost) rebuilds from this its metrics and its policy's
knowledge, instead of exploring the app afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class RecordedEvent(Protocol):
    """A run event as clients see it (`domain.wire.WireEvent`): its SSE name and data."""

    name: str
    data: Mapping[str, Any]


@dataclass
class ExplorationHistory:
    package_of: dict[str, str] = field(default_factory=dict)  # perceived screen -> its package
    discovered: dict[str, str] = field(default_factory=dict)  # discovered screen -> its activity
    offered: dict[str, set[str]] = field(default_factory=dict)  # action ids a screen offered, last time
    tried: list[tuple[str, str]] = field(default_factory=list)  # (screen, action id) per action performed
    transitions: list[tuple[str, str, str]] = field(default_factory=list)  # (from, action id, to)
    last_progress_step: int = 0  # the last step that found a new screen or transition

    @classmethod
    def from_events(cls, events: Iterable[RecordedEvent]) -> ExplorationHistory:
        history = cls()
        perceived_at: dict[int, str] = {}  # step -> the screen perceived at it
        for event in events:
            reader = _READERS.get(event.name)
            if reader is not None:
                reader(history, event.data, perceived_at)
        return history

    @property
    def screens(self) -> set[str]:
        """Every screen the run saw: perceived ones and those a transition led to."""
        return set(self.package_of) | {to for _, _, to in self.transitions}


def _perceived(history: ExplorationHistory, data: Mapping[str, Any], perceived_at: dict[int, str]) -> None:
    history.package_of[data["screenId"]] = data["package"]
    perceived_at[data["stepOrdinal"]] = data["screenId"]


def _discovered(history: ExplorationHistory, data: Mapping[str, Any], _: dict[int, str]) -> None:
    history.discovered[data["screenId"]] = data["activity"]
    history.last_progress_step = data["stepOrdinal"]


def _enumerated(history: ExplorationHistory, data: Mapping[str, Any], perceived_at: dict[int, str]) -> None:
    """EnumerateActions names the action ids it found (runs recorded before it did are
    left out: their screens are enumerated again on the next visit)."""
    action_ids = data["detail"].get("actionIds")
    screen = perceived_at.get(data["stepOrdinal"])
    if data["nodeName"] == "EnumerateActions" and action_ids is not None and screen is not None:
        history.offered[screen] = set(action_ids)


def _performed(history: ExplorationHistory, data: Mapping[str, Any], _: dict[int, str]) -> None:
    history.tried.append((data["screenId"], data["action"]["action_id"]))


def _transition(history: ExplorationHistory, data: Mapping[str, Any], _: dict[int, str]) -> None:
    history.transitions.append((data["fromScreen"], data["action"]["action_id"], data["toScreen"]))
    history.last_progress_step = data["stepOrdinal"]


_READERS = {
    "agent.screen.perceived": _perceived,
    "graph.screen.discovered": _discovered,
    "agent.node.finished": _enumerated,
    "agent.action.performed": _performed,
    "graph.transition.discovered": _transition,
}
