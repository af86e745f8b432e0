"""What a run remembers to report findings and reproduce them: the signatures it met, the screen it
launches on, the transitions it took and, for each way off a screen, what it did on that screen first.

Kept by the agent as it explores; a resumed or taken-over run rebuilds it from its events (as the
policies rebuild from ExplorationHistory), so a bug met before a pause is still one finding after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.findings.reproduction import Step, route_steps
from domain.run import Run

# Actions that keep the app on its screen but change what the next action meets: a form typed into,
# a list scrolled to the item a route needs.
PREPARING_KINDS = frozenset({"type", "scroll", "toggle"})


@dataclass
class FindingsJournal:
    start: str | None = None  # the screen a fresh launch shows
    transitions: set[tuple[str, str, str]] = field(default_factory=set)
    actions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (screen, actionId) -> action
    led_on: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # way off -> what came first
    findings: dict[str, str] = field(default_factory=dict)  # signature -> findingId
    kinds: dict[str, str] = field(default_factory=dict)  # findingId -> kind
    triggers: dict[str, tuple[str, str]] = field(default_factory=dict)  # findingId -> (screen, actionId)
    activities: dict[str, str] = field(default_factory=dict)  # findingId -> the trigger screen's activity
    freezes: dict[str, float] = field(default_factory=dict)  # findingId -> seconds an ANR froze the app
    _visit: str | None = None
    _prepared: list[dict[str, Any]] = field(default_factory=list)
    # Per screen, the latest text typed into each field, on any visit: a field keeps its text while its
    # activity lives, so a form filled over two visits is left with both fields filled.
    _typed: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def launched(self, screen_id: str) -> None:
        """The app (re)started on `screen_id`: the first launch's screen is where reproductions start. The
        visit under way is closed by the action that ended it (`acted`, recorded after the restart it caused)."""
        if self.start is None:
            self.start = screen_id

    def acted(self, screen_id: str, action: Mapping[str, Any], to_screen: str) -> None:
        action_id = action["action_id"]
        if screen_id != self._visit:
            self._visit, self._prepared = screen_id, []
        self.actions[(screen_id, action_id)] = dict(action)
        if to_screen == screen_id:
            if action["kind"] in PREPARING_KINDS:
                self._prepared.append(dict(action))
            if action["kind"] == "type":
                self._typed.setdefault(screen_id, {})[action_id] = dict(action)
            return
        self.transitions.add((screen_id, action_id, to_screen))
        this_visit = {done["action_id"] for done in self._prepared}
        earlier = [typed for aid, typed in self._typed.get(screen_id, {}).items() if aid not in this_visit]
        self.led_on[(screen_id, action_id)] = earlier + self._prepared
        self._visit, self._prepared = to_screen, []

    def met(self, signature: str, finding_id: str, kind: str, trigger: tuple[str, str], activity: str,
            freeze_seconds: float | None = None) -> bool:
        """True the first time the signature is met (a new finding), False for a recurrence."""
        if signature in self.findings:
            return False
        self.findings[signature], self.kinds[finding_id], self.triggers[finding_id] = finding_id, kind, trigger
        self.activities[finding_id] = activity
        if freeze_seconds is not None:
            self.freezes[finding_id] = freeze_seconds
        return True

    def visit_actions(self, route: Iterable[tuple[str, str, str]]) -> dict[str, list[dict[str, Any]]]:
        """For each screen of a route, what was done on it on the visit that left it by the route's action."""
        return {from_id: self.led_on.get((from_id, action_id), []) for from_id, action_id, _ in route}

    def route(self, start: str, goal: str, inputs: Mapping[str, str] | None = None) -> list[Step] | None:
        """The steps from `start` to the screen `goal` over what the run took (DESIGN.md "Time and faults"),
        with what was done on each screen of the way on the visit that left it so; None: no known way."""
        by_id = {action_id: action for (_, action_id), action in self.actions.items()}
        legs = route_steps(self.transitions, start, goal, {}, by_id)
        if legs is None:
            return None
        ways = [(leg["fromScreen"], leg["actionId"], leg["toScreen"]) for leg in legs]
        return route_steps(self.transitions, start, goal, self.visit_actions(ways), by_id, inputs)

    @classmethod
    def from_events(cls, events: Iterable[Run.Event]) -> FindingsJournal:
        """Rebuilt from the run's stored events (`RunService.domain_events`), in store order."""
        journal = cls()
        pending: dict[int, tuple[str, dict[str, Any]]] = {}  # step -> the action taken there
        for event in events:
            match event:
                case Run.NodeFinished(node_name="WaitIdle" | "RestartApp", outcome_status="SUCCESS") \
                        if "screenId" in event.detail:
                    journal.launched(event.detail["screenId"])
                case Run.ActionPerformed() if not event.reproducing:
                    pending[event.step_ordinal] = (event.screen_id, event.action)
                case Run.NodeFinished(node_name="Verify") if event.step_ordinal in pending and "screenId" in event.detail:
                    screen_id, action = pending.pop(event.step_ordinal)
                    journal.acted(screen_id, action, event.detail["screenId"])
                case Run.TransitionDiscovered(by="time") if event.to_screen is not None:
                    journal.acted(event.from_screen, event.action, event.to_screen)  # a wait is a way on too
                case Run.FindingDetected():
                    journal.met(event.signature, event.finding_id, event.kind, (event.screen_id, event.action_id or ""),
                                event.activity, event.details.get("freezeSeconds"))
        return journal
