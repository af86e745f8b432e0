"""The soft keyboard: tapping or typing into a field shows it; is_keyboard_shown / hide_keyboard (the Python
client's `mobile:` methods and Appium's /appium/device routes); a touch on it (the bottom 40% of the display)
does nothing to the app; back with it shown only hides it; leaving the screen hides it."""

from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput

from tests.sim.helpers import bounds_of, by_id, raw, source_tree, tiny_model, write_model

LOW_BUTTON = [48, 2000, 1032, 2150]  # in the bottom 40% of the 1080x2400 display (from y 1440)


def keyboard_model():
    return tiny_model(a={"activity": ".A", "elements": [
        {"id": "field", "class": "android.widget.EditText", "hint": "Name", "editable": True},
        {"id": "to_b", "class": "android.widget.Button", "text": "To B", "onClick": [{"goto": "b"}]},
        {"id": "low", "class": "android.widget.Button", "text": "Low", "bounds": LOW_BUTTON,
         "onClick": [{"set": {"status": "low tapped"}}]},
        {"id": "status", "class": "android.widget.TextView", "text": "-"},
    ]})


def test_tapping_a_field_shows_the_keyboard_and_hide_keyboard_hides_it(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, keyboard_model()))
    assert d.is_keyboard_shown() is False
    field = by_id(d, "field")
    field.click()
    assert d.is_keyboard_shown() is True
    assert field.get_attribute("focused") == "true"
    d.hide_keyboard()
    assert d.is_keyboard_shown() is False
    assert d.current_activity == ".A"  # hiding it is no back
    field.send_keys("ann")  # typing shows it too
    assert d.is_keyboard_shown() is True


def test_the_appium_device_routes_answer_too(driver_for, tmp_path, appium_server):
    d = driver_for(write_model(tmp_path, keyboard_model()))
    assert raw(appium_server, d, "GET", "/appium/device/is_keyboard_shown") is False
    by_id(d, "field").send_keys("x")
    assert raw(appium_server, d, "GET", "/appium/device/is_keyboard_shown") is True
    assert raw(appium_server, d, "POST", "/appium/device/hide_keyboard") is True
    assert raw(appium_server, d, "GET", "/appium/device/is_keyboard_shown") is False
    assert raw(appium_server, d, "POST", "/appium/device/hide_keyboard") is False  # nothing to hide


def test_a_touch_on_the_keyboard_does_nothing_to_the_app(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, keyboard_model()))
    by_id(d, "field").click()
    d.tap([(540, 2075)])  # on the keyboard: the app's button under it is not touched
    assert by_id(d, "status").text == "-"
    assert d.is_keyboard_shown() is True
    source = source_tree(d)  # the page source (the app's window) still lists what the keyboard covers
    assert source.find(".//*[@resource-id='com.example.tiny:id/low']") is not None
    actions = ActionChains(d)
    actions.w3c_actions = ActionBuilder(d, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
    actions.w3c_actions.pointer_action.move_to_location(540, 2075).pointer_down().pause(0.05).release()
    actions.perform()  # a W3C tap there too
    d.execute_script("mobile: clickGesture", {"x": 540, "y": 2075})
    assert by_id(d, "status").text == "-"
    d.hide_keyboard()
    d.tap([(540, 2075)])
    assert by_id(d, "status").text == "low tapped"


def test_a_touch_above_the_keyboard_reaches_the_app(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, keyboard_model()))
    by_id(d, "field").send_keys("ann")
    x1, y1, x2, y2 = bounds_of(by_id(d, "to_b").get_attribute("bounds"))
    assert y2 < 1440
    d.tap([((x1 + x2) // 2, (y1 + y2) // 2)])
    assert d.current_activity == ".B"


def test_back_with_the_keyboard_shown_only_hides_it(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, keyboard_model()))
    by_id(d, "to_b").click()
    d.back()
    by_id(d, "field").send_keys("ann")
    d.back()
    assert d.is_keyboard_shown() is False
    assert d.current_activity == ".A" and by_id(d, "field").text == "ann"
    d.back()  # now back is back
    assert d.current_package == "com.android.launcher3"


def test_leaving_the_screen_hides_the_keyboard(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, keyboard_model()))
    by_id(d, "field").send_keys("ann")
    by_id(d, "to_b").click()
    assert d.current_activity == ".B" and d.is_keyboard_shown() is False
    d.back()
    assert d.current_activity == ".A" and d.is_keyboard_shown() is False  # not again on return
    by_id(d, "field").click()
    d.press_keycode(3)  # home
    d.activate_app("com.example.tiny")
    assert d.is_keyboard_shown() is False


def test_snap_search_field_brings_up_the_keyboard(driver_for):
    d = driver_for("snap")
    by_id(d, "search").send_keys("sunset")
    assert d.is_keyboard_shown() is True
    by_id(d, "search_go").click()
    assert d.current_activity == ".SearchResultsActivity" and d.is_keyboard_shown() is False
    assert by_id(d, "results_title").text == "Results for sunset"
