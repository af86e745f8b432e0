"""The sample apps: every activity reachable by clicking (and long-pressing, list items too) from `start`;
the bugs seeded in them (apps/README.md) are there, and notes-fixed.json is notes without its crashes."""

from __future__ import annotations

import copy
import json

import pytest

from tests.fixtures.appium import sample_app
from tests.sim.helpers import (
    NOTES, RECIPES, SETTINGS, SHOP, SYSTEM, bounds_of, by_id, dialog_title, logcat, login, reachable_screens, source_tree,
    tagged, toasts, wait_for,
)


@pytest.mark.parametrize(("name", "min_activities"),
                         [("notes", 8), ("notes-fixed", 8), ("settings", 12), ("settings-v2", 13), ("shop", 10), ("shop-v2", 10), ("recipes", 15),
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


BATTERY_CRASH = {"exception": "java.lang.SecurityException", "message": "Battery saver needs WRITE_SECURE_SETTINGS",
                 "frames": ["com.example.settings.battery.BatterySaverController.setPowerSaveMode(BatterySaverController.java:112)",
                            "com.example.settings.battery.BatterySaverController.turnOn(BatterySaverController.java:64)",
                            "com.example.settings.battery.BatterySaverActivity.onTurnOnNowClicked(BatterySaverActivity.java:57)"]}


def test_settings_v2_is_settings_with_the_bug_report_fixed_and_a_battery_crash_added():
    """Exactly: the version, one main-screen entry to one new screen (a new activity whose button crashes), the
    bug-report crash replaced by a toast; the clear_cache ANR and everything else as in settings.json."""
    settings, v2 = load("settings"), load("settings-v2")
    assert (settings["versionCode"], settings["versionName"], v2["versionCode"], v2["versionName"]) == (34, "14.0", 35, "15.0")
    battery = v2["screens"]["battery"]
    assert battery["activity"] == ".battery.BatterySaverActivity" and "back" not in battery  # back pops, as its siblings'
    assert battery["activity"] not in {s["activity"] for s in settings["screens"].values()}
    assert all("bounds" not in e for e in battery["elements"])  # laid out at 48 dp or more: no new tiny target
    turn_on = next(e for e in battery["elements"] if e["id"] == "turn_on_now")
    assert (turn_on["class"], turn_on["text"], turn_on["onClick"]) == ("android.widget.Button", "Turn on now",
                                                                     [{"crash": BATTERY_CRASH}])
    expected = copy.deepcopy(settings)
    expected.update(versionCode=35, versionName="15.0")
    main = expected["screens"]["main"]["elements"]
    main.insert([e["id"] for e in main].index("apps") + 1,
                {"id": "battery", "class": "android.widget.TextView", "text": "Battery", "clickable": True,
                 "onClick": [{"goto": "battery"}]})
    expected["screens"]["battery"] = battery
    bug_report = next(e for e in expected["screens"]["developer"]["elements"] if e["id"] == "bug_report")
    bug_report["onClick"] = [{"toast": "Bug report started"}]
    assert v2 == expected
    assert {(s, e) for s, e, r in rules(v2) if "crash" in r} == {("battery", "turn_on_now")}
    assert {(s, e, json.dumps(r)) for s, e, r in rules(v2) if "anr" in r} == {
        (s, e, json.dumps(r)) for s, e, r in rules(settings) if "anr" in r} == {
        ("app_info", "clear_cache", json.dumps({"anr": {"seconds": 2}}))}


def test_settings_v2_bug_report_no_longer_crashes_and_turn_on_now_does(driver_for):
    d = driver_for("settings-v2")
    by_id(d, "system").click()
    by_id(d, "developer").click()
    by_id(d, "bug_report").click()
    assert (d.current_package, d.current_activity) == (SETTINGS, ".system.DevelopmentSettingsActivity")
    assert toasts(d) == ["Bug report started"]
    assert not any("FATAL EXCEPTION" in line for line in logcat(d))
    d.back()
    d.back()
    by_id(d, "battery").click()
    assert d.current_activity == ".battery.BatterySaverActivity"
    targets = [n for n in source_tree(d).iter() if n.get("package") == SETTINGS and n.get("clickable") == "true"]
    assert {n.get("resource-id") for n in targets} == {f"{SETTINGS}:id/adaptive_battery", f"{SETTINGS}:id/turn_on_now"}
    for node in targets:
        x1, y1, x2, y2 = bounds_of(node.get("bounds"))
        assert min(x2 - x1, y2 - y1) >= 126, node.get("resource-id")  # 48 dp at 420 dpi
    d.back()
    assert d.current_activity == ".SettingsActivity"
    by_id(d, "battery").click()
    by_id(d, "turn_on_now").click()
    assert dialog_title(d) == "Settings keeps stopping"
    lines = tagged(logcat(d), "AndroidRuntime")
    at = lines.index("java.lang.SecurityException: Battery saver needs WRITE_SECURE_SETTINGS")
    assert lines[at + 1:at + 4] == [f"\tat {frame}" for frame in BATTERY_CRASH["frames"]]
    d.activate_app(SETTINGS)
    by_id(d, "apps").click()
    by_id(d, "app_maps").click()
    by_id(d, "clear_cache").click()  # the known ANR, as in settings
    assert dialog_title(d) is None
    assert wait_for(lambda: dialog_title(d), timeout=10) == "Settings isn't responding"
    assert f"ANR in {SETTINGS} ({SETTINGS}/.applications.AppInfoActivity)" in tagged(logcat(d), "ActivityManager")


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
    for app in ("settings", "settings-v2"):
        d = driver_for(app, appActivity=".wifi.WifiSettingsActivity")
        small[app] = node_of(d, f"{SETTINGS}:id/scan_qr")
    d = driver_for("recipes")
    by_id(d, "all_recipes").click()
    d.find_elements("id", "recipe")[0].click()
    small["recipes"] = node_of(d, f"{RECIPES}:id/favourite")
    for app, node in small.items():
        x1, y1, x2, y2 = bounds_of(node.get("bounds"))
        assert node.get("clickable") == "true" and (y2 - y1) * 160 / 420 < 48 and (x2 - x1) * 160 / 420 < 48, app
