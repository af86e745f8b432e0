"""UI drift between two runs' screen graphs: pure logic, no database."""

from __future__ import annotations

import random

from domain.graph_diff import diff_graphs

HOME = ["Button#cart \"Cart\"", "Button#search \"Search\"", "TextView#title"]
CART = ["Button#checkout \"Checkout\"", "TextView#total"]
ACCOUNT = ["TextView#orders \"Your orders\"", "TextView#wishlist \"Wishlist\""]


def screen(sid: str, activity: str, elements: list[str]) -> dict:
    return {"screenId": sid, "activity": activity, "elements": elements, "visits": 1, "firstSeenStep": 1}


def move(a: str, action: str, b: str, label: str = "") -> dict:
    return {"fromScreen": a, "actionId": action, "toScreen": b, "actionKind": action.split(":")[0],
            "actionLabel": label or action, "firstSeenStep": 1}


def graph(run: str, screens: list[dict], transitions: list[dict]) -> dict:
    return {"runId": run, "screens": screens, "transitions": transitions}


def base() -> dict:
    return graph("A", [screen("h1", ".Home", HOME), screen("c1", ".Cart", CART), screen("a1", ".Account", ACCOUNT),
                       screen("w1", ".Wishlist", ["TextView#wish (list item)"])],
                 [move("h1", "tap:id/cart", "c1"), move("c1", "back", "h1"), move("h1", "tap:id/account", "a1"),
                  move("a1", "tap:id/wishlist", "w1"), move("w1", "back", "a1"), move("a1", "back", "h1")])


def test_the_same_graph_has_no_drift():
    drift = diff_graphs(base(), {**base(), "runId": "B"})
    assert (drift["base"], drift["head"]) == ("A", "B")
    assert all(drift[key] == [] for key in drift if key not in ("base", "head"))


def test_a_new_button_makes_a_changed_screen_not_one_removed_and_one_added():
    head = base()
    head["screens"][0] = screen("h2", ".Home", [*HOME, "Button#deals \"Deals\""])  # another structure, another id
    head["transitions"] = [{**t, "fromScreen": "h2" if t["fromScreen"] == "h1" else t["fromScreen"],
                            "toScreen": "h2" if t["toScreen"] == "h1" else t["toScreen"]} for t in head["transitions"]]
    drift = diff_graphs(base(), head)
    assert drift["screensAdded"] == drift["screensRemoved"] == []
    assert drift["screensChanged"] == [{"baseScreenId": "h1", "headScreenId": "h2", "activity": ".Home",
                                        "elementsAdded": ["Button#deals \"Deals\""], "elementsRemoved": []}]
    assert drift["transitionsAdded"] == drift["transitionsRemoved"] == []  # the same moves, through the match


def test_a_renamed_button_on_the_same_screen_is_an_element_removed_and_one_added():
    head = base()
    head["screens"][1] = screen("c1", ".Cart", ["Button#checkout \"Proceed to checkout\"", "TextView#total"])
    (changed,) = diff_graphs(base(), head)["screensChanged"]
    assert changed["elementsAdded"] == ["Button#checkout \"Proceed to checkout\""]
    assert changed["elementsRemoved"] == ["Button#checkout \"Checkout\""]


def test_an_activity_added_and_one_removed_with_their_transitions():
    head = base()
    head["screens"][2] = screen("a2", ".Account", ["TextView#gifts \"Gift cards\"", "TextView#orders \"Your orders\""])
    head["screens"][3] = screen("g1", ".GiftCards", ["TextView#balance"])
    head["transitions"] = [move("h1", "tap:id/cart", "c1"), move("c1", "back", "h1"), move("h1", "tap:id/account", "a2"),
                           move("a2", "tap:id/gifts", "g1"), move("g1", "back", "a2"), move("a2", "back", "h1")]
    drift = diff_graphs(base(), head)
    assert drift["activitiesAdded"] == [".GiftCards"] and drift["activitiesRemoved"] == [".Wishlist"]
    assert [s["screenId"] for s in drift["screensAdded"]] == ["g1"]
    assert [s["screenId"] for s in drift["screensRemoved"]] == ["w1"]
    assert drift["screensChanged"][0]["elementsAdded"] == ["TextView#gifts \"Gift cards\""]
    assert drift["screensChanged"][0]["elementsRemoved"] == ["TextView#wishlist \"Wishlist\""]
    assert [(t["fromScreen"], t["actionId"], t["toActivity"]) for t in drift["transitionsAdded"]] == [
        ("a2", "tap:id/gifts", ".GiftCards"), ("g1", "back", ".Account")]
    assert [(t["fromActivity"], t["actionId"], t["toScreen"]) for t in drift["transitionsRemoved"]] == [
        (".Account", "tap:id/wishlist", "w1"), (".Wishlist", "back", "a1")]


def test_a_changed_route_is_a_transition_removed_and_one_added():
    head = base()
    head["transitions"][3] = move("a1", "tap:id/wishlist", "h1")
    drift = diff_graphs(base(), head)
    assert [t["toScreen"] for t in drift["transitionsRemoved"]] == ["w1"]
    assert [(t["fromScreen"], t["actionId"], t["toScreen"]) for t in drift["transitionsAdded"]] == [
        ("a1", "tap:id/wishlist", "h1")]


def test_screens_of_one_activity_pair_up_by_what_they_share():
    dialog_a = ["Button#ok \"OK\"", "TextView#question"]
    dialog_b = ["Button#yes \"Yes\"", "Button#no \"No\"", "TextView#warning"]
    old = graph("A", [screen("x1", ".Dialog", dialog_a), screen("y1", ".Dialog", dialog_b)], [])
    new = graph("B", [screen("y2", ".Dialog", [*dialog_b, "CheckBox#again \"Ask again\""]),
                      screen("x2", ".Dialog", [*dialog_a, "TextView#hint"])], [])
    drift = diff_graphs(old, new)
    assert [(c["baseScreenId"], c["headScreenId"]) for c in drift["screensChanged"]] == [("x1", "x2"), ("y1", "y2")]


def test_a_screen_too_different_from_any_other_of_its_activity_is_added():
    old = graph("A", [screen("x1", ".Dialog", ["Button#ok \"OK\""]), screen("y1", ".Dialog", ["Button#no \"No\""])], [])
    new = graph("B", [*old["screens"], screen("z1", ".Dialog", ["EditText#name \"Name\""])], [])
    drift = diff_graphs(old, new)
    assert [s["screenId"] for s in drift["screensAdded"]] == ["z1"] and drift["screensChanged"] == []


def test_the_answer_does_not_depend_on_the_order_of_rows():
    head = base()
    head["screens"][0] = screen("h2", ".Home", [*HOME, "Button#deals \"Deals\""])
    head["transitions"].append(move("h2", "tap:id/deals", "c1"))
    expected = diff_graphs(base(), head)
    rng = random.Random(3)
    for _ in range(5):
        shuffled_base, shuffled_head = base(), {**head, "screens": list(head["screens"]),
                                                "transitions": list(head["transitions"])}
        for g in (shuffled_base, shuffled_head):
            rng.shuffle(g["screens"])
            rng.shuffle(g["transitions"])
        assert diff_graphs(shuffled_base, shuffled_head) == expected


def test_the_picture_is_well_formed_svg_naming_each_change_with_app_text_escaped():
    import xml.etree.ElementTree as ET

    from api.diff_svg import render_diff_svg

    head = base()
    head["screens"][2] = screen("a2", ".Account", ["TextView#gifts \"Gift <cards> & more\"", *ACCOUNT[:1]])
    head["screens"][3] = screen("g1", ".GiftCards", ["TextView#balance"])
    head["transitions"][3] = move("a2", "tap:id/gifts", "g1", label='tap "Gift <cards>"')
    root = ET.fromstring(render_diff_svg(diff_graphs(base(), head)))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert ".GiftCards" in text and ".Wishlist" in text and '+ TextView#gifts "Gift <cards> & more"' in text
    groups = {g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert groups == {"screen-added", "screen-removed", "screen-changed"}
    assert any("--tap \"Gift <cards>\"-->" in (t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text"))
