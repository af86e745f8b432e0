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

Real page sources (DESIGN.md "Real apps") are read as they come: UiAutomator2's
`<hierarchy>` with tags named by class or an old `uiautomator dump` of `<node>`s,
NAF nodes, WebView content, texts in any script. A view whose bounds are an
empty box or lie wholly outside the display (the hierarchy's width and height,
else its top views' bounds) is not displayed: no one can see or touch it, and
UiAutomator2 says `displayed="false"` of such views where old dumps say
nothing. Character references to characters XML 1.0 forbids (`&#1;`, `&#x1F;`,
surrogates; a device writes them for control characters in a text), and such
characters written raw, are dropped before parsing: `Screen.cleaned` counts
them. A page source that declares a DOCTYPE (so possibly entities) is refused
with a PageSourceError before any parser sees it: a device never sends one, and
an entity declared in it could expand a few bytes into gigabytes.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from xml.etree import ElementTree
from xml.etree.ElementTree import Element as XmlNode

from domain.exploration.elements import Element, PageSourceError, element_from_node, parse_bounds
from domain.exploration.sibling_runs import collapse_runs

# Shown over any screen for a few seconds; the screen under a toast is the same screen.
_TRANSIENT_CLASSES = frozenset({"android.widget.Toast"})
# Deeper trees are refused (PageSourceError), not walked into a RecursionError; Android's own view
# trees end in a StackOverflowError long before.
MAX_DEPTH = 256
# XML 1.0's Char is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHAR_REFERENCE = re.compile(r"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")


@dataclass(frozen=True)
class Screen:
    screen_id: str
    activity: str
    package: str
    elements: tuple[Element, ...]
    signature: str = ""  # the readable structure the id hashes; shows why two visits match
    # Characters XML 1.0 forbids (referenced or raw) dropped from the page source before parsing.
    cleaned: int = field(default=0, compare=False)

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
    root, cleaned = read_page_source(page_source)
    elements: list[Element] = []
    nodes = list(root) if root.tag == "hierarchy" else [root]
    display = _display(root, nodes)
    tree = _bracket(collapse_runs(_children_tokens(nodes, elements, False, display))[0])
    package = package or _main_package(elements)
    activity = _short_activity(activity, package)
    signature = f"{package}/{activity} {tree}"
    return Screen(
        screen_id=hashlib.sha1(signature.encode("utf-8")).hexdigest()[:12],
        activity=activity,
        package=package,
        elements=tuple(elements),
        signature=signature,
        cleaned=cleaned,
    )


def read_page_source(page_source: str | bytes) -> tuple[XmlNode, int]:
    """The page source's root node, and how many forbidden characters were dropped to read it."""
    if not page_source or not page_source.strip():
        raise PageSourceError("page source is empty")
    text = page_source.decode("utf-8-sig", "replace") if isinstance(page_source, bytes) else page_source
    if "<!DOCTYPE" in text:  # the only way to declare entities; a device's page source never has one
        raise PageSourceError("page source declares a DOCTYPE (entities may be declared in it): refusing to "
                              "parse it; a device's page source has none")
    text, cleaned = clean_page_source(text)
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise PageSourceError(f"page source is not well-formed XML: {error}") from error
    _check_depth(root)
    return root, cleaned


def clean_page_source(text: str) -> tuple[str, int]:
    """`text` without references to characters XML 1.0 forbids, nor such characters written raw; and
    how many were dropped. Other references (`&#10;`, `&#233;`) stay as they are."""
    dropped = 0

    def reference(match: re.Match[str]) -> str:
        nonlocal dropped
        hex_digits, digits = match.groups()
        code = int(hex_digits, 16) if hex_digits else int(digits)
        if code <= 0x10FFFF and not FORBIDDEN_CHARACTERS.match(chr(code)):
            return match.group(0)
        dropped += 1
        return ""

    if "&#" in text:
        text = _CHAR_REFERENCE.sub(reference, text)
    text, raw = FORBIDDEN_CHARACTERS.subn("", text)
    return text, dropped + raw


def _parse_xml(page_source: str | bytes) -> XmlNode:
    return read_page_source(page_source)[0]


def _check_depth(root: XmlNode) -> None:
    level = [root]
    for _ in range(MAX_DEPTH):
        level = [child for node in level for child in node]
        if not level:
            return
    raise PageSourceError(f"page source nests views deeper than {MAX_DEPTH} levels")


Box = tuple[int, int, int, int]


def _display(root: XmlNode, nodes: list[XmlNode]) -> Box | None:
    """The display's box: the hierarchy's width and height (UiAutomator2), else its top views' bounds."""
    width, height = root.get("width", ""), root.get("height", "")
    if width.isdigit() and height.isdigit() and int(width) and int(height):
        return (0, 0, int(width), int(height))
    boxes = [parse_bounds(node.get("bounds", "")) for node in nodes if node.get("bounds")]
    boxes = [box for box in boxes if _has_area(box)]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _has_area(box: Box) -> bool:
    return box[2] > box[0] and box[3] > box[1]


def _seen(node: XmlNode, element: Element, display: Box | None) -> bool:
    """False for given bounds that are an empty box or wholly outside the display (absent bounds: no say)."""
    if "bounds" not in node.attrib:
        return True
    x1, y1, x2, y2 = element.bounds
    if not _has_area(element.bounds):
        return False
    return display is None or (x1 < display[2] and x2 > display[0] and y1 < display[3] and y2 > display[1])


def _walk(node: XmlNode, out: list[Element], scrolled: bool, display: Box | None) -> str | None:
    """Append the node's subtree to `out` in document order; return its structure token."""
    element = element_from_node(node)
    element = replace(element, scrolled=scrolled, displayed=element.displayed and _seen(node, element, display),
                      leaf=len(node) == 0)
    out.append(element)
    tokens = _children_tokens(list(node), out, scrolled or element.scrollable, display)
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


def _children_tokens(children: list[XmlNode], out: list[Element], scrolled: bool,
                     display: Box | None) -> list[str]:
    """The displayed children's tokens; list items (runs of one shape) are marked in `out`."""
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    for child in children:
        first = len(out)
        token = _walk(child, out, scrolled, display)
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
