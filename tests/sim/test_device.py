"""Keys, back, app management and current activity/package (both the mobile: and the legacy routes)."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import WebDriverException

from tests.fixtures.appium import sample_app
from tests.sim.helpers import LAUNCHER, NOTES, SHOP, by_id, raw


def test_press_keycode_home_and_back_via_mobile_press_key(driver_for):
    d = driver_for("notes")
    by_id(d, "accept").click()
    d.press_keycode(4)  # login has "back": null -> background
    assert d.query_app_state(NOTES) == 3
    d.activate_app(NOTES)
    d.press_keycode(3)
    assert d.current_package == LAUNCHER
    assert d.query_app_state(NOTES) == 3


def test_legacy_press_keycode_route(appium_server, driver_for):
    d = driver_for("settings")
    by_id(d, "display").click()
    raw(appium_server, d, "POST", "/appium/device/press_keycode", {"keycode": 4})
    assert d.current_activity == ".SettingsActivity"
    raw(appium_server, d, "POST", "/appium/device/press_keycode", {"keycode": 3})
    assert d.current_package == LAUNCHER


def test_w3c_back(driver_for):
    d = driver_for("notes")
    by_id(d, "accept").click()
    by_id(d, "forgot").click()
    d.back()
    assert d.current_activity == ".LoginActivity"


def test_key_codes_type_into_the_focused_field(driver_for):
    d = driver_for("notes")
    by_id(d, "accept").click()
    by_id(d, "username").click()  # focus
    for code in (29, 40, 37, 31, 33):  # a l i c e
        d.press_keycode(code)
    assert by_id(d, "username").text == "alice"
    d.press_keycode(67)  # DEL
    assert by_id(d, "username").text == "alic"


def test_current_activity_and_package_legacy_routes(appium_server, driver_for):
    d = driver_for("notes")
    assert raw(appium_server, d, "GET", "/appium/device/current_activity") == ".ConsentActivity"
    assert raw(appium_server, d, "GET", "/appium/device/current_package") == NOTES
    d.press_keycode(3)
    assert raw(appium_server, d, "GET", "/appium/device/current_package") == LAUNCHER
    assert d.current_activity == ".Launcher"


def test_app_lifecycle_states(driver_for):
    d = driver_for("notes")
    assert d.is_app_installed(NOTES)
    assert d.query_app_state(NOTES) == 4
    by_id(d, "accept").click()
    d.press_keycode(3)
    assert d.query_app_state(NOTES) == 3
    d.activate_app(NOTES)  # resumes where it was
    assert d.current_activity == ".LoginActivity"
    assert d.terminate_app(NOTES) is True
    assert d.query_app_state(NOTES) == 1
    assert d.terminate_app(NOTES) is False
    assert d.current_package == LAUNCHER
    d.activate_app(NOTES)  # fresh start
    assert d.current_activity == ".ConsentActivity"
    d.remove_app(NOTES)
    assert not d.is_app_installed(NOTES)
    assert d.query_app_state(NOTES) == 0
    assert d.current_package == LAUNCHER
    with pytest.raises(WebDriverException, match="not installed"):
        d.activate_app(NOTES)
    d.install_app(sample_app("notes"))
    assert d.query_app_state(NOTES) == 1
    d.activate_app(NOTES)
    assert d.query_app_state(NOTES) == 4


def test_legacy_app_management_routes(appium_server, driver_for):
    d = driver_for("notes")
    assert raw(appium_server, d, "POST", "/appium/device/app_state", {"appId": NOTES}) == 4
    assert raw(appium_server, d, "POST", "/appium/device/app_installed", {"appId": SHOP}) is False
    raw(appium_server, d, "POST", "/appium/device/install_app", {"appPath": sample_app("shop")})
    assert raw(appium_server, d, "POST", "/appium/device/app_installed", {"appId": SHOP}) is True
    raw(appium_server, d, "POST", "/appium/device/activate_app", {"appId": SHOP})
    assert d.current_package == SHOP
    assert d.query_app_state(NOTES) == 3  # the other app went to the background
    assert raw(appium_server, d, "POST", "/appium/device/terminate_app", {"appId": SHOP}) is True
    assert raw(appium_server, d, "POST", "/appium/device/remove_app", {"appId": SHOP}) is True
    assert d.query_app_state(SHOP) == 0


def test_install_of_a_broken_model_is_refused(driver_for, tmp_path):
    d = driver_for("notes")
    broken = tmp_path / "broken.json"
    broken.write_text("[]")
    with pytest.raises(WebDriverException, match="the model must be a JSON object"):
        d.install_app(str(broken))
    with pytest.raises(WebDriverException, match="App model file not found"):
        d.install_app(str(tmp_path / "missing.json"))


def test_window_size_and_orientation(driver_for):
    d = driver_for("notes")
    assert d.get_window_size() == {"width": 1080, "height": 2400}
    assert d.get_window_rect() == {"x": 0, "y": 0, "width": 1080, "height": 2400}
    assert d.orientation == "PORTRAIT"


def test_background_app_with_negative_seconds_stays_in_background(driver_for):
    d = driver_for("notes")
    d.background_app(-1)
    assert d.query_app_state(NOTES) == 3


def test_unknown_execute_method_is_reported(driver_for):
    d = driver_for("notes")
    with pytest.raises(WebDriverException, match="Unsupported execute method"):
        d.execute_script("mobile: noSuchMethod", {})
