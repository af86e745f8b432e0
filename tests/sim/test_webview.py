"""Web content: a WebView's parts are one node without children in the page source unless the page is
exposed (then android.view.View children with their texts, not clickable); a touch inside a part's box
applies its rules (W3C taps, clickGesture, and element clicks at the element's centre)."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import SessionNotCreatedException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput

from tests.sim.helpers import by_id, source_tree, toasts, tiny_model, write_model

WEBVIEW = "android.webkit.WebView"
PKG = "com.example.tiny"


def web_model(exposed=None):
    page = {"id": "page", "class": WEBVIEW, "bounds": [0, 400, 1080, 2000], "web": [
        {"box": [40, 440, 1040, 560], "text": "Welcome"},
        {"box": [40, 600, 1040, 760], "text": "Open B", "onClick": [{"goto": "b"}]},
        {"box": [40, 1100, 1040, 1300], "text": "Say hi", "onClick": [{"toast": "hi from the page"}]},
    ]}
    if exposed is not None:
        page["exposed"] = exposed
    return tiny_model(a={"activity": ".A", "elements": [
        {"id": "title", "class": "android.widget.TextView", "text": "Page"}, page]})


def webview_node(driver):
    return source_tree(driver).find(f".//{WEBVIEW}")


def test_an_unexposed_page_is_one_node_without_children(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, web_model()))
    node = webview_node(d)
    assert node.get("resource-id") == f"{PKG}:id/page" and node.get("bounds") == "[0,400][1080,2000]"
    assert list(node) == []
    texts = {n.get("text") for n in source_tree(d).iter()}
    assert not {"Welcome", "Open B", "Say hi"} & texts
    assert not d.find_elements("xpath", "//*[@text='Open B']")


def test_a_tap_inside_a_part_applies_its_rules(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, web_model()))
    d.tap([(540, 500)])  # a part without rules
    d.tap([(540, 900)])  # the page, outside every part
    assert d.current_activity == ".A" and toasts(d) == []
    d.execute_script("mobile: clickGesture", {"x": 100, "y": 1200})
    assert toasts(d) == ["hi from the page"]
    actions = ActionChains(d)
    actions.w3c_actions = ActionBuilder(d, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
    actions.w3c_actions.pointer_action.move_to_location(900, 700).pointer_down().pause(0.05).release()
    actions.perform()
    assert d.current_activity == ".B"


def test_an_element_click_on_the_webview_lands_at_its_centre(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, web_model()))
    by_id(d, "page").click()  # centre (540, 1200): inside "Say hi"
    assert toasts(d) == ["hi from the page"]


def test_an_exposed_page_shows_its_parts_as_views(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, web_model(exposed=True)))
    children = list(webview_node(d))
    assert [(c.tag, c.get("text"), c.get("clickable"), c.get("bounds")) for c in children] == [
        ("android.view.View", "Welcome", "false", "[40,440][1040,560]"),
        ("android.view.View", "Open B", "false", "[40,600][1040,760]"),
        ("android.view.View", "Say hi", "false", "[40,1100][1040,1300]"),
    ]
    d.find_element("xpath", "//android.view.View[@text='Open B']").click()  # a touch at its centre
    assert d.current_activity == ".B"


def test_snap_help_page_leads_to_its_topics(driver_for):
    d = driver_for("snap")
    by_id(d, "help").click()
    assert d.current_activity == ".HelpActivity"
    assert list(webview_node(d)) == []  # snap's help page is not exposed
    d.tap([(540, 570)])  # "Getting started"
    assert d.current_activity == ".HelpTopicActivity" and by_id(d, "topic_title").text == "Getting started"
    d.back()
    d.tap([(540, 750)])  # "Privacy and permissions"
    assert by_id(d, "topic_title").text == "Privacy and permissions"
    d.back()
    d.tap([(540, 930)])  # "Contact support"
    assert d.current_activity == ".HelpActivity" and toasts(d) == ["support@snap.example.com"]
    assert d.get_screenshot_as_png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_web_parts_on_an_element_that_is_no_webview_are_refused(driver_for, tmp_path):
    model = tiny_model(a={"activity": ".A", "elements": [
        {"id": "page", "class": "android.widget.TextView", "text": "x", "web": [{"box": [0, 0, 10, 10]}]}]})
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(write_model(tmp_path, model))
    assert "screens.a.elements[0].web: only a WebView (class android.webkit.WebView) holds web parts" in str(err.value)
