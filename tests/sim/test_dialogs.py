"""Screens drawn as dialogs (APP_MODEL.md, "Time"): a `dialog` screen is a window over the screen below it,
last in the page source; the screen below takes no touch; back returns to it. The news sample's "rate us"."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import InvalidElementStateException

from tests.sim.helpers import NEWS, bounds_of, by_id, short_ids, tiny_model, toasts, wait_for, windows, write_model

TINY = "com.example.tiny"


def dialog_app(tmp_path):
    """a (a field, "Delete" -> confirm); confirm is a dialog ("Details" -> b, "Cancel" -> back)."""
    model = tiny_model(
        a={"activity": ".A", "elements": [
            {"id": "name", "class": "android.widget.EditText", "editable": True},
            {"id": "delete", "class": "android.widget.Button", "text": "Delete", "onClick": [{"goto": "confirm"}]},
            {"id": "to_b", "class": "android.widget.Button", "text": "To B", "onClick": [{"goto": "b"}]}]},
        confirm={"activity": ".A", "dialog": True, "elements": [
            {"id": "alertTitle", "class": "android.widget.TextView", "text": "Delete the file?"},
            {"id": "details", "class": "android.widget.Button", "text": "Details", "onClick": [{"goto": "b"}]},
            {"id": "cancel", "class": "android.widget.Button", "text": "Cancel", "onClick": [{"back": True}]}]},
    )
    return write_model(tmp_path, model, "dialogs.json")


def test_a_dialog_is_drawn_over_the_screen_below_it(driver_for, tmp_path):
    d = driver_for(dialog_app(tmp_path))
    by_id(d, "name").send_keys("report.pdf")
    by_id(d, "delete").click()
    below, dialog = windows(d)
    assert short_ids(below) == ["name", "delete", "to_b"]
    assert below.get("bounds") == "[0,0][1080,2400]"
    assert short_ids(dialog) == ["alertTitle", "details", "cancel"]  # the dialog's window comes last
    x1, y1, x2, y2 = bounds_of(dialog.get("bounds"))
    assert 0 < x1 and x2 < 1080 and 0 < y1 and y2 < 2400 and abs((y1 + y2) / 2 - 1200) <= 1  # a centred card
    for node in dialog.iter():
        if node.get("resource-id", "").endswith("/cancel"):
            bx1, by1, bx2, by2 = bounds_of(node.get("bounds"))
            assert x1 <= bx1 and bx2 <= x2 and y1 <= by1 and by2 <= y2
    assert by_id(d, "name").text == "report.pdf"  # the screen below is still there, as it was
    assert d.current_activity == ".A"


def test_the_screen_below_takes_no_touch(driver_for, tmp_path):
    d = driver_for(dialog_app(tmp_path))
    by_id(d, "delete").click()
    to_b = by_id(d, "to_b")
    to_b.click()  # under the dialog: nothing
    x1, y1, x2, y2 = bounds_of(to_b.get_attribute("bounds"))
    d.tap([((x1 + x2) // 2, (y1 + y2) // 2)])
    with pytest.raises(InvalidElementStateException):
        by_id(d, "name").send_keys("x")
    assert d.current_activity == ".A" and len(windows(d)) == 2
    by_id(d, "details").click()  # the dialog's own buttons work
    assert d.current_activity == ".B" and len(windows(d)) == 1
    d.back()  # back to the dialog, over its screen
    assert [short_ids(w) for w in windows(d)] == [["name", "delete", "to_b"], ["alertTitle", "details", "cancel"]]


def test_back_from_the_dialog_returns_to_the_screen_below(driver_for, tmp_path):
    d = driver_for(dialog_app(tmp_path))
    by_id(d, "name").send_keys("kept")
    by_id(d, "delete").click()
    d.back()
    assert len(windows(d)) == 1 and by_id(d, "name").text == "kept"
    by_id(d, "delete").click()
    by_id(d, "cancel").click()  # a rule's back, too
    assert len(windows(d)) == 1
    by_id(d, "to_b").click()  # it answers again
    assert d.current_activity == ".B"


def test_news_asks_to_be_rated_on_the_second_launch_only(driver_for):
    d = driver_for("news")
    wait_for(lambda: d.current_activity == ".HomeActivity")
    assert len(windows(d)) == 1
    for launch in (2, 3):
        d.terminate_app(NEWS)
        d.activate_app(NEWS)
        wait_for(lambda: d.current_activity == ".HomeActivity")
        if launch == 2:
            home, rate = windows(d)
            assert "open_feed" in short_ids(home) and short_ids(rate) == ["alertTitle", "message", "button1", "button2"]
            by_id(d, "open_feed").click()  # under the dialog
            assert len(windows(d)) == 2
            by_id(d, "button1").click()
            assert toasts(d) == ["Thanks for rating!"]
        assert [w.get("class") for w in windows(d) if w.get("class") != "android.widget.Toast"] == ["android.widget.FrameLayout"]
        assert d.current_activity == ".HomeActivity"
