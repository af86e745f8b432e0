"""Scrolling lists and long presses: screen identity, the actions they offer, and how the crawl uses them."""

from __future__ import annotations

from domain.exploration import Action, DepthFirstPolicy, enumerate_actions, parse_screen
from domain.exploration.actions import list_group
from domain.exploration.graph import LIST_SAMPLES
from domain.exploration.policy import MAX_SCROLLS
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, node, row

LIST = "androidx.recyclerview.widget.RecyclerView"
ROWS = 5


def list_page(names: list[str], first: int = 0, long_clickable: bool = True) -> str:
    """A RecyclerView showing ROWS items from `first`, as UiAutomator2 dumps it: the others are absent."""
    shown = names[first:first + ROWS]
    items = tuple(
        node("android.widget.TextView", rid="import" if name == "Import" else "recipe", text=name,
             bounds=row(300 + 150 * k, 150), clickable=True, long_clickable=long_clickable and name != "Import")
        for k, name in enumerate(shown))
    return hierarchy(frame(
        node("android.widget.TextView", rid="title", text="Recipes", bounds=row(100)),
        node(LIST, rid="recipes", bounds=(0, 300, 1080, 300 + 150 * ROWS), scrollable=True, children=items),
    ))


def scroll_screen_page(offset: int) -> str:
    """A ScrollView (no id) of 12 buttons, 4 of them shown from `offset`."""
    buttons = tuple(node("android.widget.Button", rid=f"b{i}", text=f"Button {i}", bounds=row(100 + 200 * k),
                         clickable=True) for k, i in enumerate(range(offset, min(offset + 4, 12))))
    return hierarchy(frame(node("android.widget.ScrollView", bounds=(0, 0, 1080, 2400), scrollable=True,
                                children=buttons)))


def parse(source: str, activity: str = ".RecipeList"):
    return parse_screen(source, activity=activity, package=PKG)


NAMES = [f"Recipe {i}" for i in range(20)] + ["Import"]


def test_scrolling_a_list_keeps_the_screen_id():
    ids = {parse(list_page(NAMES, first)).screen_id for first in range(0, len(NAMES) - ROWS + 1, 4)}
    assert len(ids) == 1  # the window with the Import item too: the items' shape dominates


def test_scrolling_a_screen_keeps_the_screen_id_and_marks_what_scrolls():
    screens = [parse(scroll_screen_page(offset), ".Home") for offset in (0, 4, 8)]
    assert len({s.screen_id for s in screens}) == 1
    buttons = [e for e in screens[0].elements if e.class_name.endswith("Button")]
    assert buttons and all(e.scrolled for e in buttons)
    assert len({s.scrolled_content() for s in screens}) == 3


def test_a_scrollable_offers_a_scroll_down_and_long_clickables_a_long_press():
    actions = enumerate_actions(parse(list_page(NAMES)))
    scroll = next(a for a in actions if a.kind == "scroll")
    assert (scroll.action_id, scroll.direction, scroll.target) == ("scroll:id/recipes:down", "down",
                                                                   ("id", f"{PKG}:id/recipes"))
    presses = [a for a in actions if a.kind == "long_press"]
    assert [a.label for a in presses] == [f'long press "Recipe {i}"' for i in range(ROWS)]
    assert Action.from_dict(scroll.to_dict()) == scroll
    assert "direction" not in presses[0].to_dict()  # other actions' events stay as they were


def test_items_of_a_scrolling_list_are_named_by_label_so_revealed_ones_are_new_actions():
    top = {a.action_id for a in enumerate_actions(parse(list_page(NAMES))) if a.declared}
    lower = {a.action_id for a in enumerate_actions(parse(list_page(NAMES, 4))) if a.declared}
    assert "tap:TextView#recipe@[Recipe 0]" in top and "tap:TextView#recipe@[Recipe 7]" in lower
    assert len([a for a in top if a.startswith("tap:")]) == ROWS  # no cap of 3: a window is all there is
    assert "tap:TextView#recipe@[Recipe 4]" in top & lower
    assert list_group("tap:TextView#recipe@[Recipe 7]") == "tap:TextView#recipe"
    assert list_group("tap:LinearLayout#row@2") == "tap:LinearLayout#row"
    assert list_group("tap:id/import") is None


class ListApp:
    """The list screen; recipes open one detail screen, long presses one menu; Import opens its own screen."""

    def __init__(self, names: list[str]) -> None:
        self.names, self.first, self.screen_name = names, 0, "list"

    def page(self):
        if self.screen_name == "list":
            return parse(list_page(self.names, self.first))
        return parse(hierarchy(frame(node("android.widget.TextView", rid=self.screen_name, bounds=row(100)))),
                     f".{self.screen_name.title()}")

    def perform(self, action: Action) -> None:
        if not action.declared:
            return  # the title and the detail screens' labels do nothing, as on a phone
        if action.kind == "back":
            self.screen_name = "list"
        elif action.kind == "scroll":
            self.first = min(self.first + 4, max(0, len(self.names) - ROWS))
        elif action.kind == "long_press":
            self.screen_name = "menu"
        elif action.action_id == "tap:id/import":
            self.screen_name = "import"
        else:
            self.screen_name = "detail"


def crawl(app: ListApp, steps: int = 200, where: list[str] | None = None) -> tuple[list[Action], bool]:
    policy, taken = DepthFirstPolicy(seed=1), []
    for _ in range(steps):
        screen = app.page()
        action = policy.choose(screen, enumerate_actions(screen))
        if action is None:
            return taken, True
        taken.append(action)
        if where is not None:
            where.append(app.screen_name)
        app.perform(action)
        policy.observe(screen, action, app.page())
    return taken, False


def test_the_crawl_scrolls_to_the_end_and_takes_what_it_revealed_before_leaving():
    where: list[str] = []
    taken, stopped = crawl(ListApp(NAMES), where=where)
    ids = [a.action_id for a in taken]
    assert stopped
    assert "tap:id/import" in ids  # only the last window shows it
    leaving = next(i for i, (screen, a) in enumerate(zip(where, ids)) if screen == "list" and a == "back")
    assert ids.index("tap:id/import") < leaving and "scroll:id/recipes:down" not in ids[leaving:]
    recipes = [i for i in ids if i.startswith("tap:TextView#recipe@")]
    presses = [i for i in ids if i.startswith("long_press:")]
    assert len(recipes) == len(presses) == LIST_SAMPLES  # they led to one screen: the rest would too
    scrolls = ids.count("scroll:id/recipes:down")
    assert 4 <= scrolls <= 5  # to the end (16 is the last first item), and one more that shows it is the end


def test_an_endless_list_stops_after_the_scroll_budget():
    taken, stopped = crawl(ListApp([f"Post {i}" for i in range(1000)]))
    assert stopped
    assert [a.action_id for a in taken].count("scroll:id/recipes:down") == MAX_SCROLLS


def test_items_leading_to_different_screens_are_all_tried():
    class Distinct(ListApp):
        def perform(self, action: Action) -> None:
            super().perform(action)
            if self.screen_name == "detail":
                self.screen_name = action.label.split('"')[1].replace(" ", "_").lower()

    taken, stopped = crawl(Distinct(NAMES[:8]))
    assert stopped
    assert {a.label for a in taken if a.kind == "tap" and a.declared} == {f'tap "Recipe {i}"' for i in range(8)}


def test_the_device_saying_a_scroll_reached_the_end_spares_one_more_scroll():
    class Telling(ListApp):
        """Tells the policy, as the agent does with UiAutomator2's answer to scrollGesture."""

        policy: DepthFirstPolicy

        def perform(self, action: Action) -> None:
            screen = self.page()
            super().perform(action)
            if action.kind == "scroll" and self.first >= len(self.names) - ROWS:
                self.policy.reached_end(screen, action)

    app, policy = Telling(NAMES), DepthFirstPolicy(seed=1)
    app.policy, scrolls = policy, 0
    for _ in range(200):
        screen = app.page()
        action = policy.choose(screen, enumerate_actions(screen))
        if action is None:
            break
        scrolls += action.kind == "scroll"
        app.perform(action)
        policy.observe(screen, action, app.page())
    assert scrolls == 4  # 0 -> 4 -> 8 -> 12 -> 16: the end, and no scroll to find that out
