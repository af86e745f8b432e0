"""Scrolling lists, scrollable screens and long presses (APP_MODEL.md, "Scrolling lists and long presses")."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import InvalidArgumentException, SessionNotCreatedException
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput

from tests.sim.helpers import bounds_of, by_id, source_tree, write_model

LIST = "androidx.recyclerview.widget.RecyclerView"


def recipes_model(count: int = 12, rows: int = 4) -> dict:
    items = [{"id": "recipe", "class": "android.widget.TextView", "text": f"Recipe {i}",
              "onClick": [{"goto": "detail", "set": {"name": f"Recipe {i}"}}]} for i in range(count)]
    items[-1]["onLongClick"] = [{"goto": "menu"}]
    return {
        "package": "com.example.scroll", "start": "home",
        "screens": {
            "home": {"activity": ".Home", "elements": [
                {"id": "title", "class": "android.widget.TextView", "text": "Recipes"},
                {"id": "recipes", "class": LIST, "rows": rows, "items": items},
                {"id": "plain", "class": "android.widget.Button", "text": "Plain"}]},
            "detail": {"activity": ".Detail", "elements": [{"id": "name", "class": "android.widget.TextView", "text": ""}]},
            "menu": {"activity": ".Menu", "elements": [{"id": "share", "class": "android.widget.Button", "text": "Share"}]},
            "long": {"activity": ".Long", "scrollable": True, "elements": [
                {"id": f"b{i}", "class": "android.widget.Button", "text": f"Button {i}",
                 **({"onClick": [{"goto": "detail"}]} if i == 19 else {})} for i in range(20)]},
        },
    }


@pytest.fixture
def scroll_app(driver_for, tmp_path):
    def make(activity: str = ".Home", **kwargs):
        return driver_for(write_model(tmp_path, recipes_model(**kwargs)), appActivity=activity)
    return make


def shown(d) -> list[str]:
    return [e.text for e in d.find_elements("id", "recipe")]


def scroll(d, element, direction="down", percent=1.0):
    return d.execute_script("mobile: scrollGesture", {"elementId": element.id, "direction": direction,
                                                      "percent": percent})


def finger(d, path, hold_ms=0):
    """A touch pointer going down at path[0], through the rest, and up."""
    actions = ActionBuilder(d, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
    actions.pointer_action.move_to_location(*path[0]).pointer_down()
    if hold_ms:
        actions.pointer_action.pause(hold_ms / 1000)
    for point in path[1:]:
        actions.pointer_action.move_to_location(*point)
    actions.pointer_action.release()
    actions.perform()


def centre(element) -> tuple[int, int]:
    r = element.rect
    return r["x"] + r["width"] // 2, r["y"] + r["height"] // 2


def test_a_list_shows_rows_items_and_is_scrollable(scroll_app):
    d = scroll_app()
    assert shown(d) == ["Recipe 0", "Recipe 1", "Recipe 2", "Recipe 3"]
    node = source_tree(d).find(".//*[@resource-id='com.example.scroll:id/recipes']")
    assert node.get("scrollable") == "true" and len(list(node)) == 4
    assert by_id(d, "title").get_attribute("scrollable") == "false"
    assert by_id(d, "recipes").get_attribute("scrollable") == "true"


def test_scroll_gesture_moves_the_window_and_says_whether_more_can_come(scroll_app):
    d = scroll_app()
    recipes = by_id(d, "recipes")
    assert scroll(d, recipes, percent=0.5) is True
    assert shown(d) == ["Recipe 2", "Recipe 3", "Recipe 4", "Recipe 5"]
    assert scroll(d, recipes) is True
    assert scroll(d, recipes) is False  # the last page
    assert shown(d) == ["Recipe 8", "Recipe 9", "Recipe 10", "Recipe 11"]
    assert scroll(d, recipes) is False  # past the end it stays there
    assert shown(d)[-1] == "Recipe 11"
    assert scroll(d, recipes, "up") is True
    assert scroll(d, recipes, "up") is False
    assert shown(d)[0] == "Recipe 0"


def test_scroll_gesture_by_area_and_from_an_item(scroll_app):
    d = scroll_app()
    r = by_id(d, "recipes").rect
    area = {"left": r["x"], "top": r["y"], "width": r["width"], "height": r["height"]}
    assert d.execute_script("mobile: scrollGesture", {**area, "direction": "down", "percent": 1.0}) is True
    assert shown(d)[0] == "Recipe 4"
    item = d.find_elements("id", "recipe")[0]  # an item scrolls the list it is in
    scroll(d, item, "up")
    assert shown(d)[0] == "Recipe 0"


def test_horizontal_scroll_of_a_vertical_list_does_nothing(scroll_app):
    d = scroll_app()
    assert scroll(d, by_id(d, "recipes"), "right") is False
    assert shown(d)[0] == "Recipe 0"


@pytest.mark.parametrize(("args", "named"), [
    ({"direction": "sideways", "percent": 1.0}, "direction"),
    ({"direction": "down"}, "percent"),
    ({"direction": "down", "percent": -1}, "percent"),
])
def test_scroll_gesture_refuses_bad_arguments(scroll_app, args, named):
    d = scroll_app()
    with pytest.raises(InvalidArgumentException) as err:
        d.execute_script("mobile: scrollGesture", {"elementId": by_id(d, "recipes").id, **args})
    assert named in err.value.msg


def test_swipe_gesture_direction_is_the_fingers(scroll_app):
    d = scroll_app()
    args = {"elementId": by_id(d, "recipes").id, "percent": 1.0}
    d.execute_script("mobile: swipeGesture", {**args, "direction": "up"})
    assert shown(d)[0] == "Recipe 4"
    d.execute_script("mobile: swipeGesture", {**args, "direction": "down"})
    assert shown(d)[0] == "Recipe 0"


def test_w3c_swipe_inside_the_list_scrolls_it(scroll_app):
    d = scroll_app()
    x1, y1, x2, y2 = bounds_of(source_tree(d).find(".//*[@resource-id='com.example.scroll:id/recipes']").get("bounds"))
    row = (y2 - y1) // 4
    finger(d, [((x1 + x2) // 2, y2 - 10), ((x1 + x2) // 2, y2 - 10 - 2 * row)])  # finger up two rows
    assert shown(d)[0] == "Recipe 2"
    assert d.current_activity == ".Home"  # a swipe is not a tap


def test_an_item_revealed_by_scrolling_can_be_tapped(scroll_app):
    d = scroll_app()
    scroll(d, by_id(d, "recipes"))
    d.find_element("xpath", "//*[@text='Recipe 6']").click()
    assert d.current_activity == ".Detail"
    assert by_id(d, "name").text == "Recipe 6"


def test_back_and_return_keeps_the_lists_position_a_new_visit_starts_at_the_top(scroll_app):
    d = scroll_app()
    scroll(d, by_id(d, "recipes"))
    d.find_element("xpath", "//*[@text='Recipe 5']").click()
    d.back()
    assert shown(d)[0] == "Recipe 4"
    d.terminate_app("com.example.scroll")
    d.activate_app("com.example.scroll")
    assert shown(d)[0] == "Recipe 0"


def test_long_press_fires_on_long_click_rules_and_shows_long_clickable(scroll_app):
    d = scroll_app()
    recipes = by_id(d, "recipes")
    scroll(d, recipes)
    scroll(d, recipes)
    last = d.find_element("xpath", "//*[@text='Recipe 11']")
    assert last.get_attribute("long-clickable") == "true"
    assert d.find_element("xpath", "//*[@text='Recipe 10']").get_attribute("long-clickable") == "false"
    finger(d, [centre(last)], hold_ms=50)  # a short press is a tap
    assert d.current_activity == ".Detail"
    d.back()
    finger(d, [centre(d.find_element("xpath", "//*[@text='Recipe 11']"))], hold_ms=600)
    assert d.current_activity == ".Menu"


def test_long_click_gesture_by_element_and_by_point(scroll_app):
    d = scroll_app(count=3)
    d.execute_script("mobile: longClickGesture", {"elementId": d.find_element("xpath", "//*[@text='Recipe 2']").id})
    assert d.current_activity == ".Menu"
    d.back()
    x, y = centre(d.find_element("xpath", "//*[@text='Recipe 2']"))
    d.execute_script("mobile: longClickGesture", {"x": x, "y": y, "duration": 800})
    assert d.current_activity == ".Menu"


def test_long_press_without_on_long_click_does_nothing(scroll_app):
    d = scroll_app()
    d.execute_script("mobile: longClickGesture", {"elementId": by_id(d, "plain").id})
    finger(d, [centre(d.find_elements("id", "recipe")[0])], hold_ms=700)
    assert d.current_activity == ".Home"


def test_a_scrollable_screen_hides_what_is_below_the_display_until_scrolled(scroll_app):
    d = scroll_app(".Long")
    tree = source_tree(d)
    scroller = tree.find(".//android.widget.ScrollView")
    assert scroller is not None and scroller.get("scrollable") == "true"
    ids = [n.get("resource-id").split("/")[-1] for n in scroller]
    assert "b0" in ids and "b19" not in ids
    for n in scroller:  # nothing is squeezed: every fully shown button keeps its natural height
        x1, y1, x2, y2 = bounds_of(n.get("bounds"))
        assert y2 <= 2400 - 126
    assert d.execute_script("mobile: scrollGesture", {"elementId": d.find_element("class name", "android.widget.ScrollView").id,
                                                      "direction": "down", "percent": 1.0}) is False
    by_id(d, "b19").click()
    assert d.current_activity == ".Detail"


def test_a_w3c_swipe_scrolls_a_scrollable_screen(scroll_app):
    d = scroll_app(".Long")
    assert not d.find_elements("id", "b19")
    finger(d, [(540, 2000), (540, 600)])
    assert d.find_elements("id", "b19")
    assert not d.find_elements("id", "b0")


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda m: m["screens"]["home"]["elements"][1].update(rows=0), "screens.home.elements[1].rows"),
    (lambda m: m["screens"]["home"]["elements"][1].update(items={"id": "x"}), "screens.home.elements[1].items"),
    (lambda m: m["screens"]["home"]["elements"][1]["items"][0].update(onLongClick=[{"goto": "nowhere"}]),
     "screens.home.elements[1].items[0].onLongClick[0].goto"),
    (lambda m: m["screens"]["long"].update(scrollable="yes"), "screens.long.scrollable"),
])
def test_invalid_lists_are_refused_naming_the_problem(driver_for, tmp_path, mutate, expected):
    model = recipes_model()
    mutate(model)
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(write_model(tmp_path, model))
    assert expected in err.value.msg
