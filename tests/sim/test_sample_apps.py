"""The sample apps: every activity reachable by clicking (and long-pressing, list items too) from `start`;
the bugs seeded in them (apps/README.md) are there, and notes-fixed.json is notes without its crashes."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.appium import sample_app
from tests.sim.helpers import (
    NOTES, RECIPES, SETTINGS, SHOP, SYSTEM, bounds_of, by_id, dialog_title, logcat, login, reachable_screens, source_tree,
    tagged, wait_for,
)


@pytest.mark.parametrize(("name", "min_activities"),
                         [("notes", 8), ("notes-fixed", 8), ("settings", 12), ("shop", 10), ("shop-v2", 10), ("recipes", 15),
                          ("snap", 8), ("news", 6)])
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


def load(name):
    return json.loads(open(sample_app(name)).read())


def rules(model):
    """Every rule of every element and list item: (screen name, element id, rule)."""
    for name, screen in model["screens"].items():
        elements = screen.get("elements", [])
        for el in elements + [item for parent in elements for item in parent.get("items", [])]:
            for rule in el.get("onClick", []) + el.get("onLongClick", []):
                yield name, el.get("id"), rule


def exception_of(d):
    """The exception line of the app's FATAL EXCEPTION block in what logcat gave since the last read."""
    lines = tagged(logcat(d), "AndroidRuntime")
    return lines[lines.index("FATAL EXCEPTION: main") + 2]


def shape(model):
    """Each screen's activity and element ids."""
    return {n: (s["activity"], [e.get("id") for e in s.get("elements", [])]) for n, s in model["screens"].items()}


def test_notes_fixed_has_the_screens_of_notes_and_no_crash_or_anr():
    notes, fixed = load("notes"), load("notes-fixed")
    assert fixed["package"] == notes["package"] and fixed["start"] == notes["start"]
    assert shape(fixed) == shape(notes)
    assert [r for r in rules(fixed) if "crash" in r[2] or "anr" in r[2]] == []
    assert {(s, e) for s, e, r in rules(notes) if "crash" in r} == {("home", "sync"), ("editor", "save")}
    assert not any("crash" in r and r["crash"] is True for _, _, r in rules(notes))  # realistic rules only


def save_a_note_with_a_reminder(d):
    login(d)
    by_id(d, "new_note").click()
    by_id(d, "editor_title").send_keys("Dentist")
    by_id(d, "reminder").send_keys("18:30")
    by_id(d, "save").click()


def test_the_notes_form_crashes_when_saved_with_a_reminder(driver_for):
    d = driver_for("notes")
    login(d)
    by_id(d, "new_note").click()
    by_id(d, "editor_title").send_keys("Milk")
    by_id(d, "save").click()  # without a reminder it saves
    assert d.current_activity == ".HomeActivity"
    d2 = driver_for("notes")
    save_a_note_with_a_reminder(d2)
    assert dialog_title(d2) == "Notes keeps stopping"
    assert exception_of(d2) == "java.lang.IllegalStateException: Reminder scheduled before the notification channel was created"


def test_notes_sync_crashes_with_a_null_pointer(driver_for):
    d = driver_for("notes")
    login(d)
    by_id(d, "sync").click()
    assert exception_of(d).startswith("java.lang.NullPointerException: Attempt to invoke virtual method")


def test_notes_fixed_does_the_same_without_crashing(driver_for):
    d = driver_for("notes-fixed")
    save_a_note_with_a_reminder(d)
    assert (d.current_package, d.current_activity) == (NOTES, ".HomeActivity")
    by_id(d, "sync").click()
    assert (d.current_package, d.current_activity) == (NOTES, ".HomeActivity")
    assert not any("FATAL EXCEPTION" in line for line in logcat(d))


def test_settings_bug_report_crashes_and_clear_cache_hangs_two_seconds(driver_for):
    d = driver_for("settings")
    by_id(d, "system").click()
    by_id(d, "developer").click()
    by_id(d, "bug_report").click()
    assert exception_of(d) == "java.lang.IllegalArgumentException: Unknown bug report mode: 3"
    d.activate_app(SETTINGS)
    by_id(d, "apps").click()
    by_id(d, "app_maps").click()
    by_id(d, "clear_cache").click()
    assert dialog_title(d) is None  # frozen first
    assert wait_for(lambda: dialog_title(d), timeout=10) == "Settings isn't responding"
    assert f"ANR in {SETTINGS} ({SETTINGS}/.applications.AppInfoActivity)" in tagged(logcat(d), "ActivityManager")
    by_id(d, "aerr_wait").click()
    assert d.current_activity == ".applications.AppInfoActivity"


def test_recipes_next_step_crashes_only_sometimes(driver_for):
    d = driver_for("recipes")
    crashed = []
    for _ in range(12):
        by_id(d, "all_recipes").click()
        d.find_elements("id", "recipe")[0].click()
        by_id(d, "start_cooking").click()
        by_id(d, "next_step").click()
        crashed.append(d.current_package == SYSTEM)
        if crashed[-1]:
            assert exception_of(d) == "java.lang.IllegalStateException: Timer already cancelled."
        else:
            assert by_id(d, "step").text == "Step 2: cook it"
        d.terminate_app(RECIPES)
        d.activate_app(RECIPES)
    assert 0 < sum(crashed) < len(crashed)


def node_of(d, rid):
    return source_tree(d).find(f".//*[@resource-id='{rid}']")


def test_unlabelled_icon_buttons_and_tiny_touch_targets(driver_for):
    d = driver_for("shop")
    scan = node_of(d, f"{SHOP}:id/scan")
    assert (scan.get("class"), scan.get("clickable"), scan.get("text"), scan.get("content-desc")) == (
        "android.widget.ImageButton", "true", "", "")
    small = {"shop": node_of(d, f"{SHOP}:id/dismiss_banner")}
    d = driver_for("notes")
    login(d)
    by_id(d, "note_1").click()
    delete = node_of(d, f"{NOTES}:id/delete")
    assert (delete.get("class"), delete.get("text"), delete.get("content-desc")) == ("android.widget.ImageButton", "", "")
    d = driver_for("settings", appActivity=".wifi.WifiSettingsActivity")
    small["settings"] = node_of(d, f"{SETTINGS}:id/scan_qr")
    d = driver_for("recipes")
    by_id(d, "all_recipes").click()
    d.find_elements("id", "recipe")[0].click()
    small["recipes"] = node_of(d, f"{RECIPES}:id/favourite")
    for app, node in small.items():
        x1, y1, x2, y2 = bounds_of(node.get("bounds"))
        assert node.get("clickable") == "true" and (y2 - y1) * 160 / 420 < 48 and (x2 - x1) * 160 / 420 < 48, app
