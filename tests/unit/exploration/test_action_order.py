"""enumerate_actions' taps on uncovered leaf views."""

from domain.exploration import Action, DepthFirstPolicy, enumerate_actions, parse_screen
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, login_page, node, row


def actions_of(source: str) -> tuple[Action, ...]:
    return enumerate_actions(parse_screen(source, activity=".Main", package=PKG))


def ids_of(source: str) -> list[str]:
    return [a.action_id for a in actions_of(source)]


def button(rid: str, y: int, **attrs) -> str:
    return node("android.widget.Button", rid=rid, bounds=row(y), clickable=True, **attrs)


# --- taps on uncovered leaf views ---------------------------------------------------------------------


def test_a_leaf_no_clickable_view_covers_gets_a_tap_after_the_declared_actions():
    source = hierarchy(frame(
        node("android.view.View", rid="canvas_button", bounds=row(100)),  # a custom view: says nothing
        button("ok", 300),
    ))
    actions = actions_of(source)
    assert [(a.action_id, a.declared) for a in actions] == [
        ("tap:id/ok", True), ("tap:id/canvas_button", False), ("back", True)]
    leaf = actions[1]
    assert (leaf.kind, leaf.target, leaf.label) == ("tap", ("id", f"{PKG}:id/canvas_button"), 'tap "canvas_button"')


def test_a_leaf_inside_a_clickable_row_is_not_tapped_on_its_own():
    source = hierarchy(frame(node("android.widget.LinearLayout", rid="row", bounds=row(100), clickable=True,
                                  children=(node("android.widget.TextView", text="Wi-Fi", bounds=(40, 120, 500, 180)),))))
    assert ids_of(source) == ["tap:id/row", "back"]


def test_a_long_clickable_or_checkable_view_covers_a_leaf_but_a_scrollable_one_does_not():
    label = node("android.widget.TextView", rid="label", text="Note", bounds=(40, 120, 500, 180))
    pressed = hierarchy(frame(node("android.widget.FrameLayout", rid="card", bounds=row(100), long_clickable=True,
                                   children=(label,))))
    scrolled = hierarchy(frame(node("android.widget.ScrollView", rid="scroll", bounds=row(100, 500),
                                    scrollable=True, children=(label,))))
    assert ids_of(pressed) == ["long_press:id/card", "back"]
    assert ids_of(scrolled) == ["scroll:id/scroll:down", "tap:id/label", "back"]


def test_containers_disabled_hidden_and_zero_size_leaves_get_no_tap():
    source = hierarchy(frame(
        node("android.widget.TextView", rid="off", text="Off", bounds=row(100), enabled=False),
        node("android.widget.TextView", rid="hidden", text="Hidden", bounds=row(200), displayed=False),
        node("android.widget.ProgressBar", rid="empty_bar", bounds=(0, 300, 0, 340)),
    ))
    assert ids_of(source) == ["back"]  # the frame and its content hold children: no leaves


def test_a_leaf_tap_takes_an_id_no_declared_action_has_and_leaves_theirs_as_they_were():
    with_leaf = hierarchy(frame(
        node("android.widget.Button", text="Next", bounds=row(100), clickable=True),
        node("android.widget.Button", text="Next", bounds=row(300)),  # drawn the same, says not clickable
    ))
    without = hierarchy(frame(node("android.widget.Button", text="Next", bounds=row(100), clickable=True)))
    assert ids_of(with_leaf) == ["tap:Button[Next]", "tap:Button[Next]~1", "back"]
    assert ids_of(without) == ["tap:Button[Next]", "back"]


def test_only_the_first_few_items_of_a_list_are_tapped_as_leaves_too():
    items = tuple(node("android.widget.TextView", rid="cell", text=f"Cell {i}", bounds=row(100 + 100 * i))
                  for i in range(6))
    assert ids_of(hierarchy(frame(*items))) == ["tap:TextView#cell@0", "tap:TextView#cell@1", "tap:TextView#cell@2",
                                               "back"]


def test_a_leaf_tap_says_so_in_its_event_data_and_reads_back():
    leaf = next(a for a in actions_of(login_page()) if not a.declared)
    data = leaf.to_dict()
    assert data["declared"] is False
    assert Action.from_dict(data) == leaf
    assert "declared" not in actions_of(login_page())[0].to_dict()  # declared actions' events stay as they were


def test_the_crawl_takes_leaf_taps_after_the_declared_taps_and_long_presses_and_before_scrolling():
    source = hierarchy(frame(
        node("android.widget.TextView", rid="title", text="Recipes", bounds=row(100)),
        node("android.widget.ListView", rid="list", bounds=row(200, 1000), scrollable=True, children=(
            node("android.widget.TextView", rid="only", text="Soup", bounds=row(200), clickable=True,
                 long_clickable=True),
        )),
    ))
    screen = parse_screen(source, activity=".Main", package=PKG)
    policy, taken = DepthFirstPolicy(seed=0), []
    for _ in range(5):
        action = policy.choose(screen, enumerate_actions(screen))
        taken.append(action.action_id)
        policy.observe(screen, action, screen)  # nothing changes the screen
    assert taken == ["tap:id/only", "long_press:id/only", "tap:id/title", "scroll:id/list:down", "back"]

