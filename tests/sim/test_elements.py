"""Finding elements and the element commands."""

from __future__ import annotations

import pytest
from appium.webdriver.common.appiumby import AppiumBy
from selenium.common.exceptions import (
    InvalidElementStateException,
    InvalidSelectorException,
    NoSuchElementException,
    StaleElementReferenceException,
)

from tests.sim.helpers import by_id, login


def test_find_by_every_strategy(driver_for):
    d = driver_for("notes")
    login(d)
    by_short_id = by_id(d, "settings")
    by_full_id = d.find_element(AppiumBy.ID, "com.example.notes:id/settings")
    by_a11y = d.find_element(AppiumBy.ACCESSIBILITY_ID, "Settings")
    by_xpath = d.find_element(AppiumBy.XPATH, "//android.widget.ImageButton[@content-desc='Settings']")
    assert by_short_id.id == by_full_id.id == by_a11y.id == by_xpath.id
    buttons = d.find_elements(AppiumBy.CLASS_NAME, "android.widget.ImageButton")
    assert [b.get_attribute("content-desc") for b in buttons] == ["New note", "Search", "Settings"]
    assert d.find_elements(AppiumBy.ID, "does_not_exist") == []
    with pytest.raises(NoSuchElementException):
        d.find_element(AppiumBy.ACCESSIBILITY_ID, "Nope")


def test_xpath_by_text_and_position(driver_for):
    d = driver_for("shop")
    d.find_element(AppiumBy.XPATH, "//*[@text='Books']").click()
    rows = d.find_elements(AppiumBy.XPATH, "//*[@resource-id='com.example.shop:id/product_row']")
    assert len(rows) == 12
    assert rows[0].text.startswith("Dune")
    third = d.find_element(AppiumBy.XPATH, "(//*[@resource-id='com.example.shop:id/product_row'])[3]")
    assert third.text == rows[2].text
    with pytest.raises(InvalidSelectorException):
        d.find_element(AppiumBy.XPATH, "//*[@text='unclosed")


def test_find_from_element_searches_its_descendants(driver_for):
    d = driver_for("notes")
    content = d.find_element(AppiumBy.ID, "android:id/content")
    inner = content.find_elements(AppiumBy.CLASS_NAME, "android.widget.Button")
    assert [e.text for e in inner] == ["Accept", "Decline"]
    accept = content.find_element(AppiumBy.XPATH, ".//*[@text='Accept']")
    assert accept.id == by_id(d, "accept").id
    assert by_id(d, "accept").find_elements(AppiumBy.CLASS_NAME, "android.widget.Button") == []


def test_send_keys_clear_and_text(driver_for):
    d = driver_for("notes")
    by_id(d, "accept").click()
    user = by_id(d, "username")
    user.send_keys("bob")
    assert user.text == "bob"
    user.send_keys("alice")  # replaces, as UiAutomator2's setText does
    assert user.text == "alice"
    user.clear()
    assert user.text == ""
    with pytest.raises(InvalidElementStateException):
        by_id(d, "error").send_keys("not editable")


def test_attributes_rect_and_state(driver_for):
    d = driver_for("notes")
    accept = by_id(d, "accept")
    assert accept.get_attribute("resource-id") == "com.example.notes:id/accept"
    assert accept.get_attribute("resourceId") == "com.example.notes:id/accept"
    assert accept.get_attribute("class") == "android.widget.Button"
    assert accept.get_attribute("clickable") == "true"
    assert accept.get_attribute("checkable") == "false"
    assert accept.get_attribute("package") == "com.example.notes"
    assert accept.get_attribute("text") == "Accept"
    assert accept.get_attribute("no-such-attribute") is None
    assert accept.tag_name == "android.widget.Button"
    assert accept.is_displayed() and accept.is_enabled() and not accept.is_selected()
    rect = accept.rect
    x1, y1, x2, y2 = (int(v) for v in accept.get_attribute("bounds").replace("][", ",").strip("[]").split(","))
    assert rect == {"x": x1, "y": y1, "width": x2 - x1, "height": y2 - y1}
    assert accept.location == {"x": x1, "y": y1}
    assert accept.size == {"width": x2 - x1, "height": y2 - y1}


def test_disabled_element_reports_disabled_and_ignores_clicks(driver_for):
    d = driver_for("settings", appActivity=".network.NetworkDashboardActivity")
    vpn = by_id(d, "vpn")
    assert not vpn.is_enabled()
    assert vpn.get_attribute("enabled") == "false"
    vpn.click()
    assert d.current_activity == ".network.NetworkDashboardActivity"


def test_invisible_element_cannot_be_found(driver_for):
    d = driver_for("settings", appActivity=".wifi.WifiAdvancedActivity")
    assert d.find_elements(AppiumBy.ID, "hidden_ip") == []
    assert by_id(d, "mac").is_displayed()


def test_elements_of_a_previous_screen_are_stale(driver_for):
    d = driver_for("notes")
    accept = by_id(d, "accept")
    accept.click()
    with pytest.raises(StaleElementReferenceException):
        accept.click()
    with pytest.raises(StaleElementReferenceException):
        _ = accept.text
    d.press_keycode(3)
    username = None
    d.activate_app("com.example.notes")
    username = by_id(d, "username")
    d.terminate_app("com.example.notes")
    d.activate_app("com.example.notes")
    with pytest.raises(StaleElementReferenceException):
        username.send_keys("x")
