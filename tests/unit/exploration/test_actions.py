import pytest

from domain.exploration import BACK, MAX_LIST_ITEMS, Action, enumerate_actions, parse_screen
from tests.unit.exploration.pagesource import (
    PKG, catalog_page, flat_catalog_page, frame, hierarchy, login_page, node, row,
)


def actions_of(source: str, inputs=None) -> tuple[Action, ...]:
    return enumerate_actions(parse_screen(source, activity=".Main", package=PKG), inputs)


def declared_of(source: str, inputs=None) -> tuple[Action, ...]:
    """The actions the views say they take, and back: without the taps on uncovered leaf views."""
    return tuple(a for a in actions_of(source, inputs) if a.declared)


def test_login_form_gives_typing_toggle_tap_and_back_top_to_bottom():
    actions = declared_of(login_page(), {"username": "alice", "password": "secret"})
    assert [(a.kind, a.action_id) for a in actions] == [
        ("type", "type:id/username"),
        ("type", "type:id/password"),
        ("toggle", "toggle:id/remember"),
        ("tap", "tap:id/sign_in"),
        ("back", "back"),
    ]
    assert actions[0].text == "alice" and actions[1].text == "secret"
    assert actions[0].target == ("id", f"{PKG}:id/username")
    assert actions[0].label == 'type "alice" into "Username"'
    assert "secret" not in actions[1].label  # labels go to events and logs
    assert actions[3].label == 'tap "Sign in"'


def test_disabled_and_hidden_elements_are_skipped_and_a_static_label_is_tapped_last():
    source = hierarchy(frame(
        node("android.widget.Button", rid="disabled", bounds=row(100), clickable=True, enabled=False),
        node("android.widget.Button", rid="hidden", bounds=row(200), clickable=True, displayed=False),
        node("android.widget.TextView", rid="label", text="Just text", bounds=row(300)),
        node("android.widget.EditText", rid="locked", hint="Locked", bounds=row(400), enabled=False),
        node("android.widget.Button", rid="ok", text="OK", bounds=row(500), clickable=True),
    ))
    assert [(a.action_id, a.declared) for a in actions_of(source)] == [
        ("tap:id/ok", True), ("tap:id/label", False), ("back", True)]


def test_back_is_always_last_even_on_an_empty_screen():
    assert actions_of(hierarchy()) == (BACK,)
    assert actions_of(login_page())[-1] == BACK


def test_order_is_top_to_bottom_by_bounds():
    source = hierarchy(frame(
        node("android.widget.Button", rid="bottom", bounds=row(900), clickable=True),
        node("android.widget.Button", rid="right", bounds=(600, 100, 1000, 200), clickable=True),
        node("android.widget.Button", rid="left", bounds=(0, 100, 500, 200), clickable=True),
    ))
    ids = [a.action_id for a in actions_of(source)]
    assert ids == ["tap:id/left", "tap:id/right", "tap:id/bottom", "back"]


def test_repeated_list_items_are_capped_and_named_by_position():
    actions = declared_of(catalog_page(30, scrollable=False))
    rows = [a for a in actions if a.action_id.startswith("tap:LinearLayout#product_row@")]
    assert [a.action_id for a in rows] == [f"tap:LinearLayout#product_row@{i}" for i in range(MAX_LIST_ITEMS)]
    assert len(actions) == 1 + 2 * MAX_LIST_ITEMS + 1  # cart, rows and add buttons, back


def test_list_action_ids_do_not_depend_on_list_data_or_length():
    ids = [a.action_id for a in actions_of(catalog_page(4, cart=0))]
    assert [a.action_id for a in actions_of(catalog_page(40, cart=9, scrollable=False))] == ids


def test_flat_list_items_are_capped_too():
    actions = declared_of(flat_catalog_page(10))
    assert [a.action_id for a in actions] == [
        "tap:TextView#deal_title@0", "tap:TextView#deal_title@1", "tap:TextView#deal_title@2",
        "tap:id/more", "back",
    ]


def test_locators_are_unique_and_fall_back_from_id_to_xpath_to_point():
    source = hierarchy(frame(
        node("android.widget.Button", rid="ok", text="OK", bounds=row(100), clickable=True),
        node("android.widget.Button", rid="dup", text="Yes", bounds=row(200), clickable=True),
        node("android.widget.Button", rid="dup", text="No", bounds=row(300), clickable=True),
        node("android.widget.Button", text="Same", bounds=row(400), clickable=True),
        node("android.widget.ImageView", rid="dup_icon", bounds=row(500), clickable=True),
        node("android.widget.ImageView", rid="dup_icon", bounds=row(600), clickable=True),
        '<node clickable="true" bounds="[0,700][100,800]" />',  # no class: only a coordinate tap finds it
    ))
    actions = actions_of(source)[:-1]
    targets = [a.target for a in actions]
    assert len(set(targets)) == len(targets)
    assert targets[0] == ("id", f"{PKG}:id/ok")
    assert targets[1] == ("xpath", '//*[@class="android.widget.Button" and @text="Yes"]')
    assert targets[3] == ("xpath", '//*[@class="android.widget.Button" and @text="Same"]')
    assert targets[4] == ("xpath", '(//*[@class="android.widget.ImageView"])[1]')
    assert targets[5] == ("xpath", '(//*[@class="android.widget.ImageView"])[2]')
    assert targets[6] == ("point", (50, 750))
    assert len({a.action_id for a in actions}) == len(actions)


def test_buttons_without_ids_are_told_apart_by_text():
    source = hierarchy(frame(
        node("android.widget.TextView", text="Delete note?", bounds=row(100)),
        node("android.widget.LinearLayout", bounds=row(200), children=(
            node("android.widget.Button", text="Cancel", bounds=(0, 200, 500, 300), clickable=True),
        )),
        node("android.widget.LinearLayout", bounds=row(300), children=(
            node("android.widget.Button", text="Delete", bounds=(0, 300, 500, 400), clickable=True),
        )),
        node("android.widget.ImageButton", desc="Help", bounds=row(400), clickable=True),
    ))
    ids = [a.action_id for a in declared_of(source)]
    assert ids[-2] == "tap:ImageButton[Help]"
    assert len(set(ids)) == len(ids) == 4


def test_checkables_are_toggled_not_tapped():
    source = hierarchy(frame(node("android.widget.Switch", rid="dark", text="Dark mode", bounds=row(100),
                                  clickable=True, checkable=True, checked=True)))
    (toggle, _) = actions_of(source)
    assert (toggle.kind, toggle.label) == ("toggle", 'toggle "Dark mode"')


@pytest.mark.parametrize("action", [
    Action(kind="tap", target=("id", "a:id/b"), label='tap "B"', action_id="tap:id/b"),
    Action(kind="tap", target=("point", (5, 7)), label="tap", action_id="tap:View"),
    Action(kind="type", target=("xpath", "//x"), text="alice", label="type", action_id="type:id/u"),
    BACK,
])
def test_actions_round_trip_through_plain_dicts(action):
    data = action.to_dict()
    assert Action.from_dict(data) == action
    assert all(not isinstance(value, tuple) for value in data.values())  # JSON-ready


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="swipe"):
        Action(kind="swipe")
