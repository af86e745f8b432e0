"""Goals: "reach the screen that shows X", checked against what a screen displays."""

from __future__ import annotations

import re

from domain.exploration.screen import Screen

# The first quoted part wins. A straight single quote only opens after a non-letter
# and closes before one, so the apostrophe in "don't" quotes nothing.
_QUOTED = re.compile(
    r'"([^"]+)"'
    r"|“([^”]+)”"
    r"|‘([^’]+)’"
    r"|«([^»]+)»"
    r"|(?<!\w)'([^']+)'(?!\w)"
)


def goal_text(goal: str) -> str:
    """The text a goal quotes (`Open "Settings"` -> `Settings`), else the whole goal stripped."""
    for match in _QUOTED.finditer(goal or ""):
        quoted = next(group for group in match.groups() if group is not None).strip()
        if quoted:
            return quoted
    return (goal or "").strip()


def screen_shows(screen: Screen, text: str) -> bool:
    """Whether a displayed element's text or content-desc contains `text`, ignoring case.

    Empty text matches nothing: an empty goal must not count as reached.
    """
    wanted = text.strip().casefold()
    if not wanted:
        return False
    return any(
        wanted in element.text.casefold() or wanted in element.content_desc.casefold()
        for element in screen.displayed_elements
    )
