"""What a discovered screen is, besides its id (`labels` on graph.screen.discovered), and what a run met
besides the app (`labels` on run.completed). DESIGN.md "What real apps do to an agent"."""

from __future__ import annotations

from domain.exploration.elements import Element
from domain.exploration.offer import is_login
from domain.exploration.screen import Screen
from domain.exploration.webview import covers_half

# Android's AlertDialog layout (alert_dialog.xml): the ids an app's dialog carries, whatever its package.
_DIALOG_IDS = frozenset({"android:id/parentPanel", "android:id/alertTitle", "android:id/buttonPanel",
                         "android:id/button1", "android:id/button2"})


def screen_labels(screen: Screen) -> list[str]:
    """Any of login (a password field), webview (a WebView over half the display), blank (nothing displayed
    with text, description or an action), dialog (an AlertDialog's layout), in that order."""
    shown = screen.displayed_elements
    display = _display(screen)
    labels = {
        "login": is_login(screen),
        "webview": any(covers_half(element, display) for element in shown),
        "blank": not any(element.text.strip() or element.content_desc.strip() or _acts(element)
                         or element.class_name.endswith("WebView") for element in shown),
        "dialog": any(element.resource_id in _DIALOG_IDS or element.class_name.endswith("Dialog")
                      for element in shown),
    }
    return [name for name, applies in labels.items() if applies]


def is_loading(screen: Screen) -> bool:
    """The screen shows a progress indicator and nothing to act on (a splash's logo and spinner, a feed's
    title over its spinner): nothing on it is worth enumerating yet. A title or a logo is no content to
    explore, so it does not make a loading screen a loaded one; a button, a field or a list does."""
    shown = screen.displayed_elements
    spinners = [element for element in shown if element.class_name.endswith("ProgressBar")]
    return bool(spinners) and not any(_acts(element) for element in shown if element not in spinners)


def run_labels(login_required: bool, app_left: int, system_dialogs: int) -> tuple[str, ...]:
    flags = {"login_required": login_required, "left_app": app_left > 0, "system_dialogs": system_dialogs > 0}
    return tuple(name for name, applies in flags.items() if applies)


def _acts(element: Element) -> bool:
    return (element.clickable or element.editable or element.checkable or element.long_clickable
            or element.scrollable)


def _display(screen: Screen) -> tuple[int, int]:
    """The display's size as the views span it (the outermost view fills the window)."""
    boxes = [element.bounds for element in screen.elements]
    return (max((box[2] for box in boxes), default=0), max((box[3] for box in boxes), default=0))
