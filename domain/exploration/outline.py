"""A screen's outline: its elements as a person would name them, to compare two versions of an app.

One line per element worth naming: a control by its shape and label
(`Button#checkout "Checkout"`), a view with an id by its shape (`TextView#greeting`:
its text is data), an item of a list by its shape once (`TextView#recipe (list item)`).
Layout containers without an id, typed text, toasts and list data are left out, and
numbers in labels read as "#" ("Cart (3)" is a counter, not a new button), so two
visits of one screen outline alike, and a renamed button or a new one shows.
"""

from __future__ import annotations

import re

from domain.exploration.elements import Element
from domain.exploration.screen import Screen

_TRANSIENT_CLASSES = frozenset({"android.widget.Toast"})
_MAX_LABEL = 60
_NUMBER = re.compile(r"\d+")


def outline(screen: Screen) -> list[str]:
    """The sorted, distinct lines of the screen's displayed elements."""
    lines = {_line(element) for element in screen.displayed_elements
             if element.class_name not in _TRANSIENT_CLASSES}
    return sorted(line for line in lines if line)


def _line(element: Element) -> str:
    shape = element.short_class + (f"#{element.short_id}" if element.resource_id else "")
    control = element.clickable or element.editable or element.checkable or element.long_clickable
    if element.repeat:
        return f"{shape} (list item)" if control or element.resource_id else ""
    if control:
        label = element.name if element.name != element.short_id else ""
        return f'{shape} "{_NUMBER.sub("#", label)[:_MAX_LABEL]}"' if label else shape
    return shape if element.resource_id or element.scrollable else ""
