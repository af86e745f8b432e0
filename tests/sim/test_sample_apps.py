"""The sample apps: every activity reachable by clicking from `start`."""

from __future__ import annotations

import json
from collections import deque

import pytest

from tests.fixtures.appium import sample_app


def reachable_screens(model):
    seen = {model["start"]}
    queue = deque([model["start"]])
    while queue:
        screen = model["screens"][queue.popleft()]
        for el in screen.get("elements", []):
            if el.get("enabled", True) is False or el.get("visible", True) is False:
                continue
            for rule in el.get("onClick", []):
                target = rule.get("goto")
                if target and target not in seen:
                    seen.add(target)
                    queue.append(target)
    return seen


@pytest.mark.parametrize(("name", "min_activities"), [("notes", 8), ("settings", 12), ("shop", 10)])
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
