"""UI elements parsed from one UiAutomator2 page-source node."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element as XmlNode

_BOUNDS = re.compile(r"^\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]$")
_EDITABLE_SUFFIXES = ("EditText", "AutoCompleteTextView")


class PageSourceError(ValueError):
    """The page source is not the UiAutomator2 XML it should be."""


@dataclass(frozen=True)
class Element:
    """One node of the UI tree, with the attributes UiAutomator2 reports."""

    resource_id: str = ""  # full "pkg:id/name", "" when the view has none
    class_name: str = ""
    text: str = ""
    content_desc: str = ""
    hint: str = ""
    clickable: bool = False
    enabled: bool = True
    checkable: bool = False
    checked: bool = False
    password: bool = False
    focusable: bool = False
    displayed: bool = True
    scrollable: bool = False
    long_clickable: bool = False
    bounds: tuple[int, int, int, int] = (0, 0, 0, 0)
    package: str = ""
    # Ordinal of the element in each enclosing run of repeated siblings (list items),
    # outermost first; () outside lists. Set by the screen parser, not read from the node.
    repeat: tuple[int, ...] = ()
    # Inside a scrollable view: scrolling moves it in and out of the page source. Set by the parser.
    scrolled: bool = False
    # A node without children: it may draw a control that does not say it is clickable. Set by the parser.
    leaf: bool = False

    @property
    def short_id(self) -> str:
        """The resource id without its "pkg:id/" prefix."""
        return self.resource_id.split(":id/", 1)[-1]

    @property
    def short_class(self) -> str:
        return self.class_name.rsplit(".", 1)[-1]

    @property
    def editable(self) -> bool:
        return self.class_name.endswith(_EDITABLE_SUFFIXES)

    @property
    def center(self) -> tuple[int, int]:
        x1, y1, x2, y2 = self.bounds
        return (x1 + x2) // 2, (y1 + y2) // 2

    @property
    def name(self) -> str:
        """What a person would call the element: its text, else description, else hint."""
        text = "" if self.editable or self.password else self.text
        return (text or self.content_desc or self.hint or self.short_id).strip()


def element_from_node(node: XmlNode) -> Element:
    """Read one page-source node; absent attributes take Android's defaults."""
    attrs = node.attrib
    flags = {name: _flag(attrs, attr, default) for name, attr, default in _FLAGS}
    return Element(
        resource_id=attrs.get("resource-id", ""),
        # Old uiautomator dumps tag every node "node"; UiAutomator2 tags it with the class.
        class_name=attrs.get("class") or ("" if node.tag == "node" else node.tag),
        text=attrs.get("text", ""),
        content_desc=attrs.get("content-desc", ""),
        hint=attrs.get("hint", ""),
        bounds=parse_bounds(attrs.get("bounds", "")),
        package=attrs.get("package", ""),
        **flags,
    )


_FLAGS = (
    ("clickable", "clickable", False),
    ("enabled", "enabled", True),
    ("checkable", "checkable", False),
    ("checked", "checked", False),
    ("password", "password", False),
    ("focusable", "focusable", False),
    ("displayed", "displayed", True),
    ("scrollable", "scrollable", False),
    ("long_clickable", "long-clickable", False),
)


def _flag(attrs: dict[str, str], attr: str, default: bool) -> bool:
    value = attrs.get(attr)
    return default if value is None else value.strip().lower() == "true"


def parse_bounds(value: str) -> tuple[int, int, int, int]:
    """Parse "[x1,y1][x2,y2]"; an absent value is an empty box at the origin."""
    if not value:
        return (0, 0, 0, 0)
    match = _BOUNDS.match(value.replace(" ", ""))
    if match is None:
        raise PageSourceError(f"bounds {value!r} are not of the form [x1,y1][x2,y2]")
    x1, y1, x2, y2 = (int(group) for group in match.groups())
    return (x1, y1, x2, y2)
