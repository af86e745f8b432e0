"""DroidBot's view trees as our page sources and screens (pure: JSON text or dicts in, XML or Screen out).

DroidBot writes each state it saw as `states/state_<time>.json`: `views`, a flat
list of views whose `parent` and `children` are indices into the list (`parent`
-1 for the root), each with `class`, `resource_id`, `text`,
`content_description` (null when absent), `bounds` `[[x1, y1], [x2, y2]]` and
its flags (`visible`, `enabled`, `clickable`, `long_clickable`, `checkable`,
`checked`, `scrollable`, `focusable`, `focused`, `selected`, `is_password`),
beside `foreground_activity` ("package/.Activity"), `state_str` and
`state_str_content_free`.

`page_source_from_views` writes the tree as UiAutomator2 page source (tags
named by class, `displayed` from `visible`), so a recorded model can show it and
`parse_screen` reads it like any device's; `screen_from_state` is that Screen.
Characters XML cannot hold are left out of the texts. A state that is no
state (empty or broken JSON, no views, a child index out of range, a view
reached twice) raises ViewTreeError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

from domain.exploration.screen import FORBIDDEN_CHARACTERS, Screen, parse_screen

# UiAutomator2 names a node's tag by its class; characters a tag cannot hold become "_".
_NOT_IN_TAG = re.compile(r"[^\w.\-]")
_FLAGS = (  # UiAutomator2 attribute, DroidBot key, Android's default
    ("checkable", "checkable", False),
    ("checked", "checked", False),
    ("clickable", "clickable", False),
    ("enabled", "enabled", True),
    ("focusable", "focusable", False),
    ("focused", "focused", False),
    ("long-clickable", "long_clickable", False),
    ("password", "is_password", False),
    ("scrollable", "scrollable", False),
    ("selected", "selected", False),
    ("displayed", "visible", True),
)


class ViewTreeError(ValueError):
    """The JSON is not a DroidBot state with a view tree."""


def state_from_json(text: str | bytes) -> dict[str, Any]:
    """A state file's content, checked to hold a list of views."""
    if not text or not text.strip():
        raise ViewTreeError("the state file is empty")
    try:
        state = json.loads(text)
    except ValueError as error:  # JSONDecodeError, and UnicodeDecodeError for bytes that are no text
        raise ViewTreeError(f"the state file is not JSON: {error}") from None
    if not isinstance(state, dict) or not isinstance(state.get("views"), list) or not state["views"]:
        raise ViewTreeError("the JSON has no `views` list: not a DroidBot state")
    return state


def screen_from_state(state: Mapping[str, Any]) -> Screen:
    """The Screen the agent would perceive on the state's view tree, in its foreground activity."""
    package, _, activity = str(state.get("foreground_activity") or "").partition("/")
    return parse_screen(page_source_from_views(state.get("views") or []), activity=activity, package=package)


def page_source_from_views(views: Sequence[Mapping[str, Any]]) -> str:
    """The view tree as UiAutomator2 page source: `<hierarchy>` around the root views, in list order."""
    if not views:
        raise ViewTreeError("the state has no views")
    roots = [i for i, view in enumerate(views) if _parent(view) < 0]
    if not roots:
        raise ViewTreeError("no view is a root (parent -1)")
    width, height = _display(views, roots)
    out = [f'<?xml version="1.0" encoding="UTF-8"?><hierarchy index="0" class="hierarchy" rotation="0" '
           f'width="{width}" height="{height}">']
    seen: set[int] = set()
    stack: list[tuple[int, int, bool]] = [(root, position, False) for position, root in reversed(list(enumerate(roots)))]
    while stack:  # not recursive: a long chain of views cannot exhaust the stack
        index, position, closing = stack.pop()
        if closing:
            out.append(f"</{_tag(views[index])}>")
            continue
        if index in seen:
            raise ViewTreeError(f"view {index} is reached twice: the views are no tree")
        seen.add(index)
        children = _children(views, index)
        attributes = _attributes(views[index], position)
        if not children:
            out.append(f"<{_tag(views[index])} {attributes} />")
            continue
        out.append(f"<{_tag(views[index])} {attributes}>")
        stack.append((index, position, True))
        stack.extend((child, at, False) for at, child in reversed(list(enumerate(children))))
    out.append("</hierarchy>")
    return "".join(out)


def _parent(view: Mapping[str, Any]) -> int:
    parent = view.get("parent", -1)
    return parent if isinstance(parent, int) else -1


def _children(views: Sequence[Mapping[str, Any]], index: int) -> list[int]:
    children = views[index].get("children") or []
    for child in children:
        if not isinstance(child, int) or not 0 <= child < len(views):
            raise ViewTreeError(f"view {index} names a child {child!r} that is not in the list")
    return list(children)


def _tag(view: Mapping[str, Any]) -> str:
    name = _NOT_IN_TAG.sub("_", str(view.get("class") or ""))
    return name if name and (name[0].isalpha() or name[0] == "_") else "node"


def _attributes(view: Mapping[str, Any], position: int) -> str:
    values = {
        "index": str(position),
        "package": _text(view.get("package")),
        "class": _text(view.get("class")),
        "text": _text(view.get("text")),
        "resource-id": _text(view.get("resource_id")),
        "content-desc": _text(view.get("content_description")),
        **{attr: "true" if _flag(view, key, default) else "false" for attr, key, default in _FLAGS},
        "bounds": "[{},{}][{},{}]".format(*_bounds(view)),
    }
    return " ".join(f"{name}={quoteattr(value)}" for name, value in values.items())


def _text(value: object) -> str:
    return "" if value is None else FORBIDDEN_CHARACTERS.sub("", str(value))


def _flag(view: Mapping[str, Any], key: str, default: bool) -> bool:
    value = view.get(key)
    return default if value is None else bool(value)


def _bounds(view: Mapping[str, Any]) -> tuple[int, int, int, int]:
    try:
        (x1, y1), (x2, y2) = view["bounds"]
        return int(x1), int(y1), int(x2), int(y2)
    except (KeyError, TypeError, ValueError):
        return (0, 0, 0, 0)  # written as an empty box: not displayed


def _display(views: Sequence[Mapping[str, Any]], roots: list[int]) -> tuple[int, int]:
    """The display's size as the root views cover it (DroidBot does not write it in a state)."""
    boxes = [_bounds(views[root]) for root in roots]
    return max(box[2] for box in boxes), max(box[3] for box in boxes)
