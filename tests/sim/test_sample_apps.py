"""The sample apps: every activity reachable by clicking (and long-pressing, list items too) from `start`."""

from __future__ import annotations

import json
from collections import deque

import pytest

from tests.fixtures.appium import sample_app
from tests.sim.helpers import by_id, source_tree


def reachable_screens(model):
    seen = {model["start"]}
    queue = deque([model["start"]])
    while queue:
        screen = model["screens"][queue.popleft()]
        elements = screen.get("elements", [])
        for el in elements + [item for el in elements for item in el.get("items", [])]:
            if el.get("enabled", True) is False or el.get("visible", True) is False:
                continue
            for rule in el.get("onClick", []) + el.get("onLongClick", []):
                target = rule.get("goto")
                if target and target not in seen:
                    seen.add(target)
                    queue.append(target)
    return seen


@pytest.mark.parametrize(("name", "min_activities"), [("notes", 8), ("settings", 12), ("shop", 10), ("recipes", 15)])
def test_every_activity_is_reachable_by_clicking(name, min_activities):
    model = json.loads(open(sample_app(name)).read())
    all_activities = {s["activity"] for s in model["screens"].values()}
    reached = {model["screens"][s]["activity"] for s in reachable_screens(model)}
    assert reached == all_activities
    assert len(all_activities) >= min_activities


def test_shop_has_many_pages_sharing_one_layout():
    model = json.loads(open(sample_app("shop")).read())
    products = [s for s in model["screens"].values() if s["activity"] == ".ProductActivity"]
    assert len(products) >= 40
    layouts = {tuple(e["id"] for e in s["elements"]) for s in products}
    assert len(layouts) == 1
    assert len({s["elements"][0]["text"] for s in products}) == len(products)


def test_driving_the_login_flow_needs_the_credentials(driver_for):
    from tests.sim.helpers import by_id, login

    d = driver_for("notes")
    login(d, "alice", "nope")
    assert d.current_activity == ".LoginActivity"
    by_id(d, "password").send_keys("secret")
    by_id(d, "sign_in").click()
    assert d.current_activity == ".HomeActivity"


def test_recipes_hides_activities_below_the_fold_and_behind_long_presses(driver_for):
    """What an agent that neither scrolls nor long-presses never sees."""
    model = json.loads(open(sample_app("recipes")).read())
    d = driver_for("recipes")
    shown = {n.get("resource-id").split("/")[-1] for n in source_tree(d).iter() if n.get("resource-id")}
    assert {"all_recipes", "shopping"} <= shown and not {"settings", "help", "about", "feed"} & shown
    items = model["screens"]["recipes"]["elements"][1]["items"]
    assert len(items) > 5 and items[-1]["id"] == "import_recipes"  # the way to .ImportActivity is the last item
    by_id(d, "all_recipes").click()
    assert not d.find_elements("id", "import_recipes")
    d.execute_script("mobile: longClickGesture", {"elementId": d.find_elements("id", "recipe")[0].id})
    assert d.current_activity == ".RecipeMenuActivity"
    assert len(model["screens"]["feed"]["elements"][1]["items"]) >= 100  # longer than any scroll budget
