"""Accessibility checks on one screen, named as in Google's Accessibility Test Framework.

- SpeakableTextPresentCheck: a clickable or long-clickable view with no text, no
  content-desc (and no hint) of its own and no displayed descendant that has one.
- TouchTargetSizeCheck: a clickable or long-clickable view under 48 dp in either
  dimension (dp = px * 160 / density). A view at the edge of a scrolling container
  is skipped in the dimension it touches: UiAutomator2 reports the visible part of a
  half-scrolled row, which is small only because it is cut.
- DuplicateClickableBoundsCheck: clickable views with the same bounds; one issue per
  group, on its first view in document order, naming the others.
- EditableContentDescCheck: an editable field with a content-desc (TalkBack reads it
  instead of what the field holds).

Only displayed views of non-zero size, with displayed ancestors, in the app's package
are checked. An issue names its element by its action id as `enumerate_actions`
computes it on that screen; a view without an action (disabled, a list item past the
first few) gets "element:<identity>", from the same identity code.

The tree: `Screen.elements` is flat (document order, no parents), and bounds
containment would guess wrong where views overlap (a FAB over a list, a dialog over
its activity), so the page source the screen was parsed from is read again, with
the parser the screen uses, for exact parents and descendants.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from xml.etree.ElementTree import Element as XmlNode

from domain.exploration.actions import _action, _identity_keys, _kinds  # enumerate_actions' own id code
from domain.exploration.elements import Element
from domain.exploration.screen import Screen, _parse_xml

MIN_TOUCH_DP = 48
_SPEAKABLE = "SpeakableTextPresentCheck"
_TOUCH = "TouchTargetSizeCheck"
_DUPLICATE = "DuplicateClickableBoundsCheck"
_EDITABLE = "EditableContentDescCheck"
RULES = (_SPEAKABLE, _TOUCH, _DUPLICATE, _EDITABLE)


@dataclass(frozen=True)
class AccessibilityIssue:
    rule: str
    action_id: str
    label: str
    bounds: tuple[int, int, int, int]
    detail: str


def accessibility_issues(screen: Screen, density: int, *, page_source: str | bytes,
                         package: str) -> list[AccessibilityIssue]:
    """The four rules on one of the app's screens (none elsewhere), rule by rule, in document order."""
    if density <= 0:
        raise ValueError(f"screen density must be positive, not {density}")
    if screen.package != package:
        return []
    tree = _Tree(screen, page_source)
    checked = [i for i, element in enumerate(screen.elements) if tree.visible[i]
               and _has_size(element) and element.package in ("", package)]
    ids = element_ids(screen)
    found = [(_SPEAKABLE, i, _unspoken(tree, i)) for i in checked]
    found += [(_TOUCH, i, _too_small(tree, i, density)) for i in checked]
    found += _duplicates(screen.elements, checked, ids)
    found += [(_EDITABLE, i, _described_field(screen.elements[i])) for i in checked]
    return [_issue(rule, screen.elements[i], ids[i], detail) for rule, i, detail in found if detail]


def element_ids(screen: Screen) -> dict[int, str]:
    """Index in `screen.elements` -> the id of the element's first action (as enumerate_actions
    builds it), or "element:<identity>" for an element without one."""
    elements = screen.elements
    acting = [i for i, element in enumerate(elements) if _kinds(element)]
    # The same candidates as enumerate_actions, so the "~1" suffixes land on the same views.
    keys = _identity_keys(elements, acting)
    ids = {i: _action(elements[i], _kinds(elements[i])[0], keys[i], None, None).action_id for i in acting}
    rest = [i for i in range(len(elements)) if i not in ids]
    ids.update({i: f"element:{key}" for i, key in _identity_keys(elements, rest).items()})
    return ids


class _Tree:
    """Parents and subtree spans of the screen's elements, from the page source they came from."""

    def __init__(self, screen: Screen, page_source: str | bytes) -> None:
        root = _parse_xml(page_source)
        self.parents: list[int | None] = []
        self.ends: list[int] = []  # elements[i + 1 : ends[i]] are i's descendants
        for node in list(root) if root.tag == "hierarchy" else [root]:  # as parse_screen walks it
            self._walk(node, None)
        if len(self.parents) != len(screen.elements):
            raise ValueError("the page source is not the one the screen was parsed from")
        self.elements = screen.elements
        self.visible = [False] * len(self.parents)
        for i, parent in enumerate(self.parents):  # parents come before their children
            self.visible[i] = self.elements[i].displayed and (parent is None or self.visible[parent])

    def _walk(self, node: XmlNode, parent: int | None) -> None:
        index = len(self.parents)
        self.parents.append(parent)
        self.ends.append(index + 1)
        for child in node:
            self._walk(child, index)
        self.ends[index] = len(self.parents)

    def descendants(self, index: int) -> range:
        return range(index + 1, self.ends[index])

    def scrolling_ancestor(self, index: int) -> Element | None:
        parent = self.parents[index]
        while parent is not None and not self.elements[parent].scrollable:
            parent = self.parents[parent]
        return None if parent is None else self.elements[parent]


def _unspoken(tree: _Tree, i: int) -> str:
    element = tree.elements[i]
    if not (element.clickable or element.long_clickable) or _labelled(element):
        return ""
    if any(tree.visible[j] and _labelled(tree.elements[j]) for j in tree.descendants(i)):
        return ""
    return "no text, content-desc or labelled descendant: a screen reader has nothing to say"


def _labelled(element: Element) -> bool:
    return bool((element.text or element.content_desc or element.hint).strip())


def _too_small(tree: _Tree, i: int, density: int) -> str:
    element = tree.elements[i]
    if not (element.clickable or element.long_clickable):
        return ""
    x1, y1, x2, y2 = element.bounds
    box = tree.scrolling_ancestor(i)
    cut_x = box is not None and (x1 <= box.bounds[0] or x2 >= box.bounds[2])
    cut_y = box is not None and (y1 <= box.bounds[1] or y2 >= box.bounds[3])
    narrow = _below_minimum(x2 - x1, density) and not cut_x
    short = _below_minimum(y2 - y1, density) and not cut_y
    if not (narrow or short):
        return ""
    return f"{_dp(x2 - x1, density)}x{_dp(y2 - y1, density)} dp, under {MIN_TOUCH_DP}x{MIN_TOUCH_DP} dp"


def _below_minimum(px: int, density: int) -> bool:
    return px * 160 < MIN_TOUCH_DP * density  # integers: 126 px at 420 dpi is exactly 48 dp


def _dp(px: int, density: int) -> str:
    return f"{round(px * 160 / density, 1):g}"


def _duplicates(elements: tuple[Element, ...], checked: list[int],
                ids: dict[int, str]) -> list[tuple[str, int, str]]:
    groups: dict[tuple[int, int, int, int], list[int]] = defaultdict(list)
    for i in checked:
        if elements[i].clickable:
            groups[elements[i].bounds].append(i)
    return [(_DUPLICATE, first, "same bounds as " + ", ".join(ids[i] for i in others))
            for first, *others in groups.values() if others]


def _described_field(element: Element) -> str:
    if not (element.editable and element.content_desc.strip()):
        return ""
    return f'content-desc "{element.content_desc.strip()}" on an editable field: read instead of its text or hint'


def _has_size(element: Element) -> bool:
    x1, y1, x2, y2 = element.bounds
    return x2 > x1 and y2 > y1


def _issue(rule: str, element: Element, action_id: str, detail: str) -> AccessibilityIssue:
    label = element.name or element.short_class
    return AccessibilityIssue(rule=rule, action_id=action_id, label=label, bounds=element.bounds, detail=detail)
