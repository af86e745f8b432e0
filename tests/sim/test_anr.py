"""ANRs: the app stops answering (the screen frozen, input lost), then "isn't responding"; Wait or Close app."""

from __future__ import annotations

import time

from tests.sim.helpers import (
    ANR_DIALOG, LAUNCHER, SYSTEM, by_id, dialog_title, logcat, source_tree, tagged, tiny_model, wait_for, write_model,
)

TINY = "com.example.tiny"
FREEZE_S = 3.0  # long enough for the checks made during the freeze, on a busy machine too


def anr_app(tmp_path, seconds):
    """a: "export" hangs the app for `seconds`; "to_b" leads to b; a field to type into."""
    model = tiny_model(a={"activity": ".ExportActivity", "elements": [
        {"id": "name", "class": "android.widget.EditText", "hint": "File name", "editable": True},
        {"id": "export", "class": "android.widget.Button", "text": "Export", "onClick": [{"anr": {"seconds": seconds}}]},
        {"id": "to_b", "class": "android.widget.Button", "text": "To B", "onClick": [{"goto": "b"}]},
    ]}, b={"activity": ".B", "elements": [{"id": "label", "class": "android.widget.TextView", "text": "B"}]})
    model["label"] = "Exporter"
    return write_model(tmp_path, model, f"anr-{seconds}.json")


def test_the_app_freezes_then_the_system_says_it_is_not_responding(driver_for, tmp_path):
    d = driver_for(anr_app(tmp_path, FREEZE_S))
    by_id(d, "name").send_keys("report")
    logcat(d)
    clicked = time.monotonic()
    by_id(d, "export").click()
    frozen = d.page_source
    by_id(d, "to_b").click()  # input does nothing while the app hangs
    by_id(d, "name").send_keys("other")
    d.back()
    d.press_keycode(3)
    d.tap([(540, 1200)])
    d.activate_app(TINY)  # it is in front already, and does not answer
    assert d.page_source == frozen
    assert (d.current_package, d.current_activity) == (TINY, ".ExportActivity")
    assert by_id(d, "name").text == "report"
    assert time.monotonic() - clicked < FREEZE_S, "the checks above ran after the freeze: the machine was too slow"
    title = wait_for(lambda: dialog_title(d))
    assert time.monotonic() - clicked >= FREEZE_S
    assert title == "Exporter isn't responding"
    root = source_tree(d)
    assert {n.get("package") for n in root.iter() if n.get("package") is not None} == {SYSTEM}
    buttons = {n.get("resource-id"): n.get("text") for n in root.iter("android.widget.Button")}
    assert buttons == {"android:id/aerr_close": "Close app", "android:id/aerr_wait": "Wait"}
    assert (d.current_package, d.current_activity) == (SYSTEM, ANR_DIALOG)
    lines = logcat(d)
    manager = tagged(lines, "ActivityManager")
    assert f"ANR in {TINY} ({TINY}/.ExportActivity)" in manager
    assert manager[manager.index(f"ANR in {TINY} ({TINY}/.ExportActivity)") + 2] == "Reason: Input dispatching timed out"
    assert not any("FATAL EXCEPTION" in line for line in lines)


def test_wait_lets_the_app_go_on_where_it_was(driver_for, tmp_path):
    d = driver_for(anr_app(tmp_path, 0.5))
    by_id(d, "name").send_keys("report")
    by_id(d, "export").click()
    wait_for(lambda: dialog_title(d))
    by_id(d, "aerr_wait").click()
    assert dialog_title(d) is None
    assert (d.current_package, d.current_activity) == (TINY, ".ExportActivity")
    assert by_id(d, "name").text == "report"
    assert d.query_app_state(TINY) == 4
    by_id(d, "to_b").click()  # it answers again
    assert d.current_activity == ".B"


def test_back_on_the_dialog_waits_too(driver_for, tmp_path):
    d = driver_for(anr_app(tmp_path, 0))
    by_id(d, "export").click()
    assert dialog_title(d) == "Exporter isn't responding"  # no freeze at all: the dialog at once
    d.back()
    assert d.current_activity == ".ExportActivity"


def test_close_app_ends_it_as_a_crash_does(driver_for, tmp_path):
    d = driver_for(anr_app(tmp_path, 0.5))
    by_id(d, "name").send_keys("report")
    by_id(d, "export").click()
    wait_for(lambda: dialog_title(d))
    logcat(d)
    by_id(d, "aerr_close").click()
    assert d.current_package == LAUNCHER
    assert d.query_app_state(TINY) == 1
    assert any(m.startswith("Killing ") and m.endswith("user request after error") for m in tagged(logcat(d), "ActivityManager"))
    d.activate_app(TINY)
    assert by_id(d, "name").text == ""  # a fresh start


def test_activating_the_app_over_its_anr_dialog_restarts_it(driver_for, tmp_path):
    d = driver_for(anr_app(tmp_path, 0))
    by_id(d, "to_b").click()
    by_id(d, "label")  # on b
    d.back()
    by_id(d, "export").click()
    assert d.query_app_state(TINY) == 3  # the dialog is in front of it
    d.activate_app(TINY)
    assert dialog_title(d) is None
    assert (d.current_package, d.current_activity) == (TINY, ".ExportActivity")
    assert d.query_app_state(TINY) == 4


def test_terminate_ends_a_hanging_app(driver_for, tmp_path):
    d = driver_for(anr_app(tmp_path, 60))
    by_id(d, "export").click()
    assert d.terminate_app(TINY) is True
    assert d.current_package == LAUNCHER
    d.activate_app(TINY)
    by_id(d, "to_b").click()  # a new process answers
    assert d.current_activity == ".B"
