"""What the agent may do on a screen: the enumeration less what a run keeps its hands off.

- `avoid`: elements matching the run's patterns (domain/exploration/avoid.py: sign out, delete
  account, purchase) are never acted on, nor is the innermost touchable view around one (a Compose
  button is a clickable view holding the label the pattern names: a tap on it is a tap on the label).
- A login wall: a password field no `inputs` fill gets no guess typed into it (guesses lock accounts
  and say nothing about the app); the rest of the screen is explored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from domain.exploration.actions import Action, enumerate_offers
from domain.exploration.elements import Element
from domain.exploration.inputs import matching_input
from domain.exploration.screen import Screen

_TOUCHES = frozenset({"tap", "toggle", "long_press"})


class ElementPattern(Protocol):
    def matches(self, element: Element) -> bool: ...


@dataclass(frozen=True)
class Offer:
    actions: tuple[Action, ...]
    avoided: int  # actions left out for the run's avoid patterns
    login_wall: bool  # a password field the run has no input for


def offer(screen: Screen, inputs: Mapping[str, str] | None = None,
          avoid: Iterable[ElementPattern] = ()) -> Offer:
    inputs, patterns = inputs or {}, tuple(avoid)
    offers = enumerate_offers(screen, inputs)
    avoided = _avoided_elements(screen, offers, patterns)
    kept = [(action, element) for action, element in offers if element is None or id(element) not in avoided]
    guesses = [action for action, element in kept if action.kind == "type" and _unfilled_password(element, inputs)]
    actions = tuple(action for action, _ in kept if action not in guesses)
    return Offer(actions, len(offers) - len(kept), login_wall=bool(guesses))


def is_login(screen: Screen) -> bool:
    """A screen with a password field is a login screen."""
    return any(element.password and element.displayed for element in screen.elements)


def _unfilled_password(element: Element | None, inputs: Mapping[str, str]) -> bool:
    return element is not None and element.password and matching_input(element, inputs) is None


def _avoided_elements(screen: Screen, offers: Iterable[tuple[Action, Element | None]],
                      patterns: tuple[ElementPattern, ...]) -> set[int]:
    """The ids of the elements not to act on: those that match, and the innermost touchable element
    holding the centre of a matching one (where a touch on the matching label lands)."""
    if not patterns:
        return set()
    touchable = [element for action, element in offers if element is not None and action.kind in _TOUCHES]
    matching = [element for element in screen.displayed_elements if any(p.matches(element) for p in patterns)]
    avoided = {id(element) for element in matching}
    for element in matching:
        holders = [h for h in touchable if _holds(h.bounds, element.center)]
        if holders:
            avoided.add(id(min(holders, key=_area)))
    return avoided


def _holds(box: tuple[int, int, int, int], point: tuple[int, int]) -> bool:
    return box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def _area(element: Element) -> int:
    x1, y1, x2, y2 = element.bounds
    return (x2 - x1) * (y2 - y1)
