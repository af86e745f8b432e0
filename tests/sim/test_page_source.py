"""Page source: UiAutomator2-style XML of the current screen (or the launcher)."""

from __future__ import annotations

from tests.sim.helpers import LAUNCHER, NOTES, bounds_of, by_id, login, source_tree

UIA2_ATTRIBUTES = {
    "index", "package", "class", "text", "resource-id", "content-desc", "hint", "checkable", "checked",
    "clickable", "enabled", "focusable", "focused", "long-clickable", "password", "scrollable", "selected",
    "bounds", "displayed",
}


def test_hierarchy_root_and_nodes_look_like_uiautomator2(driver_for):
    d = driver_for("notes")
    root = source_tree(d)
    assert root.tag == "hierarchy"
    assert (root.get("width"), root.get("height"), root.get("rotation")) == ("1080", "2400", "0")
    nodes = list(root.iter())[1:]
    assert nodes, "no nodes under hierarchy"
    for node in nodes:
        assert UIA2_ATTRIBUTES <= set(node.attrib), node.attrib
        assert node.tag == node.get("class")
        assert node.get("package") == NOTES
    accept = root.find(".//android.widget.Button[@resource-id='com.example.notes:id/accept']")
    assert accept is not None
    assert accept.get("text") == "Accept"
    assert accept.get("clickable") == "true"
    assert accept.get("enabled") == "true"
    assert accept.get("displayed") == "true"


def test_elements_are_drawn_top_to_bottom_inside_the_window(driver_for):
    d = driver_for("notes")
    root = source_tree(d)
    ids = ["title", "body", "accept", "decline"]
    boxes = [bounds_of(root.find(f".//*[@resource-id='com.example.notes:id/{i}']").get("bounds")) for i in ids]
    tops = [b[1] for b in boxes]
    assert tops == sorted(tops)
    for x1, y1, x2, y2 in boxes:
        assert 0 <= x1 < x2 <= 1080 and 0 <= y1 < y2 <= 2400
    for upper, lower in zip(boxes, boxes[1:]):
        assert upper[3] <= lower[1], "elements overlap"


def test_hint_password_and_content_desc(driver_for):
    d = driver_for("notes")
    by_id(d, "accept").click()
    by_id(d, "password").send_keys("secret")
    root = source_tree(d)
    user = root.find(".//*[@resource-id='com.example.notes:id/username']")
    pw = root.find(".//*[@resource-id='com.example.notes:id/password']")
    assert user.get("hint") == "Username" and user.get("text") == ""
    assert pw.get("password") == "true"
    assert pw.get("text") == "\u2022" * 6
    assert "secret" not in d.page_source
    assert by_id(d, "password").text == "secret"
    assert pw.get("focused") == "true" and user.get("focused") == "false"
    by_id(d, "username").send_keys("alice")
    by_id(d, "sign_in").click()
    settings = source_tree(d).find(".//*[@resource-id='com.example.notes:id/settings']")
    assert settings.get("content-desc") == "Settings"
    assert settings.get("class") == "android.widget.ImageButton"


def test_checkable_disabled_and_invisible_elements(driver_for):
    d = driver_for("settings", appActivity=".wifi.WifiAdvancedActivity")
    root = source_tree(d)
    metered = root.find(".//*[@resource-id='com.example.settings:id/metered']")
    assert (metered.get("checkable"), metered.get("checked")) == ("true", "false")
    assert root.find(".//*[@resource-id='com.example.settings:id/hidden_ip']") is None
    assert "IP 10.0.0.2" not in d.page_source
    d2 = driver_for("settings", appActivity=".network.TetherSettingsActivity")
    usb = source_tree(d2).find(".//*[@resource-id='com.example.settings:id/usb_tether']")
    assert usb.get("enabled") == "false"


def test_launcher_is_shown_when_the_app_leaves_the_foreground(driver_for):
    d = driver_for("notes")
    d.press_keycode(3)
    root = source_tree(d)
    packages = {n.get("package") for n in root.iter() if n.get("package")}
    assert packages == {LAUNCHER}
    icon = root.find(".//*[@content-desc='Notes']")
    assert icon is not None and icon.get("clickable") == "true"
    assert d.current_package == LAUNCHER
    icon_el = d.find_element("accessibility id", "Notes")
    icon_el.click()
    assert d.current_package == NOTES


def test_text_templates_use_typed_values(driver_for):
    d = driver_for("notes")
    login(d)
    assert by_id(d, "greeting").text == "Welcome, alice!"
    assert source_tree(d).find(".//*[@text='Welcome, alice!']") is not None


def test_page_source_is_fast(driver_for):
    import time

    d = driver_for("shop")
    d.page_source  # warm-up
    start = time.perf_counter()
    for _ in range(20):
        d.page_source
    per_call_ms = (time.perf_counter() - start) / 20 * 1000
    assert per_call_ms < 50, f"page source took {per_call_ms:.1f} ms"
