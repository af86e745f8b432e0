"""Runtime permissions: the permission controller's dialog (Android 11 ids and wording), granted / denied rules,
don't ask again, "only this time", `when` on permissions, onShow with launch counts and once, autoGrantPermissions,
and a request for an undeclared permission refused at session creation."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import SessionNotCreatedException

from tests.sim.helpers import (
    GRANT_ACTIVITY, PERMISSION_CONTROLLER, SNAP, by_id, permission_dialog, source_tree, toasts, write_model,
)

CAMERA = "android.permission.CAMERA"
CONTACTS = "android.permission.READ_CONTACTS"
FOREGROUND_BUTTONS = {
    "permission_allow_foreground_only_button": "WHILE USING THE APP",
    "permission_allow_one_time_button": "ONLY THIS TIME",
    "permission_deny_button": "DENY",
}
OTHER_BUTTONS = {"permission_allow_button": "ALLOW", "permission_deny_button": "DENY"}
CAMERA_DENIED = "Camera permission is needed to take photos"


def press(driver, button):
    by_id(driver, f"{PERMISSION_CONTROLLER}:id/{button}").click()


def relaunch(driver, package=SNAP):
    driver.terminate_app(package)
    driver.activate_app(package)


def test_a_request_shows_the_controller_dialog_over_the_app_and_granted_rules_follow(driver_for):
    d = driver_for("snap")
    assert permission_dialog(d) is None
    by_id(d, "shoot").click()
    dialog = permission_dialog(d)
    assert dialog == {"message": "Allow Snap to take pictures and record video?", "buttons": FOREGROUND_BUTTONS,
                      "packages": {PERMISSION_CONTROLLER}}
    assert d.current_package == PERMISSION_CONTROLLER
    assert d.current_activity == GRANT_ACTIVITY
    root = source_tree(d)[0]
    assert (root.get("package"), root.get("bounds")) == (PERMISSION_CONTROLLER, "[0,0][1080,2400]")
    assert not d.find_elements("id", "shoot")  # the app's window is covered
    press(d, "permission_allow_foreground_only_button")
    assert (d.current_package, d.current_activity) == (SNAP, ".CameraActivity")
    d.back()
    by_id(d, "shoot").click()  # granted: no dialog any more
    assert d.current_activity == ".CameraActivity"


def test_deny_then_deny_again_is_dont_ask_again(driver_for):
    d = driver_for("snap")
    by_id(d, "shoot").click()
    press(d, "permission_deny_button")
    assert d.current_activity == ".HomeActivity" and toasts(d) == [CAMERA_DENIED]
    by_id(d, "shoot").click()
    assert permission_dialog(d) is not None  # denied once: asked again
    d.back()  # back answers deny
    assert d.current_package == SNAP and toasts(d) == [CAMERA_DENIED]
    by_id(d, "shoot").click()  # denied twice: denied without a dialog
    assert permission_dialog(d) is None
    assert d.current_package == SNAP and toasts(d) == [CAMERA_DENIED]
    relaunch(d)
    press(d, "permission_deny_button")  # the second launch asks for contacts (snap's onShow)
    by_id(d, "shoot").click()  # for good, not only for this process
    assert permission_dialog(d) is None and toasts(d) == [CAMERA_DENIED]


def test_only_this_time_lasts_until_the_process_ends(driver_for):
    d = driver_for("snap")
    by_id(d, "shoot").click()
    press(d, "permission_allow_one_time_button")
    assert d.current_activity == ".CameraActivity"
    d.back()
    by_id(d, "shoot").click()
    assert d.current_activity == ".CameraActivity"  # same process: still granted
    d.press_keycode(3)
    d.activate_app(SNAP)  # resumed, same process
    d.back()
    by_id(d, "shoot").click()
    assert d.current_activity == ".CameraActivity"
    relaunch(d)
    press(d, "permission_allow_button")  # the second launch asks for contacts (snap's onShow)
    by_id(d, "shoot").click()
    assert permission_dialog(d)["message"] == "Allow Snap to take pictures and record video?"


def perms_model(**extra):
    model = {
        "package": "com.example.perm", "label": "Perm Demo", "start": "a",
        "permissions": [CAMERA, CONTACTS],
        "screens": {
            "a": {"activity": ".A", "elements": [
                {"id": "both", "class": "android.widget.Button", "text": "Both",
                 "onClick": [{"request": [CAMERA, CONTACTS], "granted": [{"goto": "b"}],
                              "denied": [{"set": {"status": "Not all granted"}}]}]},
                {"id": "contacts", "class": "android.widget.Button", "text": "Contacts",
                 "onClick": [{"request": [CONTACTS], "granted": [{"toast": "Contacts ok"}]}]},
                {"id": "check", "class": "android.widget.Button", "text": "Check",
                 "onClick": [{"when": {f"permission:{CONTACTS}": "granted"}, "set": {"status": "contacts granted"}},
                             {"when": {f"permission:{CONTACTS}": "denied"}, "set": {"status": "contacts denied"}}]},
                {"id": "status", "class": "android.widget.TextView", "text": ""},
            ]},
            "b": {"activity": ".B", "elements": [{"id": "done", "class": "android.widget.TextView", "text": "B"}]},
        },
    }
    model.update(extra)
    return model


def test_several_permissions_are_asked_in_order_and_any_denial_gives_the_denied_rules(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, perms_model()))
    by_id(d, "check").click()
    assert by_id(d, "status").text == "contacts denied"
    by_id(d, "both").click()
    assert permission_dialog(d)["message"] == "Allow Perm Demo to take pictures and record video?"
    press(d, "permission_allow_foreground_only_button")
    dialog = permission_dialog(d)  # the next permission's dialog
    assert dialog["message"] == "Allow Perm Demo to access your contacts?" and dialog["buttons"] == OTHER_BUTTONS
    press(d, "permission_deny_button")
    assert d.current_activity == ".A" and by_id(d, "status").text == "Not all granted"
    by_id(d, "both").click()  # camera is granted: only contacts is asked
    assert permission_dialog(d)["message"] == "Allow Perm Demo to access your contacts?"
    press(d, "permission_allow_button")
    assert d.current_activity == ".B"
    d.back()
    by_id(d, "check").click()
    assert by_id(d, "status").text == "contacts granted"
    by_id(d, "contacts").click()  # nothing left to ask: granted rules at once
    assert permission_dialog(d) is None and toasts(d) == ["Contacts ok"]


def test_home_with_the_dialog_up_keeps_it_for_when_the_app_comes_back(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, perms_model()))
    by_id(d, "contacts").click()
    d.press_keycode(3)
    assert d.current_package == "com.android.launcher3"
    d.activate_app("com.example.perm")
    assert permission_dialog(d)["message"] == "Allow Perm Demo to access your contacts?"
    press(d, "permission_allow_button")
    assert toasts(d) == ["Contacts ok"]


def test_on_show_asks_on_the_second_launch_only(driver_for):
    d = driver_for("snap")
    assert permission_dialog(d) is None  # first launch
    relaunch(d)
    dialog = permission_dialog(d)
    assert dialog == {"message": "Allow Snap to access your contacts?", "buttons": OTHER_BUTTONS,
                      "packages": {PERMISSION_CONTROLLER}}
    press(d, "permission_deny_button")
    assert d.current_activity == ".HomeActivity" and toasts(d) == ["Snap works better with your contacts"]
    by_id(d, "gallery").click()
    d.back()  # shown again on launch 2, but the rule is `once`
    assert permission_dialog(d) is None
    relaunch(d)  # launch 3
    assert permission_dialog(d) is None and d.current_activity == ".HomeActivity"


def test_on_show_applies_after_launch_goto_and_back_with_launch_and_once(driver_for, tmp_path):
    model = {
        "package": "com.example.show", "start": "home",
        "screens": {
            "home": {"activity": ".Home",
                     "onShow": [{"when": {"launch": 2}, "once": True, "goto": "rate"}, {"set": {"shown": "home shown"}}],
                     "elements": [{"id": "to_b", "class": "android.widget.Button", "text": "B", "onClick": [{"goto": "b"}]},
                                  {"id": "shown", "class": "android.widget.TextView", "text": "-"}]},
            "b": {"activity": ".B", "onShow": [{"toast": "B shown"}],
                  "elements": [{"id": "label", "class": "android.widget.TextView", "text": "B"}]},
            "rate": {"activity": ".RateUs", "elements": [{"id": "rate", "class": "android.widget.TextView", "text": "Rate us"}]},
        },
    }
    d = driver_for(write_model(tmp_path, model))
    assert d.current_activity == ".Home" and by_id(d, "shown").text == "home shown"  # after launch
    by_id(d, "to_b").click()
    assert d.current_activity == ".B" and toasts(d) == ["B shown"]  # after a goto
    d.back()
    assert by_id(d, "shown").text == "home shown"  # after back
    relaunch(d, "com.example.show")
    assert d.current_activity == ".RateUs"  # the second launch
    d.back()
    assert d.current_activity == ".Home"  # shown again on launch 2: the once rule is spent
    relaunch(d, "com.example.show")
    assert d.current_activity == ".Home"


def test_auto_grant_permissions_grants_every_declared_permission(driver_for):
    d = driver_for("snap", autoGrantPermissions=True)
    by_id(d, "shoot").click()
    assert permission_dialog(d) is None and d.current_activity == ".CameraActivity"
    relaunch(d)  # launch 2 asks for contacts, already granted
    assert permission_dialog(d) is None and toasts(d) == ["Friends found from your contacts"]


def test_a_request_for_an_undeclared_permission_is_refused(driver_for, tmp_path):
    model = perms_model(permissions=[CAMERA])
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(write_model(tmp_path, model))
    msg = str(err.value)
    assert "screens.a.elements[0].onClick[0].request[1]" in msg
    assert f'permission "{CONTACTS}" is not declared in the model\'s permissions' in msg
