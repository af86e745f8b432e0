"""Recorded screens that are not the app's (appium-sim/README.md, "Recorded apps"): a screen with a `package`
is the permission controller's dialog over the app or another app the app opened, served as a phone shows
them: the current package is theirs, an answer on the dialog leads where the recording went and takes the
dialog away, back from the dialog returns to the app's screen below it (as back answers deny), back from
another app returns to the app's screen that opened it, and activating the app brings the app back."""

from __future__ import annotations

import pytest

from tests.sim.test_recorded import PKG, el, hierarchy, refused, write_recorded

FRAME = "android.widget.FrameLayout"
TEXT = "android.widget.TextView"
BUTTON = "android.widget.Button"
CONTROLLER = "com.android.permissioncontroller"
GRANT_ACTIVITY = f"{CONTROLLER}.permission.ui.GrantPermissionsActivity"
CHROME = "com.android.chrome"
FOREGROUND, BACKGROUND = 4, 3  # query_app_state's answers


def of(package: str, source: str) -> str:
    """A page source of another package: its nodes' package and resource ids are that package's."""
    return source.replace(f'package="{PKG}"', f'package="{package}"').replace(f'"{PKG}:id/', f'"{package}:id/')


def page(title: str, *buttons: str) -> str:
    """An app screen that says which it is, with buttons by name."""
    return hierarchy(el(FRAME, "[0,0][720,1280]", el(TEXT, "[0,0][720,100]", rid="title", text=title),
                        *(el(BUTTON, f"[0,{200 * k}][720,{200 * k + 150}]", rid=name, text=name.title(),
                             clickable=True, index=k) for k, name in enumerate(buttons, 1))), width=720, height=1280)


DIALOG = of(CONTROLLER, hierarchy(el(
    FRAME, "[0,0][720,1280]",
    el(TEXT, "[60,400][660,500]", rid="permission_message", text="Allow Recorded to take pictures and record video?"),
    el(BUTTON, "[60,600][660,700]", rid="permission_allow_foreground_only_button", text="WHILE USING THE APP",
       clickable=True, index=1),
    el(BUTTON, "[60,700][660,800]", rid="permission_deny_button", text="DENY", clickable=True, index=2),
), width=720, height=1280))
BROWSER = of(CHROME, hierarchy(el(FRAME, "[0,0][720,1280]", el(
    "android.widget.EditText", "[0,0][720,100]", rid="url_bar", text="example.com/terms")), width=720, height=1280))


def tap(button: str, to: str, source: str = "home", package: str = PKG) -> dict:
    return {"from": source, "action": {"kind": "tap", "element": {"resource-id": f"{package}:id/{button}"}}, "to": to}


@pytest.fixture
def app(tmp_path) -> str:
    """home -> camera button -> the permission dialog -> "while using the app" -> camera, "deny" -> home;
    home -> terms -> Chrome (whose recorded back went to camera, as a recording may have it) -> a link -> page 2."""
    return write_recorded(
        tmp_path,
        {"home": {"activity": ".Home", "pageSource": page("Home", "camera", "terms")},
         "dialog": {"activity": GRANT_ACTIVITY, "package": CONTROLLER, "pageSource": DIALOG},
         "camera": {"activity": ".Camera", "pageSource": page("Camera")},
         "chrome": {"activity": "com.google.android.apps.chrome.Main", "package": CHROME, "pageSource": BROWSER},
         "chrome2": {"activity": "com.google.android.apps.chrome.Main", "package": CHROME,
                     "pageSource": BROWSER.replace("example.com/terms", "example.com/page2")}},
        [tap("camera", "dialog"), tap("terms", "chrome"),
         tap("permission_allow_foreground_only_button", "camera", "dialog", CONTROLLER),
         tap("permission_deny_button", "home", "dialog", CONTROLLER),
         tap("url_bar", "chrome2", "chrome", CHROME),
         {"from": "chrome", "action": {"kind": "back"}, "to": "camera"}],
        start="home")


def title(driver) -> str:
    return driver.find_element("id", f"{PKG}:id/title").text


def test_the_permission_dialog_is_the_controller_s_and_its_recorded_answer_leads_where_the_recording_went(
        driver_for, app):
    d = driver_for(app)
    d.find_element("id", f"{PKG}:id/camera").click()

    assert (d.current_package, d.current_activity) == (CONTROLLER, GRANT_ACTIVITY)
    assert f'package="{CONTROLLER}"' in d.page_source and f'package="{PKG}"' not in d.page_source
    assert d.query_app_state(PKG) == FOREGROUND  # the dialog is over the app, in its task
    d.find_element("id", f"{CONTROLLER}:id/permission_allow_foreground_only_button").click()
    assert (d.current_package, d.current_activity, title(d)) == (PKG, ".Camera", "Camera")
    d.back()  # the answered dialog is gone: back leaves the camera for home, not for the dialog
    assert (d.current_package, title(d)) == (PKG, "Home")


def test_back_on_the_dialog_returns_to_the_app_screen_below_it(driver_for, app):
    d = driver_for(app)
    d.find_element("id", f"{PKG}:id/camera").click()
    assert d.current_package == CONTROLLER

    d.back()  # no recorded back: as on a phone, back answers deny and the app shows again

    assert (d.current_package, d.current_activity, title(d)) == (PKG, ".Home", "Home")
    d.back()
    assert d.current_package != PKG  # home was the first screen: the app went to the background


def test_back_from_another_app_returns_to_the_app_screen_that_opened_it(driver_for, app):
    d = driver_for(app)
    d.find_element("id", f"{PKG}:id/terms").click()

    assert (d.current_package, d.current_activity) == (CHROME, "com.google.android.apps.chrome.Main")
    assert d.query_app_state(PKG) == BACKGROUND
    d.find_element("id", f"{CHROME}:id/url_bar").click()  # the other app's own recorded transition
    assert "example.com/page2" in d.page_source
    d.back()  # its own screens first
    assert (d.current_package, d.find_element("id", f"{CHROME}:id/url_bar").text) == (CHROME, "example.com/terms")
    d.back()  # then the app where it left it, not the camera the recorded back went to
    assert (d.current_package, title(d), d.query_app_state(PKG)) == (PKG, "Home", FOREGROUND)


def test_activating_the_app_from_another_app_brings_the_app_back(driver_for, app):
    d = driver_for(app)
    d.find_element("id", f"{PKG}:id/terms").click()
    d.find_element("id", f"{CHROME}:id/url_bar").click()
    assert d.current_package == CHROME

    d.activate_app(PKG)

    assert (d.current_package, d.current_activity, title(d)) == (PKG, ".Home", "Home")
    d.back()
    assert d.current_package != PKG  # the other app's screens are gone from the app's stack


@pytest.mark.parametrize(
    ("screens", "start", "problem"),
    [({"s": {"activity": ".S", "pageSource": page("S")},
       "x": {"activity": ".X", "package": "not a package", "pageSource": page("X")}}, "s",
      'screens.x.package: "not a package" is not a Java package name'),
     ({"d": {"activity": GRANT_ACTIVITY, "package": CONTROLLER, "pageSource": DIALOG}}, "d",
      f"screens.d: is the start screen: the app's first screen is its own, not {CONTROLLER}'s")],
    ids=["not-a-package", "foreign-start"])
def test_a_bad_screen_package_refuses_the_model(driver_for, tmp_path, screens, start, problem):
    assert problem in refused(driver_for, write_recorded(tmp_path, screens, start=start))


def test_a_screen_marked_with_the_app_s_own_package_is_the_app_s(driver_for, tmp_path):
    d = driver_for(write_recorded(tmp_path, {"s": {"activity": ".S", "package": PKG, "pageSource": page("S")}}))
    assert (d.current_package, d.query_app_state(PKG), title(d)) == (PKG, FOREGROUND, "S")
