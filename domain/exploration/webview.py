"""Web content UiAutomator2 cannot read: a WebView whose page exposes no accessibility tree is one node
without children. The crawl taps a grid of points over it, as a person would try the page's parts
(DESIGN.md "What real apps do to an agent": "Web content")."""

from __future__ import annotations

from domain.exploration.elements import Element

WEBVIEW_CLASS = "android.webkit.WebView"
GRID_COLUMNS, GRID_ROWS = 3, 4
MIN_SIDE = 300  # px: a banner-sized WebView (an ad) is one more leaf, tapped once at its centre


def is_web_area(element: Element) -> bool:
    """A displayed WebView without children covering a sizeable area."""
    x1, y1, x2, y2 = element.bounds
    return (element.class_name == WEBVIEW_CLASS and element.leaf and element.displayed
            and x2 - x1 >= MIN_SIDE and y2 - y1 >= MIN_SIDE)


def grid_points(element: Element) -> list[tuple[int, int]]:
    """The centres of a GRID_COLUMNS x GRID_ROWS grid over the element, row by row, top to bottom."""
    x1, y1, x2, y2 = element.bounds
    width, height = x2 - x1, y2 - y1
    return [(x1 + (2 * column + 1) * width // (2 * GRID_COLUMNS), y1 + (2 * row + 1) * height // (2 * GRID_ROWS))
            for row in range(GRID_ROWS) for column in range(GRID_COLUMNS)]


def covers_half(element: Element, display: tuple[int, int]) -> bool:
    """A displayed WebView over half the display (the screen label `webview`)."""
    x1, y1, x2, y2 = element.bounds
    width, height = display
    return (element.class_name == WEBVIEW_CLASS and element.displayed
            and 2 * (x2 - x1) * (y2 - y1) > width * height > 0)
