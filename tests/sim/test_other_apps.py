"""Other apps: `open` brings another installed app (the model's otherApps) to the foreground over ours; back
walks its stack and from its first screen returns to our app where it was; activating our app brings it
back at once; an `open` of an app the model does not define is refused. And snap, the sample app of these
obstacles: every activity reachable by clicking (granting, web parts, the login's credentials)."""

from __future__ import annotations

import json

import pytest
from selenium.common.exceptions import SessionNotCreatedException

from tests.fixtures.appium import sample_app
from tests.sim.helpers import CHROME, LAUNCHER, SNAP, bounds_of, by_id, source_tree, tiny_model, write_model

CHROME_MAIN = "com.google.android.apps.chrome.Main"


def packages(driver):
    return {n.get("package") for n in source_tree(driver).iter() if n.get("package")}


def tap_web_part(driver, text):
    """Tap the middle of the web part with that text (snap's models give the boxes)."""
    model = json.loads(open(sample_app("snap")).read())
    apps = [model, *model["otherApps"].values()]
    for app in apps:
        for screen in app["screens"].values():
            for el in screen.get("elements", []):
                for part in el.get("web", []):
                    if part["text"] == text:
                        x1, y1, x2, y2 = part["box"]
                        driver.tap([((x1 + x2) // 2, (y1 + y2) // 2)])
                        return
    raise AssertionError(f"no web part {text!r}")


def test_open_brings_the_other_app_over_ours_and_back_returns_where_we_were(driver_for):
    d = driver_for("snap")
    by_id(d, "search").send_keys("sun")
    by_id(d, "terms").click()
    assert (d.current_package, d.current_activity) == (CHROME, CHROME_MAIN)
    assert packages(d) == {CHROME}
    assert by_id(d, f"{CHROME}:id/url_bar").text == "snap.example.com/terms"
    assert d.query_app_state(CHROME) == 4 and d.query_app_state(SNAP) == 3  # ours waits in the background
    tap_web_part(d, "Privacy policy")
    assert by_id(d, f"{CHROME}:id/url_bar").text == "snap.example.com/privacy"
    d.back()  # the other app's own stack first
    assert (d.current_package, by_id(d, f"{CHROME}:id/url_bar").text) == (CHROME, "snap.example.com/terms")
    d.back()  # its first screen: back to our app, where it was
    assert (d.current_package, d.current_activity) == (SNAP, ".HomeActivity")
    assert by_id(d, "search").text == "sun"
    assert d.query_app_state(SNAP) == 4 and d.query_app_state(CHROME) == 3
    by_id(d, "terms").click()  # opened again: on the page the rule names
    assert by_id(d, f"{CHROME}:id/url_bar").text == "snap.example.com/terms"


def test_activating_our_app_brings_it_back_at_once(driver_for):
    d = driver_for("snap")
    by_id(d, "gallery").click()
    d.back()
    by_id(d, "terms").click()
    tap_web_part(d, "Privacy policy")
    assert d.current_package == CHROME
    d.activate_app(SNAP)
    assert (d.current_package, d.current_activity) == (SNAP, ".HomeActivity")
    assert packages(d) == {SNAP}
    d.back()  # ours: its own back, to the launcher
    assert d.current_package == LAUNCHER
    icons = {n.get("text") for n in source_tree(d).iter() if n.get("package") == LAUNCHER and n.get("text")}
    assert {"Snap", "Chrome"} <= icons  # the other app is installed with ours


def test_open_with_a_screen_and_without(driver_for, tmp_path):
    other = {"label": "Maps", "start": "map", "screens": {
        "map": {"activity": ".MapsActivity", "elements": [{"id": "where", "class": "android.widget.TextView", "text": "Map"}]},
        "route": {"activity": ".RouteActivity", "elements": [{"id": "where", "class": "android.widget.TextView", "text": "Route"}]},
    }}
    model = tiny_model(a={"activity": ".A", "elements": [
        {"id": "maps", "class": "android.widget.Button", "text": "Maps", "onClick": [{"open": "com.example.maps"}]},
        {"id": "route", "class": "android.widget.Button", "text": "Route",
         "onClick": [{"open": "com.example.maps", "screen": "route"}]}]})
    model["otherApps"] = {"com.example.maps": other}
    d = driver_for(write_model(tmp_path, model))
    by_id(d, "maps").click()
    assert (d.current_package, d.current_activity) == ("com.example.maps", ".MapsActivity")
    d.back()
    assert d.current_package == "com.example.tiny"
    by_id(d, "route").click()
    assert d.current_activity == ".RouteActivity" and by_id(d, "where").text == "Route"
    d.back()
    assert (d.current_package, d.current_activity) == ("com.example.tiny", ".A")


def test_an_open_of_an_app_the_model_does_not_define_is_refused(driver_for, tmp_path):
    model = tiny_model(a={"activity": ".A", "elements": [
        {"id": "web", "class": "android.widget.Button", "text": "Web", "onClick": [{"open": "com.android.chrome"}]}]})
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(write_model(tmp_path, model))
    msg = str(err.value)
    assert "screens.a.elements[0].onClick[0].open" in msg
    assert 'unknown app "com.android.chrome": the model\'s otherApps does not define it' in msg


def test_snap_is_the_photo_app_apps_readme_describes():
    # every activity reachable by clicking: tests/sim/test_sample_apps.py
    model = json.loads(open(sample_app("snap")).read())
    assert model["package"] == SNAP and model["screens"][model["start"]]["activity"] == ".HomeActivity"


def test_snap_login_wall_needs_the_credentials(driver_for):
    d = driver_for("snap")
    by_id(d, "account").click()
    by_id(d, "username").send_keys("sam")
    by_id(d, "password").send_keys("wrong")
    by_id(d, "sign_in").click()
    assert d.current_activity == ".LoginActivity" and by_id(d, "error").text == "Wrong username or password"
    by_id(d, "password").send_keys("hunter2")
    by_id(d, "sign_in").click()
    assert d.current_activity == ".AccountActivity" and by_id(d, "greeting").text == "Signed in as sam"
    by_id(d, "albums").click()
    assert d.current_activity == ".AlbumsActivity"
    d.back()
    by_id(d, "profile").click()
    assert d.current_activity == ".ProfileActivity" and by_id(d, "profile_name").text == "sam"
    x1, y1, x2, y2 = bounds_of(by_id(d, "private").get_attribute("bounds"))
    assert y2 - y1 >= 126
