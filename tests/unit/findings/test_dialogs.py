"""system_dialog on the dialogs Android draws (and on app screens that only look like them)."""

import pytest

from domain.exploration import parse_screen
from domain.findings import DISMISS, system_dialog
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, node, row

SYSTEM = "android"
APP = PKG  # the builders' default package


def system_node(cls: str, rid: str = "", **kwargs) -> str:
    return node(cls, rid=rid, pkg=SYSTEM, **kwargs)


def error_dialog(title: str, buttons: tuple[tuple[str, str], ...]) -> str:
    """Android 10+'s AppErrorDialog / AppNotRespondingDialog, as UiAutomator2 dumps it."""
    return hierarchy(system_node("android.widget.FrameLayout", bounds=(84, 1013, 996, 1530), children=(
        system_node("android.widget.LinearLayout", rid="parentPanel", bounds=(84, 1013, 996, 1530), children=(
            system_node("android.widget.TextView", rid="alertTitle", text=title, bounds=(147, 1076, 933, 1160)),
            *(system_node("android.widget.Button", rid=rid, text=text, bounds=row(1200 + 150 * i, 140),
                          clickable=True, focusable=True)
              for i, (rid, text) in enumerate(buttons)),
        )),
    )))


CRASH = error_dialog("Field Notes keeps stopping", (("aerr_app_info", "App info"), ("aerr_close", "Close app")))
ANR = error_dialog("Field Notes isn't responding", (("aerr_close", "Close app"), ("aerr_wait", "Wait")))


def dialog_screen(source: str):
    return parse_screen(source, activity="com.android.server.am.AppErrorDialog", package=SYSTEM)


def test_the_crash_dialog():
    assert system_dialog(dialog_screen(CRASH)) == "crash"
    assert system_dialog(CRASH) == "crash"  # from the page source, too
    assert system_dialog(CRASH.encode()) == "crash"


def test_the_anr_dialog_is_not_taken_for_a_crash():
    assert system_dialog(dialog_screen(ANR)) == "anr"


@pytest.mark.parametrize("title", ["Field Notes keeps stopping", "Field Notes has stopped", "Irgendwas"])
def test_the_buttons_ids_decide_whatever_the_language(title):
    source = error_dialog(title, (("aerr_close", "Schließen"),))
    assert system_dialog(source) == "crash"


def test_the_anr_wait_button_alone_decides():
    assert system_dialog(error_dialog("Notas no responde", (("aerr_wait", "Esperar"),))) == "anr"


@pytest.mark.parametrize("text, kind", [
    ("Unfortunately, Field Notes has stopped.", "crash"),
    ("Field Notes has stopped", "crash"),
    ("The application Field Notes (process org.fieldnotes) has stopped unexpectedly. Please try again.", "crash"),
    ("Field Notes isn\u2019t responding. Do you want to close it?", "anr"),
    ("Field Notes is not responding.", "anr"),
])
def test_older_androids_plain_alert_dialogs_by_their_text(text, kind):
    source = hierarchy(system_node("android.widget.FrameLayout", bounds=(60, 900, 1020, 1500), children=(
        system_node("android.widget.TextView", rid="message", text=text, bounds=(100, 950, 980, 1200)),
        system_node("android.widget.Button", rid="button1", text="OK", bounds=(700, 1300, 980, 1450),
                    clickable=True),
    )))
    assert system_dialog(source) == kind


def test_an_app_screen_with_a_close_app_button_is_no_dialog():
    source = hierarchy(frame(
        node("android.widget.TextView", rid="title", text="Settings", pkg=APP, bounds=row(100)),
        node("android.widget.Button", rid="close_app", text="Close app", pkg=APP, bounds=row(300), clickable=True),
        node("android.widget.Button", rid="wait", text="Wait", pkg=APP, bounds=row(400), clickable=True),
    ))
    screen = parse_screen(source, activity=".SettingsActivity", package=APP)
    assert any(e.text == "Close app" for e in screen.elements)
    assert system_dialog(screen) is None


def test_the_apps_own_alert_dialog_saying_stopped_is_no_system_dialog():
    # An app's AlertDialog reuses android:id/message, but its views carry the app's package.
    source = hierarchy(node("android.widget.FrameLayout", pkg=APP, bounds=(60, 900, 1020, 1500), children=(
        node("android.widget.TextView", rid="message", pkg=APP, text="Upload has stopped",
             bounds=(100, 950, 980, 1200)),
    )).replace(f"{APP}:id/message", "android:id/message"))
    screen = parse_screen(source, activity=".HomeActivity", package=APP)
    assert screen.elements[1].resource_id == "android:id/message"
    assert system_dialog(screen) is None


def test_an_ordinary_system_window_is_no_dialog():
    source = hierarchy(system_node("android.widget.FrameLayout", bounds=(0, 0, 1080, 2400), children=(
        system_node("android.widget.TextView", rid="title", text="Open with", bounds=row(100)),
        system_node("android.widget.Button", rid="button_once", text="Just once", bounds=row(300), clickable=True),
    )))
    assert system_dialog(source) is None


def test_dismiss_is_the_close_button_of_both_dialogs():
    assert DISMISS == ("id", "android:id/aerr_close")
    for source in (CRASH, ANR):
        assert any(e.resource_id == DISMISS[1] for e in parse_screen(source).elements)
