"""Locators the worker hands to Appium to find an element again.

Preference: ("id", resource_id) when that id is unique on the screen (fast and
robust), else ("xpath", ...) by class and visible text when that pair is
unique, else by class and position, else ("point", (x, y)) for a coordinate
tap. Uniqueness is checked over every node, hidden ones included, because
Appium's find_element returns the first match, hidden or not.
"""

from __future__ import annotations

import re
from collections import Counter

from domain.exploration.elements import Element

Locator = tuple[str, object]

_XPATH_SAFE_CLASS = re.compile(r"^[A-Za-z_][\w.$]*$")


class LocatorIndex:
    """Counts over one screen's nodes, so each locator costs O(1) to check."""

    def __init__(self, elements: tuple[Element, ...]) -> None:
        self._elements = elements
        self._ids = Counter(element.resource_id for element in elements)
        self._texts = Counter((element.class_name, _visible_text(element)) for element in elements)
        self._positions: list[int] = []  # 1-based position among nodes of the same class
        seen: Counter[str] = Counter()
        for element in elements:
            seen[element.class_name] += 1
            self._positions.append(seen[element.class_name])

    def locator(self, index: int) -> Locator:
        """Locator of `self._elements[index]`, unique on this screen."""
        element = self._elements[index]
        if element.resource_id and self._ids[element.resource_id] == 1:
            return ("id", element.resource_id)
        if not _XPATH_SAFE_CLASS.match(element.class_name):
            return ("point", element.center)
        by_class = f"@class={xpath_literal(element.class_name)}"
        text = _visible_text(element)
        if text and self._texts[(element.class_name, text)] == 1:
            return ("xpath", f"//*[{by_class} and @text={xpath_literal(text)}]")
        return ("xpath", f"(//*[{by_class}])[{self._positions[index]}]")


def _visible_text(element: Element) -> str:
    """Text that identifies the element; typed (or masked) text in a field does not."""
    return "" if element.editable or element.password else element.text


def xpath_literal(value: str) -> str:
    """Quote `value` for XPath 1.0, which has no escape character."""
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    parts = value.split('"')
    return "concat(" + ", '\"', ".join(f'"{part}"' for part in parts) + ")"
