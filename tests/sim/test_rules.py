"""The rules of the app-model format: when/goto/set/back/toast/crash, back stack, templates, checkable."""

from __future__ import annotations

from tests.sim.helpers import LAUNCHER, NOTES, SETTINGS, by_id, login, source_tree, tiny_model, write_model


def toast_texts(d):
    return [n.get("text") for n in source_tree(d).iter("android.widget.Toast")]


def test_when_matches_typed_values_else_falls_through_to_set(driver_for):
    d = driver_for("notes")
    by_id(d, "accept").click()
    by_id(d, "username").send_keys("alice")
    by_id(d, "password").send_keys("wrong")
    by_id(d, "sign_in").click()
    assert d.current_activity == ".LoginActivity"
    assert by_id(d, "error").text == "Invalid username or password"
    by_id(d, "password").send_keys("secret")
    by_id(d, "sign_in").click()
    assert d.current_activity == ".HomeActivity"


def test_when_on_checked_state_and_toast(driver_for):
    d = driver_for("settings", appActivity=".network.NetworkDashboardActivity")
    airplane = by_id(d, "airplane")
    airplane.click()
    assert airplane.get_attribute("checked") == "true"
    assert toast_texts(d) == ["Airplane mode on"]
    airplane.click()
    assert airplane.get_attribute("checked") == "false"
    assert toast_texts(d) == ["Airplane mode off"]
    by_id(d, "hotspot").click()
    assert toast_texts(d) == []  # a toast lasts until the next action


def test_checkable_toggles_and_keeps_state_while_app_runs(driver_for):
    d = driver_for("notes")
    login(d)
    by_id(d, "settings").click()
    dark = by_id(d, "dark_mode")
    assert dark.get_attribute("checked") == "false" and not dark.is_selected()
    dark.click()
    assert dark.get_attribute("checked") == "true" and dark.is_selected()
    assert by_id(d, "sync_wifi").get_attribute("checked") == "true"  # "checked": true in the model
    d.back()
    by_id(d, "settings").click()
    assert by_id(d, "dark_mode").get_attribute("checked") == "true"


def test_goto_pushes_and_back_pops_the_stack(driver_for):
    d = driver_for("settings")
    by_id(d, "system").click()
    by_id(d, "about_phone").click()
    assert d.current_activity == ".system.AboutPhoneActivity"
    d.back()
    assert d.current_activity == ".system.SystemDashboardActivity"
    d.back()
    assert d.current_activity == ".SettingsActivity"
    d.back()  # empty stack: the app goes to the background
    assert d.current_package == LAUNCHER
    assert d.query_app_state(SETTINGS) == 3
    d.activate_app(SETTINGS)
    assert d.current_activity == ".SettingsActivity"


def test_back_null_sends_the_app_to_background_and_resume_keeps_the_screen(driver_for):
    d = driver_for("notes")
    by_id(d, "accept").click()
    by_id(d, "username").send_keys("alice")
    d.hide_keyboard()  # typing showed it: the first back would only hide it, as on a phone
    d.back()  # login has "back": null
    assert d.query_app_state(NOTES) == 3
    assert d.current_package == LAUNCHER
    d.activate_app(NOTES)
    assert d.current_activity == ".LoginActivity"
    assert by_id(d, "username").text == "alice"


def test_rule_back_and_toast_and_back_to_named_screen(driver_for):
    d = driver_for("settings")
    by_id(d, "network").click()
    by_id(d, "wifi").click()
    by_id(d, "net_home").click()
    by_id(d, "forget").click()
    assert by_id(d, "alertTitle").text == "Forget HomeNet?"
    by_id(d, "button1").click()
    assert d.current_activity == ".wifi.WifiDetailActivity"
    assert by_id(d, "ssid").text == "HomeNet"
    assert toast_texts(d) == ["Network forgotten"]
    d2 = driver_for("settings", appActivity=".system.SystemDashboardActivity")
    by_id(d2, "reset").click()
    assert by_id(d2, "alertTitle").text == "Erase all data?"
    d2.back()  # "back": "system"
    assert by_id(d2, "about_phone").is_displayed()


def test_typed_text_is_kept_per_screen_visit(driver_for):
    d = driver_for("notes")
    login(d)
    by_id(d, "search").click()
    by_id(d, "query").send_keys("milk")
    by_id(d, "go").click()
    assert by_id(d, "results").text == "Results for milk: none"  # set with a template
    d.hide_keyboard()
    d.back()
    by_id(d, "search").click()  # a new visit starts empty
    assert by_id(d, "query").text == ""
    assert by_id(d, "results").text == "Type to search"


def test_typed_text_survives_a_visit_to_another_screen(driver_for):
    d = driver_for("notes")
    by_id(d, "accept").click()
    by_id(d, "username").send_keys("alice")
    by_id(d, "forgot").click()
    by_id(d, "email").send_keys("a@example.com")
    by_id(d, "send").click()  # toast with a template, then back
    assert toast_texts(d) == ["Reset link sent to a@example.com"]
    assert d.current_activity == ".LoginActivity"
    assert by_id(d, "username").text == "alice"


def test_crash_leaves_foreground_and_next_activation_starts_fresh(driver_for):
    d = driver_for("notes")
    login(d)
    by_id(d, "sync").click()
    assert d.current_package == "android"  # the crash dialog (tests/sim/test_crashes.py)
    by_id(d, "aerr_close").click()
    assert d.current_package == LAUNCHER
    assert d.query_app_state(NOTES) == 1  # the process is gone
    d.activate_app(NOTES)
    assert d.current_activity == ".ConsentActivity"


def test_crash_button_in_deep_settings_tree(driver_for):
    d = driver_for("settings")
    by_id(d, "system").click()
    by_id(d, "developer").click()
    by_id(d, "bug_report").click()
    assert by_id(d, "alertTitle").text == "Settings keeps stopping"
    d.activate_app(SETTINGS)
    assert d.current_activity == ".SettingsActivity"


def test_when_reads_a_field_of_the_screen_as_it_shows_now(driver_for):
    d = driver_for("notes")
    login(d)
    by_id(d, "settings").click()
    by_id(d, "sign_out").click()  # a new visit of the login screen: its fields are empty
    by_id(d, "sign_in").click()
    assert d.current_activity == ".LoginActivity"
    assert by_id(d, "error").text == "Invalid username or password"


def test_set_and_goto_in_one_rule_and_explicit_bounds(driver_for, tmp_path):
    model = tiny_model(
        a={"activity": ".A", "elements": [
            {"id": "go", "class": "android.widget.Button", "text": "Go", "bounds": "[100,200][500,400]",
             "onClick": [{"set": {"label": "Set from A"}, "goto": "b"}]},
            {"id": "plain", "class": "android.widget.TextView", "text": "not clickable",
             "onClick": [{"goto": "b"}], "clickable": False},
        ]},
    )
    d = driver_for(write_model(tmp_path, model))
    go = by_id(d, "go")
    assert go.rect == {"x": 100, "y": 200, "width": 400, "height": 200}
    by_id(d, "plain").click()  # "clickable": false wins over onClick
    assert d.current_activity == ".A"
    go.click()
    assert d.current_activity == ".B"
    assert by_id(d, "label").text == "Set from A"


def test_templates_of_untyped_fields_are_empty_and_unknown_names_stay(driver_for, tmp_path):
    model = tiny_model(
        a={"activity": ".A", "elements": [
            {"id": "name", "class": "android.widget.EditText", "editable": True},
            {"id": "hello", "class": "android.widget.TextView", "text": "Hi {name}, {notAField}"},
        ]},
    )
    d = driver_for(write_model(tmp_path, model))
    assert by_id(d, "hello").text == "Hi , {notAField}"
    by_id(d, "name").send_keys("Ann")
    assert by_id(d, "hello").text == "Hi Ann, {notAField}"


def test_repeated_layout_pages_show_their_own_data(driver_for):
    d = driver_for("shop")
    by_id(d, "cat_audio").click()
    rows = d.find_elements("id", "product_row")
    assert len(rows) == 12
    seen = set()
    for index in (0, 5, 11):
        rows = d.find_elements("id", "product_row")
        expected_name = rows[index].text.split("  ")[0]
        rows[index].click()
        assert d.current_activity == ".ProductActivity"
        assert by_id(d, "product_name").text == expected_name
        seen.add(by_id(d, "product_price").text)
        d.back()
    assert len(seen) == 3
