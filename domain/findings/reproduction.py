"""How to make a finding happen again: the shortest known path from a fresh launch to its trigger.

A step is plain JSON-ready data, the same in `agent.finding.reproduced` events, the
findings projection and the generated test.py:

    {"kind", "target" (the locator: ["id", ...], ["xpath", ...], ["point", [x, y]] or None for back),
     "label", "actionId", "fromScreen", "toScreen" (None after the trigger: what shows then is the bug)}
    + "direction" for a scroll, "declared": false for a tap on a leaf view that does not say it is clickable,
    + for a type: "text" (generated text, written into the test) or "inputKey" (the run's `inputs`
      key the text came from: the test reads it from RUNSERVICE_INPUTS, so no secret is written down).

Action dicts are `Action.to_dict()`; the text of a type action may be missing (events leave it
out) or carry `inputKey` already.

A replay answers the permission dialogs that show as the run did (`permission_buttons`): the same
steps meet the same dialogs, and an answer that differs sends the app elsewhere.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from domain.exploration.actions import BACK
from domain.exploration.graph import ScreenGraph
from domain.exploration.system import PERMISSION_PACKAGES, permission_button_names

Step = dict[str, Any]
ActionDict = Mapping[str, Any]


def reproduction_steps(
    transitions: Iterable[tuple[str, str, str]],
    start: str,
    target: tuple[str, ActionDict | str],
    visit_actions: Mapping[str, list[ActionDict]],
    actions_by_id: Mapping[str, ActionDict],
    inputs: Mapping[str, str] | None = None,
) -> list[Step] | None:
    """Steps from the launch screen `start` to the trigger `target` (its screen, its action or
    action id), or None when no known route leads there.

    On each screen of the path, the actions `visit_actions[screen]` (typing, scrolling: they do
    not change the screen) come first, then the action that leads on. A typed text equal to one
    of `inputs`' values becomes that value's key, so the steps never hold a user's input.
    """
    screen, trigger = target
    trigger_action = _action(trigger, actions_by_id) if isinstance(trigger, str) else trigger
    route = _route(transitions, start, screen, actions_by_id)
    if route is None or trigger_action is None:
        return None
    legs = [(from_id, _action(action_id, actions_by_id), to_id) for from_id, action_id, to_id in route]
    steps: list[Step] = []
    for from_id, action, to_id in [*legs, (screen, trigger_action, None)]:
        steps += [step(done, from_id, from_id, inputs) for done in visit_actions.get(from_id, ())]
        steps.append(step(action, from_id, to_id, inputs))
    return steps


def route_steps(
    transitions: Iterable[tuple[str, str, str]],
    start: str,
    goal: str,
    visit_actions: Mapping[str, list[ActionDict]],
    actions_by_id: Mapping[str, ActionDict],
    inputs: Mapping[str, str] | None = None,
) -> list[Step] | None:
    """Steps from `start` to the screen `goal` over the same shortest route reproduction_steps takes, with
    what was done on each screen first (a recovered session follows it back to where the run was);
    None when no known route leads there."""
    route = _route(transitions, start, goal, actions_by_id)
    if route is None:
        return None
    steps: list[Step] = []
    for from_id, action_id, to_id in route:
        steps += [step(done, from_id, from_id, inputs) for done in visit_actions.get(from_id, ())]
        steps.append(step(_action(action_id, actions_by_id), from_id, to_id, inputs))
    return steps


def permission_buttons(permissions: str) -> list[str]:
    """The resource ids of the buttons that answer a permission dialog as a run with `permissions` (grant or
    deny) did, by preference, for either controller package; none showing: back answers deny."""
    return [f"{package}:id/{name}" for name in permission_button_names(permissions)
            for package in sorted(PERMISSION_PACKAGES)]


def _route(transitions: Iterable[tuple[str, str, str]], start: str, goal: str,
           actions_by_id: Mapping[str, ActionDict]) -> list[tuple[str, str, str]] | None:
    """(from, action id, to) legs of a shortest route over actions we can replay."""
    if goal == start:
        return []
    graph = ScreenGraph()
    # Sorted: the same transitions give the same route whatever order they come in, so a
    # replay of the events writes the same test.
    for from_id, action_id, to_id in sorted(set(transitions)):
        if _action(action_id, actions_by_id) is not None:
            graph.record(from_id, action_id, to_id)
    path = graph.route(start, lambda screen: screen == goal, graph.actions_from(start), random.Random(0))
    if path is None:
        return None
    screens = [start, *(to_id for _, to_id in path)]
    return [(screens[i], action_id, to_id) for i, (action_id, to_id) in enumerate(path)]


def _action(action_id: str, actions_by_id: Mapping[str, ActionDict]) -> ActionDict | None:
    if action_id in actions_by_id:
        return actions_by_id[action_id]
    return BACK.to_dict() if action_id == BACK.action_id else None  # back needs no locator


def step(action: ActionDict, from_screen: str, to_screen: str | None,
         inputs: Mapping[str, str] | None = None) -> Step:
    """One step from an action dict (Action.to_dict() keys, or a step's own camelCase ones)."""
    data: Step = {
        "kind": action["kind"], "target": _plain(action.get("target")), "label": action.get("label", ""),
        "actionId": action.get("action_id") or action.get("actionId") or action["kind"],
        "fromScreen": from_screen, "toScreen": to_screen,
    }
    if action.get("direction") is not None:
        data["direction"] = action["direction"]
    if action.get("declared") is False:  # a tap on a leaf view that does not say it is clickable
        data["declared"] = False
    if action["kind"] == "type":
        data.update(_typed(action, inputs or {}))
    return data


def _typed(action: ActionDict, inputs: Mapping[str, str]) -> dict[str, str | None]:
    key = action.get("inputKey") or action.get("input_key") or input_key(action.get("text"), inputs)
    return {"inputKey": key} if key is not None else {"text": action.get("text")}


def input_key(text: str | None, inputs: Mapping[str, str]) -> str | None:
    """The key of the user's input `text` is, if it is one (the first such key)."""
    if text is None:
        return None
    return next((key for key, value in inputs.items() if value == text), None)


def _plain(value: Any) -> Any:
    """Tuples as lists, so a step is the same before and after a JSON round trip."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
