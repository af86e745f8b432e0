"""Session creation: capabilities, model loading and the errors for bad input."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import SessionNotCreatedException

from tests.fixtures.appium import sample_app
from tests.sim.helpers import LAUNCHER, NOTES, by_id, source_tree, tiny_model, write_model


def test_session_starts_app_on_start_screen_like_uiautomator2(driver_for):
    d = driver_for("notes")
    assert d.current_package == NOTES
    assert d.current_activity == ".ConsentActivity"
    assert d.query_app_state(NOTES) == 4
    assert d.capabilities["platformName"].lower() == "android"
    assert d.capabilities["automationName"] == "Simulator"


def test_app_activity_can_be_given_in_full_form(driver_for):
    d = driver_for("notes", appActivity="com.example.notes.ConsentActivity")
    assert d.current_activity == ".ConsentActivity"


def test_app_activity_of_another_screen_launches_that_screen(driver_for):
    d = driver_for("notes", appActivity=".AboutActivity")
    assert d.current_activity == ".AboutActivity"
    assert by_id(d, "version").text == "Version 1.4.0"


def test_unknown_activity_is_refused(driver_for):
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for("notes", appActivity=".NoSuchActivity")
    assert "Cannot start activity '.NoSuchActivity'" in err.value.msg
    assert ".ConsentActivity" in err.value.msg


def test_app_package_mismatch_is_refused(driver_for):
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for("notes", appPackage="com.example.other")
    assert "appPackage 'com.example.other' does not match the package 'com.example.notes'" in err.value.msg


def test_missing_app_capability_is_refused(driver_for):
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for("notes", app=None)
    assert "'appium:app' capability is required" in err.value.msg


def test_missing_model_file_is_refused(driver_for, tmp_path):
    missing = str(tmp_path / "nope.json")
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(missing)
    assert f"App model file not found: {missing}" in err.value.msg


def test_broken_json_is_refused(driver_for, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"package": "com.x.y", ')
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(str(path))
    assert "is not valid JSON" in err.value.msg


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda m: m.update(start="nowhere"), 'start: unknown screen "nowhere"'),
        (lambda m: m.update(package="not a package"), "package: \"not a package\" is not a Java package name"),
        (lambda m: m["screens"]["a"]["elements"][0]["onClick"][0].update(goto="c"),
         'screens.a.elements[0].onClick[0].goto: unknown screen "c"'),
        (lambda m: m["screens"]["b"].pop("activity"), "screens.b.activity: must be a string"),
        (lambda m: m["screens"]["b"]["elements"][0].update(bounds="[0,0][x,10]"), "screens.b.elements[0].bounds"),
        (lambda m: m["screens"]["b"]["elements"][0].update(enabled="yes"), "screens.b.elements[0].enabled: must be true or false"),
        (lambda m: m["screens"]["a"].update(elements={"not": "a list"}), "screens.a.elements: must be a list"),
        (lambda m: m.update(screens={}), "screens: must be a non-empty object"),
    ],
    ids=["start", "package", "goto", "activity", "bounds", "enabled", "elements", "screens"],
)
def test_invalid_model_is_refused_naming_the_problem(driver_for, tmp_path, mutate, expected):
    model = tiny_model()
    mutate(model)
    path = write_model(tmp_path, model)
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(path, appPackage=None, appActivity=None)
    assert f"App model {path} is invalid" in err.value.msg
    assert expected in err.value.msg


def test_unknown_keys_are_ignored(driver_for, tmp_path):
    model = tiny_model()
    model["theme"] = {"primary": "#fff"}
    model["screens"]["a"]["transition"] = "fade"
    model["screens"]["a"]["elements"][0]["analyticsTag"] = "btn"
    model["screens"]["a"]["elements"][0]["onClick"][0]["vibrate"] = True
    d = driver_for(write_model(tmp_path, model))
    by_id(d, "to_b").click()
    assert d.current_activity == ".B"


def test_sim_installed_false_starts_without_the_app(driver_for):
    d = driver_for("notes", simInstalled=False)
    assert d.query_app_state(NOTES) == 0
    assert not d.is_app_installed(NOTES)
    assert d.current_package == LAUNCHER
    d.install_app(sample_app("notes"))
    assert d.query_app_state(NOTES) == 1


def test_auto_launch_false_installs_but_does_not_launch(driver_for):
    d = driver_for("notes", autoLaunch=False)
    assert d.query_app_state(NOTES) == 1
    assert source_tree(d).find(".//*[@package='com.android.launcher3']") is not None
    d.activate_app(NOTES)
    assert d.current_activity == ".ConsentActivity"


def test_every_sample_app_loads(driver_for):
    for name, pkg in [("notes", NOTES), ("notes-fixed", NOTES), ("settings", "com.example.settings"),
                      ("settings-v2", "com.example.settings"), ("shop", "com.example.shop"), ("shop-v2", "com.example.shop"), ("recipes", "com.example.recipes")]:
        d = driver_for(name)
        assert d.current_package == pkg
        assert d.query_app_state(pkg) == 4
