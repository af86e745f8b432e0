"""Android's crash and ANR dialogs, recognised from what is on screen.

The system server draws them, so their views belong to package "android".
Android 7 and later name the buttons android:id/aerr_* (aerr_wait only on the ANR
dialog; aerr_close, aerr_app_info, aerr_restart... on both), whatever the
language; older Androids use plain AlertDialog buttons, so there the title or
message text decides: "X keeps stopping", "X has stopped", "Unfortunately, X has
stopped.", "X isn't responding". An app's own dialog reuses android:id/message
and the like, but its views carry the app's package, so it is never taken for one.
"""

from __future__ import annotations

import re

from domain.exploration.elements import Element
from domain.exploration.screen import Screen, parse_screen

# The button that closes either dialog (and, on an ANR, ends the app as a crash does).
DISMISS = ("id", "android:id/aerr_close")

_SYSTEM_PACKAGE = "android"
_ANR_IDS = frozenset({"android:id/aerr_wait"})
_CRASH_IDS = frozenset({"android:id/aerr_close", "android:id/aerr_app_info", "android:id/aerr_restart",
                        "android:id/aerr_report", "android:id/aerr_mute"})
_ANR_TEXT = re.compile(r"\b(?:isn't|is not) responding\b", re.IGNORECASE)
_CRASH_TEXT = re.compile(r"\b(?:keeps stopping|has stopped|stopped unexpectedly)\b", re.IGNORECASE)


def system_dialog(page_source_or_screen: Screen | str | bytes) -> str | None:
    """"crash", "anr" or None. A page source is parsed (PageSourceError when it is no page source)."""
    screen = page_source_or_screen
    if not isinstance(screen, Screen):
        screen = parse_screen(screen)
    system = [element for element in screen.elements
              if element.displayed and _package(element, screen) == _SYSTEM_PACKAGE]
    ids = {element.resource_id for element in system}
    texts = [_plain(element.text) for element in system if element.text]
    # The ANR dialog has aerr_close too: look for the ANR first.
    if ids & _ANR_IDS or any(_ANR_TEXT.search(text) for text in texts):
        return "anr"
    if ids & _CRASH_IDS or any(_CRASH_TEXT.search(text) for text in texts):
        return "crash"
    return None


def _package(element: Element, screen: Screen) -> str:
    return element.package or screen.package


def _plain(text: str) -> str:
    return text.replace("\u2019", "'")  # a device writes "isn’t" with a typographic apostrophe
