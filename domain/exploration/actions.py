"""Actions a screen offers, with ids that stay the same on every visit of the screen."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from domain.exploration.action_order import top_to_bottom, try_order
from domain.exploration.elements import Element
from domain.exploration.inputs import text_for
from domain.exploration.locators import Locator, LocatorIndex
from domain.exploration.screen import Screen
from domain.exploration.webview import grid_points, is_web_area

KINDS = ("tap", "type", "toggle", "long_press", "scroll", "back")
# List items of one shape lead to one kind of screen: try the first few, not all 48.
# (Items of a scrolling list are all offered: which are "the first few" changes as it
# scrolls; the policy stops at a list's items once a few led to one screen.)
MAX_LIST_ITEMS = 3
SCROLL_DIRECTION = "down"  # lists open at their top: more can only come from below
_MAX_NAME_IN_ID = 40
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Action:
    kind: str
    target: Locator | None = None  # ("id" | "xpath", str) or ("point", (x, y)); None for back
    text: str | None = None  # what a "type" action types
    label: str = ""
    action_id: str = ""
    direction: str | None = None  # where a "scroll" brings content from (UiAutomator2's scrollGesture)
    # False for a tap on a leaf view that does not say it is clickable (enumerate_actions offers those after the rest).
    declared: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"action kind {self.kind!r} is not one of {', '.join(KINDS)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, for domain events."""
        target = None if self.target is None else [self.target[0], _plain(self.target[1])]
        data = {"kind": self.kind, "target": target, "text": self.text,
                "label": self.label, "action_id": self.action_id}
        if self.direction is not None:
            data["direction"] = self.direction
        if not self.declared:
            data["declared"] = False
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        target = data.get("target")
        if target is not None:
            strategy, value = target
            target = (strategy, tuple(value) if isinstance(value, list) else value)
        return cls(kind=data["kind"], target=target, text=data.get("text"), label=data.get("label", ""),
                   action_id=data.get("action_id", ""), direction=data.get("direction"),
                   declared=data.get("declared", True))


BACK = Action(kind="back", label="back", action_id="back")
Offered = tuple[Action, Element | None]  # an action and the element it acts on (None: back)


def list_group(action_id: str) -> str | None:
    """"tap:TextView#recipe" for "tap:TextView#recipe@[Pancakes]" or "...@2": the list the item is in."""
    match = _LIST_ITEM.match(action_id)
    return match.group(1) if match else None


_LIST_ITEM = re.compile(r"^([a-z_]+:[\w$]+(?:#[\w.]+)?)@")


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def enumerate_actions(screen: Screen, inputs: Mapping[str, str] | None = None) -> tuple[Action, ...]:
    """What the screen offers, in the order to try it: type into fields, toggle checkables, tap clickables,
    long-press long-clickables and scroll scrollables (in `try_order`'s order); then taps on a grid over each
    WebView the page source shows as an empty box; then a tap on each leaf view that no touchable view covers,
    top to bottom; then back."""
    return tuple(action for action, _ in enumerate_offers(screen, inputs))


def enumerate_offers(screen: Screen, inputs: Mapping[str, str] | None = None) -> tuple[Offered, ...]:
    """`enumerate_actions`, each action with the element it acts on (None for back): the rules that keep
    some actions back (domain/exploration/offer.py) judge the element."""
    elements = screen.elements
    kinds = {i: offered for i, element in enumerate(elements) if (offered := _kinds(element))}
    declared = list(kinds)
    leaves = _uncovered_leaves(elements, kinds)
    web = [i for i in leaves if is_web_area(elements[i])]  # tapped on a grid, not once at the centre
    uncovered = [i for i in leaves if i not in web]
    keys = _identity_keys(elements, declared + uncovered)  # declared first: their ids stay as they were
    locators = LocatorIndex(elements)
    offers = [(_action(elements[i], kind, keys[i], locators.locator(i), inputs), elements[i])
              for i in try_order(elements, declared) for kind in kinds[i]]
    offers += _web_taps(elements, web, _covering(elements, kinds))
    offers += [(replace(_action(elements[i], "tap", keys[i], locators.locator(i), inputs), declared=False), elements[i])
               for i in top_to_bottom(elements, uncovered)]
    return (*offers, (BACK, None))


def _web_taps(elements: tuple[Element, ...], web: list[int], covering: list[Box]) -> list[Offered]:
    """Undeclared taps on points of each web area that no touchable view covers; ids relative to the WebView."""
    offers: list[Offered] = []
    seen: Counter[str] = Counter()
    for i in top_to_bottom(elements, web):
        element = elements[i]
        for x, y in grid_points(element):
            if any(_holds(box, (x, y)) for box in covering):
                continue
            key = f"tap@{x - element.bounds[0]},{y - element.bounds[1]}"
            action_id = key if seen[key] == 0 else f"{key}~{seen[key]}"  # a second WebView's same point
            seen[key] += 1
            offers.append((Action(kind="tap", target=("point", (x, y)), label=f"tap web content at {x},{y}",
                                  action_id=action_id, declared=False), element))
    return offers


def _offered(element: Element) -> bool:
    """Displayed, enabled, and not one more item of a list beyond the first few."""
    if not (element.displayed and element.enabled):
        return False
    return element.scrolled or all(ordinal < MAX_LIST_ITEMS for ordinal in element.repeat)


def _kinds(element: Element) -> list[str]:
    if not _offered(element):
        return []
    kinds = ["type" if element.editable else "toggle" if element.checkable else "tap" if element.clickable else ""]
    kinds += ["long_press"] * element.long_clickable + ["scroll"] * element.scrollable
    return [kind for kind in kinds if kind]


def _uncovered_leaves(elements: tuple[Element, ...], kinds: Mapping[int, list[str]]) -> list[int]:
    """Leaf views without actions of their own that no touchable view covers (no view with a tap, type,
    toggle or long press holds the leaf's centre; `kinds`: the declared actions' kinds by element).
    Custom views, WebViews, Flutter, React Native and game canvases draw controls that do not say they
    are clickable: like DroidBot, the crawl taps these too (DESIGN.md "Real apps")."""
    covering = _covering(elements, kinds)
    return [i for i, element in enumerate(elements)
            if element.leaf and i not in kinds and _offered(element)
            and not any(_holds(box, element.center) for box in covering)]


def _covering(elements: tuple[Element, ...], kinds: Mapping[int, list[str]]) -> list[Box]:
    return [elements[i].bounds for i, offered in kinds.items() if set(offered) - {"scroll"}]


def _holds(box: Box, point: tuple[int, int]) -> bool:
    return box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def _action(element: Element, kind: str, key: str, target: Locator, inputs: Mapping[str, str] | None) -> Action:
    name = element.name or element.short_class
    if kind == "scroll":
        return Action(kind=kind, target=target, label=f'scroll "{name}" {SCROLL_DIRECTION}',
                      action_id=f"scroll:{key}:{SCROLL_DIRECTION}", direction=SCROLL_DIRECTION)
    if kind != "type":
        label = f'{kind.replace("_", " ")} "{name}"'
        return Action(kind=kind, target=target, label=label, action_id=f"{kind}:{key}")
    text = text_for(element, inputs)
    shown = "•" * len(text) if element.password else text  # labels end up in events and logs
    return Action(kind="type", target=target, text=text,
                  label=f'type "{shown}" into "{name}"', action_id=f"type:{key}")


def _identity_keys(elements: tuple[Element, ...], indices: list[int]) -> dict[int, str]:
    """A key per element that survives data changes between visits, unique on the screen."""
    ids = Counter(e.resource_id for e in elements if e.displayed and e.resource_id)
    keys: dict[int, str] = {}
    seen: Counter[str] = Counter()
    for index in indices:  # document order, so a "~1" suffix lands on the same element each visit
        key = _identity(elements[index], ids)
        keys[index] = key if seen[key] == 0 else f"{key}~{seen[key]}"
        seen[key] += 1
    return keys


def _identity(element: Element, ids: Counter[str]) -> str:
    """List items by position in the list (their texts are data), unique ids by id,
    other views by their label (distinct buttons without ids), else by class. Items of
    a scrolling list by their label: their position changes as it scrolls."""
    shape = element.short_class + (f"#{element.short_id}" if element.resource_id else "")
    shown = (element.text if not (element.editable or element.password) else "") or element.content_desc
    if element.repeat and element.scrolled and shown.strip():
        return f"{shape}@[{shown.strip()[:_MAX_NAME_IN_ID]}]"
    if element.repeat:
        return f"{shape}@" + ".".join(str(ordinal) for ordinal in element.repeat)
    if element.resource_id and ids[element.resource_id] == 1:
        return f"id/{element.short_id}"
    name = (element.content_desc or element.hint) if element.editable else element.name
    return f"{shape}[{name[:_MAX_NAME_IN_ID]}]" if name else shape
