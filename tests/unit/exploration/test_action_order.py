"""The order enumerate_actions offers a screen's actions in, and its taps on uncovered leaf views."""

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


def test_the_crawl_takes_leaf_taps_after_the_declared_actions_and_scrolling_and_before_back():
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
    assert taken == ["tap:id/only", "long_press:id/only", "scroll:id/list:down", "tap:id/title", "back"]


# --- the order: new screens first ---------------------------------------------------------------------


def tasks_page() -> str:
    """A toolbar with an up button, a long list of tasks (one shape, two of them told apart by layout), tabs."""
    def task(i: int, y: int, extra: tuple[str, ...] = ()) -> str:
        return node("android.widget.FrameLayout", bounds=row(y, 150), children=(
            node("android.widget.Button", rid="plus", desc="Positive", bounds=(0, y, 130, y + 150), clickable=True),
            node("android.widget.TextView", rid="task_title", text=f"Task {i}", bounds=(180, y, 900, y + 150),
                 clickable=True),
            *extra,
        ))
    def minus(y: int) -> str:
        return node("android.widget.Button", rid="minus", desc="Negative", bounds=(940, y, 1080, y + 150),
                    clickable=True)
    return hierarchy(frame(
        node("android.view.ViewGroup", rid="toolbar", bounds=row(0, 150), children=(
            node("android.widget.ImageButton", desc="Navigate up", bounds=(0, 0, 150, 150), clickable=True),
            node("android.widget.TextView", rid="action_search", desc="Search", bounds=(900, 0, 1080, 150),
                 clickable=True),
        )),
        node("androidx.recyclerview.widget.RecyclerView", rid="tasks", bounds=row(150, 1500), scrollable=True,
             children=(task(0, 150), task(1, 300, (minus(300),)), task(2, 450), task(3, 600, (minus(600),)))),
        node("android.widget.LinearLayout", rid="tabs", bounds=row(1700, 150), children=(
            node("android.widget.TextView", rid="tab_habits", text="Habits", bounds=(0, 1700, 540, 1850),
                 clickable=True),
            node("android.widget.TextView", rid="tab_todos", text="To-dos", bounds=(540, 1700, 1080, 1850),
                 clickable=True),
        )),
    ))


def test_fixed_parts_come_first_then_one_view_of_each_shape_of_the_list_then_the_rest():
    taps = [a.action_id for a in actions_of(tasks_page()) if a.kind == "tap"]
    assert taps == [
        "tap:ImageButton[Navigate up]", "tap:id/action_search", "tap:id/tab_habits", "tap:id/tab_todos",  # toolbar, tabs
        "tap:Button#plus@[Positive]", "tap:TextView#task_title@[Task 0]",  # the first task
        "tap:Button#minus@[Negative]",  # the first of a shape only some tasks have
        "tap:Button#plus@[Positive]~1", "tap:TextView#task_title@[Task 1]",  # the rest, top to bottom
        "tap:Button#plus@[Positive]~2", "tap:TextView#task_title@[Task 2]",
        "tap:Button#plus@[Positive]~3", "tap:TextView#task_title@[Task 3]", "tap:Button#minus@[Negative]~1",
    ]


def test_a_screen_without_a_scrolling_view_keeps_top_to_bottom():
    source = hierarchy(frame(button("c", 900), button("b", 500), button("a", 100)))
    assert ids_of(source) == ["tap:id/a", "tap:id/b", "tap:id/c", "back"]


def test_buttons_without_ids_in_a_scrolling_form_are_different_shapes():
    def alone(y: int, text: str = "", rid: str = "") -> str:  # each in its own row: not a list of buttons
        return node("android.widget.LinearLayout", bounds=row(y), children=(
            node("android.widget.Button", rid=rid, text=text, bounds=row(y), clickable=True),))
    source = hierarchy(frame(node("android.widget.ScrollView", rid="form", bounds=row(0, 2000), scrollable=True,
                                  children=(node("android.widget.LinearLayout", bounds=row(0, 2000), children=(
                                      alone(100, rid="plus"), alone(200, "Cancel"), alone(300, rid="plus"),
                                      node("android.widget.TextView", text="or", bounds=row(400)),
                                      alone(500, "Save"))),))))
    screen = parse_screen(source, activity=".Main", package=PKG)
    assert all(not e.repeat for e in screen.elements)
    assert ids_of(source) == ["scroll:id/form:down", "tap:Button#plus[plus]", "tap:Button[Cancel]", "tap:Button[Save]",
                              "tap:Button#plus[plus]~1", "tap:TextView[or]", "back"]

