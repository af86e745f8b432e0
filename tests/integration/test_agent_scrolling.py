"""The agent on an app whose lists are longer than the screen and whose menus open on a long press:
AgentRun on the real Appium simulator and PostgreSQL, as in test_agent.py."""

from __future__ import annotations

import json
from collections import Counter
from xml.etree import ElementTree

from domain.exploration.policy import MAX_SCROLLS
from tests.fixtures.appium import sample_app
from tests.integration.test_agent import assert_one_terminal, h  # noqa: F401 - `h` is the harness fixture

RECIPES = ("com.example.recipes", ".RecipesHomeActivity")


def test_scrolling_and_long_presses_reach_every_activity_and_a_list_stays_one_screen(h):
    finished = h.explore(sample_app("recipes"), RECIPES, max_steps=250)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    model = json.loads(open(sample_app("recipes")).read())
    assert set(finished.discovered().values()) == {s["activity"] for s in model["screens"].values()}

    kinds = Counter(action.split(":")[0] for action in finished.actions())
    assert kinds["scroll"] >= 4 and kinds["long_press"] >= 2
    scrolls = Counter(a for a in finished.actions() if a.startswith("scroll:"))
    assert scrolls["scroll:id/posts:down"] == MAX_SCROLLS  # the feed is longer than the budget
    assert scrolls["scroll:id/recipe_list:down"] < MAX_SCROLLS  # the recipes end, and the agent sees it

    # The recipe list is one screen wherever it was scrolled to; its perceptions show different recipes.
    recipes = finished.screen_of(".RecipeListActivity")
    firsts = set()
    for perceived in finished.named("agent.screen.perceived"):
        if perceived["screenId"] == recipes:
            source = h.artifacts.get(perceived["artifacts"]["pageSource"])[0]
            texts = [n.get("text") for n in ElementTree.fromstring(source).iter()
                     if n.get("resource-id", "").endswith(("/recipe", "/import_recipes"))]
            firsts.add(texts[0])
    assert len(firsts) >= 3

    # What scrolling revealed was taken on that same screen: the last item, only shown at the end.
    imports = [t for t in finished.named("graph.transition.discovered") if t["action"]["action_id"] == "tap:id/import_recipes"]
    assert [t["fromScreen"] for t in imports] == [recipes]


def test_each_perception_carries_the_screens_outline(h):
    finished = h.explore(sample_app("recipes"), RECIPES, max_steps=3)
    first = finished.named("agent.screen.perceived")[0]
    assert 'Button#all_recipes "All recipes"' in first["elements"]
    assert not any("settings" in line for line in first["elements"])  # below the fold at the start
