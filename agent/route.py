"""Following a known route from a fresh launch, as a replay and a recovered session do (DESIGN.md "Findings",
"Time and faults"): each step once the screen has settled, a wait where the app changed by itself, the
permission dialogs answered as the run did and a dialog the route does not know dismissed with back."""

from __future__ import annotations

from typing import Any

from adapters.device import perform
from agent.context import RunContext
from domain.exploration import Action, Screen
from domain.exploration.labels import screen_labels
from domain.findings.dialogs import system_dialog

# A transition that came with time (`by: "time"`): its action, as events and routes show it.
WAIT = {"kind": "wait", "action_id": "wait", "label": "wait"}
MAX_DIALOG_BACKS = 2  # a dialog that survives two backs is the screen the route goes on from


class RouteFollower:
    def __init__(self, context: RunContext) -> None:
        self.context = context

    def launch(self, step: int) -> Screen:
        """The app brought to the front, once it settled, past the permission dialogs of its start."""
        self.context.device.activate_app(self.context.package)
        return self.context.surroundings.look(step, record=False)[0]

    def take(self, step: int, leg: dict[str, Any], screen: Screen) -> Screen:
        """Does one route step from `screen`; returns the screen after it."""
        context = self.context
        screen = self.clear_dialog(step, leg, screen)
        if leg["kind"] == "wait":
            # The app went on by itself there: wait for it, unless it has already.
            if screen.screen_id != leg["fromScreen"]:
                return screen
            changed = context.observer.wait_change(context.observer.last_source, context.settings.loading_seconds)
            return changed or screen
        perform(context.device, route_action(leg, context.inputs))
        return context.surroundings.look(step, record=False)[0]

    def clear_dialog(self, step: int, leg: dict[str, Any], screen: Screen) -> Screen:
        """A dialog of the app where the route expects another screen (a "rate us" on a later launch): back."""
        for _ in range(MAX_DIALOG_BACKS):
            if (screen.screen_id == leg["fromScreen"] or "dialog" not in screen_labels(screen)
                    or system_dialog(screen) is not None):
                break
            self.context.device.back()
            screen = self.context.surroundings.look(step, record=False)[0]
        return screen


def route_action(leg: dict[str, Any], inputs: dict[str, str]) -> Action:
    """The action of a route step (domain/findings/reproduction.py's), the run's input typed where it was."""
    target = leg.get("target")
    if target is not None:
        kind, value = target
        target = (kind, tuple(value) if isinstance(value, list) else value)
    text = inputs.get(leg["inputKey"], "") if leg.get("inputKey") else leg.get("text")
    return Action(kind=leg["kind"], target=target, text=text, label=leg.get("label", ""),
                  action_id=leg["actionId"], direction=leg.get("direction"), declared=leg.get("declared", True))
