"""What a run explored so far, read back from its events.

A run that continues on another worker (resumed after a pause, or taken over
after its worker was lost) rebuilds from this its metrics and its policy's
knowledge, instead of exploring the app afresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from domain.run import Run


@dataclass
class ExplorationHistory:
    package_of: dict[str, str] = field(default_factory=dict)  # perceived screen -> its package
    discovered: dict[str, str] = field(default_factory=dict)  # discovered screen -> its activity
    offered: dict[str, set[str]] = field(default_factory=dict)  # action ids a screen offered, last time
    tried: list[tuple[str, str]] = field(default_factory=list)  # (screen, action id) per action performed
    transitions: list[tuple[str, str, str]] = field(default_factory=list)  # (from, action id, to)
    left: set[tuple[str, str]] = field(default_factory=set)  # (from, action id) that opened another app
    last_progress_step: int = 0  # the last step that found a new screen or transition

    @classmethod
    def from_events(cls, events: Iterable[Run.Event]) -> ExplorationHistory:
        """Rebuilt from the run's stored events (`RunService.domain_events`), in store order."""
        history = cls()
        perceived_at: dict[int, str] = {}  # step -> the screen perceived at it
        for event in events:
            match event:
                case Run.ScreenPerceived():
                    history.package_of[event.screen_id] = event.package
                    perceived_at[event.step_ordinal] = event.screen_id
                case Run.ScreenDiscovered():
                    history.discovered[event.screen_id] = event.activity
                    history.last_progress_step = event.step_ordinal
                case Run.NodeFinished(node_name="EnumerateActions"):
                    # EnumerateActions names the action ids it found (runs recorded before it did are
                    # left out: their screens are enumerated again on the next visit).
                    action_ids = event.detail.get("actionIds")
                    screen = perceived_at.get(event.step_ordinal)
                    if action_ids is not None and screen is not None:
                        history.offered[screen] = set(action_ids)
                case Run.ActionPerformed():
                    history.tried.append((event.screen_id, event.action["action_id"]))
                case Run.TransitionDiscovered(to_screen=None):  # left the app: no screen of its graph
                    history.left.add((event.from_screen, event.action["action_id"]))
                    history.last_progress_step = event.step_ordinal
                case Run.TransitionDiscovered():
                    history.transitions.append((event.from_screen, event.action["action_id"], event.to_screen))
                    history.last_progress_step = event.step_ordinal
        return history

    @property
    def screens(self) -> set[str]:
        """Every screen the run saw: perceived ones and those a transition led to."""
        return set(self.package_of) | {to for _, _, to in self.transitions}

