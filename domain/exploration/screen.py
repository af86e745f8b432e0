"""A perceived screen and its identity.

Screen identity: two visits show "the same screen" when they have the same
package, activity and structure. The structure is the tree of displayed
elements, each reduced to (short class, resource id short name, clickable /
editable / checkable flags); runs of repeated siblings (list items of one
shape, nested or flat) are kept once. Everything that changes between visits
of one screen is left out: texts (typed text, counters, list data), checked,
enabled and focus state, bounds, toasts and the number of list items, so a product
page shown for 48 products is one screen and a list of 3 or 30 items one id.
A scrollable view counts by the shape most of its items share (none when no
shape has a majority): which items it shows changes as it scrolls, and the
scroll position is not a new screen.

The price: screens that differ only by text merge (two dialogs of one activity
with the same layout and different titles; a list of 1 item and of 30 items),
and a view that appears or disappears (an error label shown after a failed
login, an empty-list placeholder) makes a new screen. We accept both: merging
look-alikes keeps the graph small, and a newly shown view usually means new
behaviour worth exploring. Two screens of one activity that differ only inside a
scrolling area merge as well. The id is the first 12 hex digits of the SHA-1 of
the readable `signature`, so it is stable across processes and machines.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, replace
from xml.etree import ElementTree
from xml.etree.ElementTree import Element as XmlNode

from domain.exploration.elements import Element, PageSourceError, element_from_node
from domain.exploration.runs import collapse_runs

# Shown over any screen for a few seconds; the screen under a toast is the same screen.
_TRANSIENT_CLASSES = frozenset({"android.widget.Toast"})


@dataclass(frozen=True)
class Screen:
    screen_id: str
    activity: str
    package: str
    elements: tuple[Element, ...]
    signature: str = ""  # the readable structure the id hashes; shows why two visits match

    @property
    def displayed_elements(self) -> tuple[Element, ...]:
        return tuple(element for element in self.elements if element.displayed)

    def scrolled_content(self) -> tuple[tuple[str, str, str, str], ...]:
        """What the scrollable views show now; the same before and after a scroll means it hit the end."""
        return tuple((e.class_name, e.resource_id, e.text, e.content_desc)
                     for e in self.elements if e.scrolled and e.displayed)

    def in_app(self, expected_package: str) -> bool:
        """False on the launcher, a crash dialog or another app: the worker should relaunch."""
        return self.package == expected_package


def parse_screen(page_source: str | bytes, activity: str = "", package: str = "") -> Screen:
    """Parse UiAutomator2 page source; `package` defaults to the one most nodes belong to."""
    root = _parse_xml(page_source)
    elements: list[Element] = []
    nodes = list(root) if root.tag == "hierarchy" else [root]
    tree = _bracket(collapse_runs(_children_tokens(nodes, elements, scrolled=False))[0])
    package = package or _main_package(elements)
    activity = _short_activity(activity, package)
    signature = f"{package}/{activity} {tree}"
    return Screen(
        screen_id=hashlib.sha1(signature.encode("utf-8")).hexdigest()[:12],
        activity=activity,
        package=package,
        elements=tuple(elements),
        signature=signature,
    )


def _parse_xml(page_source: str | bytes) -> XmlNode:
    if not page_source or not page_source.strip():
        raise PageSourceError("page source is empty")
    text = page_source.decode("utf-8", "replace") if isinstance(page_source, bytes) else page_source
    if "<!DOCTYPE" in text or "<!ENTITY" in text:  # device XML never has them; entities can explode
        raise PageSourceError("page source declares a DOCTYPE or entities; refusing to parse it")
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise PageSourceError(f"page source is not well-formed XML: {error}") from error


def _walk(node: XmlNode, out: list[Element], scrolled: bool) -> str | None:
    """Append the node's subtree to `out` in document order; return its structure token."""
    element = replace(element_from_node(node), scrolled=scrolled)
    out.append(element)
    tokens = _children_tokens(list(node), out, scrolled or element.scrollable)
    # A hidden view (and what it holds) is not part of what the user sees.
    if not element.displayed or element.class_name in _TRANSIENT_CLASSES:
        return None
    if element.scrollable:
        return _structure_key(element) + _bracket(_dominant(tokens))
    return _structure_key(element) + _bracket(collapse_runs(tokens)[0])


def _dominant(tokens: list[str]) -> list[str]:
    """The shape most items of a scrolling view share: the same at any scroll position."""
    if not tokens:
        return []
    token, count = Counter(tokens).most_common(1)[0]
    return [token] if count * 2 > len(tokens) else []


def _bracket(kept: list[str]) -> str:
    return "[" + " ".join(kept) + "]" if kept else ""


def _children_tokens(children: list[XmlNode], out: list[Element], scrolled: bool) -> list[str]:
    """The displayed children's tokens; list items (runs of one shape) are marked in `out`."""
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    for child in children:
        first = len(out)
        token = _walk(child, out, scrolled)
        if token is not None:
            tokens.append(token)
            spans.append((first, len(out)))
    _, ordinals = collapse_runs(tokens)
    for (first, end), ordinal in zip(spans, ordinals):
        if ordinal is not None:  # mark the whole list item, so its views know they repeat
            for index in range(first, end):
                out[index] = replace(out[index], repeat=(ordinal, *out[index].repeat))
    return tokens


def _structure_key(element: Element) -> str:
    """Class, id and role: what stays when the data shown changes."""
    # Not `scrollable`: a list becomes scrollable once it is longer than the display.
    role = "c" * element.clickable + "e" * element.editable + "k" * element.checkable
    ident = f"#{element.short_id}" if element.resource_id else ""
    return f"{element.short_class}{ident}" + (f":{role}" if role else "")


def _main_package(elements: list[Element]) -> str:
    packages = Counter(element.package for element in elements if element.package)
    return packages.most_common(1)[0][0] if packages else ""


def _short_activity(activity: str, package: str) -> str:
    """Appium reports ".Home" or "com.app.Home" for one activity; use the short form."""
    if package and activity.startswith(package + "."):
        return activity[len(package) :]
    return activity
