"""Recorded apps: the agent's actions matched to the recorded transitions (APP_MODEL.md, "Recorded real apps")."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput

from tests.sim.helpers import CRASH_DIALOG, LAUNCHER, SYSTEM, dialog_title, logcat, source_tree, tagged
from tests.sim.test_recorded import PKG, el, hierarchy, write_recorded

FRAME = "android.widget.FrameLayout"
TEXT = "android.widget.TextView"
BUTTON = "android.widget.Button"
SIZE = {"width": 720, "height": 1280}

# home: a clickable row holding a text and a button; a button half covered by a later sibling; a field;
# a list with two items. Nested and overlapping nodes, as real screens have them.
HOME = hierarchy(el(
    FRAME, "[0,0][720,1280]",
    el("android.widget.LinearLayout", "[0,100][720,300]",
       el(TEXT, "[0,100][500,300]", text="Row title"),
       el(BUTTON, "[500,100][720,300]", rid="star", text="Star", clickable=True, index=1),
       rid="row", clickable=True),
    el(BUTTON, "[0,400][720,600]", rid="under", text="Under", clickable=True, index=1),
    el(FRAME, "[0,400][400,600]", rid="overlay", index=2),
    el("android.widget.EditText", "[0,700][720,800]", rid="query", index=3),
    el("androidx.recyclerview.widget.RecyclerView", "[0,900][720,1280]",
       el(TEXT, "[0,900][720,1000]", rid="item", text="Item", clickable=True, long_clickable=True),
       el(TEXT, "[0,1000][720,1100]", rid="item", text="Item 2", clickable=True, index=1),
       rid="list", scrollable=True, index=4),
), **SIZE)


def page(title: str, field: bool = False, scroller: bool = False) -> str:
    """A screen that says which it is (and may have a field, or a scrollable area below its title)."""
    parts = [el(TEXT, "[0,0][720,100]", rid="title", text=title)]
    if field:
        parts.append(el("android.widget.EditText", "[0,200][720,300]", rid="field", index=1))
    if scroller:
        parts.append(el("android.widget.ScrollView", "[0,400][720,1280]", rid="scroller", scrollable=True, index=2))
    return hierarchy(el(FRAME, "[0,0][720,1280]", *parts), **SIZE)


def tap(kind: str = "tap", **action):
    return {"kind": kind, **action}


TRANSITIONS = [
    {"from": "home", "action": tap(at=[100, 200]), "to": "row"},  # lands on the text, goes up to the row
    {"from": "home", "action": tap(element={"resource-id": f"{PKG}:id/star"}), "to": "star"},
    {"from": "home", "action": tap(at=[500, 500]), "to": "under"},
    {"from": "home", "action": tap(element={"class": TEXT, "nth": 2}), "to": "item2"},  # the third TextView
    {"from": "home", "action": tap("type", element={"resource-id": f"{PKG}:id/query"}), "to": "results"},
    {"from": "home", "action": tap("long_press", at=[10, 950]), "to": "menu"},
    {"from": "home", "action": tap("scroll", at=[360, 1200], direction="down"), "to": "page2"},
    {"from": "page2", "action": tap("scroll", at=[360, 800], direction="down"), "to": "page3"},
    {"from": "under", "action": {"kind": "back"}, "to": "star"},
    {"from": "star", "action": tap(at=[10, 10]), "to": "star"},
]


@pytest.fixture
def app(driver_for, tmp_path):
    screens = {"home": {"activity": ".Home", "pageSource": HOME}}
    for name in ["row", "under", "item2", "results", "menu", "page3"]:
        screens[name] = {"activity": f".{name.capitalize()}", "pageSource": page(name)}
    screens["star"] = {"activity": ".Star", "pageSource": page("star", field=True)}
    screens["page2"] = {"activity": ".Home", "pageSource": page("page2", scroller=True)}
    return driver_for(write_recorded(tmp_path, screens, TRANSITIONS, start="home"))


def screen_of(d) -> str:
    titles = d.find_elements("id", "title")
    return titles[0].text if titles else "home"


def test_a_tap_at_a_recorded_point_goes_where_the_recording_went(app):
    app.tap([(100, 200)])
    assert screen_of(app) == "row"
    assert app.current_activity == ".Row"


def test_a_tap_on_an_element_lands_at_its_centre_and_goes_up_to_what_is_clickable(app):
    app.find_element("xpath", f"//{TEXT}[@text='Row title']").click()  # a text inside the clickable row
    assert screen_of(app) == "row"
    app.back()
    app.find_element("id", "row").click()  # the row's centre (360, 200) is on its text too
    assert screen_of(app) == "row"
    app.back()
    app.tap([(600, 150)])  # a point on the button inside the row is the recorded tap on the button
    assert screen_of(app) == "star"


def test_the_last_drawn_child_under_the_finger_takes_the_touch(app):
    app.tap([(100, 500)])  # the overlay drawn after "Under" covers its left part
    assert screen_of(app) == "home"
    app.find_element("id", "under").click()  # its centre (360, 500) is under the overlay too
    assert screen_of(app) == "home"
    app.tap([(500, 500)])
    assert screen_of(app) == "under"


def test_an_element_locator_with_class_and_nth(app):
    app.find_element("xpath", "//*[@text='Item 2']").click()
    assert screen_of(app) == "item2"


def test_setting_text_is_a_type_action_clearing_is_not(app):
    field = app.find_element("id", "query")
    field.clear()
    assert screen_of(app) == "home"
    field.send_keys("pizza")
    assert screen_of(app) == "results"
    app.back()
    assert app.find_element("id", "query").text == "pizza"  # back returns to the visit, typed text kept


def test_an_action_without_a_recorded_transition_changes_nothing(app):
    before = app.page_source
    title = app.find_element("xpath", f"//{TEXT}[@text='Row title']")
    app.tap([(10, 1250)])  # the list, where it holds no item
    app.execute_script("mobile: longClickGesture", {"x": 600, "y": 500})
    app.find_element("id", "under").click()
    assert app.page_source == before
    assert title.text == "Row title"  # the same screen: its elements are still there
    app.tap([(600, 150)])
    field = app.find_element("id", "field")
    field.send_keys("hello")  # star has no recorded type: the text shows in its field
    assert screen_of(app) == "star"
    assert field.text == "hello"
    assert source_tree(app).find(".//*[@resource-id='com.example.rec:id/field']").get("text") == "hello"
    app.tap([(10, 10)])  # a transition to the screen it is on keeps the visit
    assert app.find_element("id", "field").text == "hello"


def test_long_press_at_a_point_or_on_an_element(app):
    app.execute_script("mobile: longClickGesture", {"x": 10, "y": 950})
    assert screen_of(app) == "menu"
    app.back()
    item = app.find_element("xpath", "//*[@text='Item']")
    app.execute_script("mobile: longClickGesture", {"elementId": item.id})
    assert screen_of(app) == "menu"
    app.back()
    app.tap([(10, 950)])  # a tap is not a long press
    assert screen_of(app) == "home"


def test_back_pops_the_screen_stack_and_on_start_sends_the_app_to_the_background(app):
    app.tap([(100, 200)])
    assert screen_of(app) == "row"
    app.back()
    assert screen_of(app) == "home"
    app.back()
    assert app.current_package == LAUNCHER
    assert app.query_app_state(PKG) == 3
    app.activate_app(PKG)
    assert screen_of(app) == "home"


def test_a_recorded_back_goes_where_the_recording_went(app):
    app.tap([(500, 500)])
    assert screen_of(app) == "under"
    app.press_keycode(4)  # recorded: back from "under" led to "star"
    assert screen_of(app) == "star"
    app.back()  # not recorded on star: the stack below it
    assert screen_of(app) == "home"


def test_scroll_transitions_and_what_scroll_gesture_answers(app):
    lst = app.find_element("id", "list")
    assert app.execute_script("mobile: scrollGesture", {"elementId": lst.id, "direction": "up", "percent": 0.8}) is False
    assert screen_of(app) == "home"  # no recorded scroll up
    more = app.execute_script("mobile: scrollGesture", {"elementId": lst.id, "direction": "down", "percent": 0.8})
    assert screen_of(app) == "page2"
    assert more is True  # page2 has a recorded scroll down
    area = {"left": 300, "top": 700, "width": 120, "height": 200, "direction": "down", "percent": 0.5}
    assert app.execute_script("mobile: scrollGesture", area) is False  # page3 has none
    assert screen_of(app) == "page3"


def test_swipes_are_scrolls_the_other_way_round(app):
    app.execute_script("mobile: swipeGesture", {"left": 0, "top": 1100, "width": 720, "height": 200,
                                                "direction": "up", "percent": 0.5})
    assert screen_of(app) == "page2"
    app.back()
    swipe = ActionBuilder(app, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
    swipe.pointer_action.move_to_location(360, 1200).pointer_down().move_to_location(360, 950).release()
    swipe.perform()  # the finger moves up: the content below comes
    assert screen_of(app) == "page2"


def test_a_transition_may_crash_the_app(driver_for, tmp_path):
    crash = {"exception": "java.lang.IllegalStateException", "message": "token is null",
             "frames": ["com.example.rec.sync.SyncClient.push(SyncClient.java:88)"]}
    path = write_recorded(
        tmp_path, {"home": {"activity": ".Home", "pageSource": HOME}, "row": {"activity": ".Row", "pageSource": page("row")}},
        [{"from": "home", "action": tap(element={"resource-id": f"{PKG}:id/star"}), "crash": crash},
         {"from": "home", "action": tap("long_press", at=[10, 950]), "crash": True},
         {"from": "home", "action": tap(at=[100, 200]), "to": "row"}])
    d = driver_for(path)
    logcat(d)
    d.find_element("id", "star").click()
    assert dialog_title(d) == "Recorded keeps stopping"
    assert (d.current_package, d.current_activity) == (SYSTEM, CRASH_DIALOG)
    assert d.query_app_state(PKG) == 1
    x1, y1, x2, y2 = map(int, source_tree(d).find(".//*[@resource-id='android:id/aerr_close']").get("bounds")
                         .replace("][", ",").strip("[]").split(","))
    assert 0 <= x1 < x2 <= 720 and 0 <= y1 < y2 <= 1280  # the dialog fits the recorded display
    lines = tagged(logcat(d), "AndroidRuntime")
    assert "FATAL EXCEPTION: main" in lines
    assert "java.lang.IllegalStateException: token is null" in lines
    assert "\tat com.example.rec.sync.SyncClient.push(SyncClient.java:88)" in lines
    d.find_element("id", "android:id/aerr_close").click()
    assert d.current_package == LAUNCHER
    d.activate_app(PKG)
    assert screen_of(d) == "home"  # started fresh
    d.execute_script("mobile: longClickGesture", {"x": 10, "y": 950})
    assert dialog_title(d) == "Recorded keeps stopping"
    lines = tagged(logcat(d), "AndroidRuntime")
    assert "java.lang.RuntimeException" in lines
    assert any(line.startswith("\tat com.example.rec.Home") for line in lines)
