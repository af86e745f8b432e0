"""Shared helpers for the simulator tests."""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from appium.webdriver.common.appiumby import AppiumBy

NOTES = "com.example.notes"
SETTINGS = "com.example.settings"
SHOP = "com.example.shop"
RECIPES = "com.example.recipes"
SNAP = "com.example.snap"
CHROME = "com.android.chrome"
PERMISSION_CONTROLLER = "com.android.permissioncontroller"
GRANT_ACTIVITY = "com.android.permissioncontroller.permission.ui.GrantPermissionsActivity"
LAUNCHER = "com.android.launcher3"
SYSTEM = "android"  # the package of the crash and ANR dialogs
CRASH_DIALOG = "com.android.server.am.AppErrorDialog"
ANR_DIALOG = "com.android.server.am.AppNotRespondingDialog"
THREADTIME = re.compile(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +(\d+) +(\d+) ([VDIWEF]) (.+?): (.*)$")


def source_tree(driver: Any) -> ElementTree.Element:
    return ElementTree.fromstring(driver.page_source.encode())


def by_id(driver: Any, rid: str) -> Any:
    return driver.find_element(AppiumBy.ID, rid)


def bounds_of(node_bounds: str) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = map(int, re.findall(r"-?\d+", node_bounds))
    return x1, y1, x2, y2


def login(driver: Any, user: str = "alice", password: str = "secret") -> None:
    by_id(driver, "accept").click()
    by_id(driver, "username").send_keys(user)
    by_id(driver, "password").send_keys(password)
    by_id(driver, "sign_in").click()


def write_model(tmp_path: Path, model: dict[str, Any], name: str = "app.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(model))
    return str(path)


def tiny_model(**screens: Any) -> dict[str, Any]:
    """A small valid model; keyword screens override or add screens."""
    base = {
        "package": "com.example.tiny",
        "start": "a",
        "screens": {
            "a": {"activity": ".A", "elements": [
                {"id": "to_b", "class": "android.widget.Button", "text": "To B", "onClick": [{"goto": "b"}]}]},
            "b": {"activity": ".B", "elements": [{"id": "label", "class": "android.widget.TextView", "text": "B"}]},
        },
    }
    base["screens"].update(screens)
    return base


def raw(server: str, driver: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call a session endpoint directly (routes the Python client no longer uses)."""
    import urllib.request

    data = json.dumps(body or {}).encode() if method == "POST" else None
    req = urllib.request.Request(
        f"{server}/session/{driver.session_id}{path}", data=data, method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)["value"]


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until `condition()` is truthy and return it; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)  # the polling interval, not a wait in place of the condition


def dialog_title(driver: Any) -> str | None:
    """The text of a system dialog's android:id/alertTitle, or None when none shows."""
    node = source_tree(driver).find(".//*[@resource-id='android:id/alertTitle']")
    return None if node is None or node.get("package") != SYSTEM else node.get("text")


def logcat(driver: Any) -> list[str]:
    """The logcat lines that came since the last read (the messages of Appium's log entries)."""
    return [entry["message"] for entry in driver.get_log("logcat")]


def tagged(lines: list[str], tag: str) -> list[str]:
    """The messages of the lines with that tag (`E AndroidRuntime: <message>` -> `<message>`)."""
    out = []
    for line in lines:
        m = THREADTIME.match(line)
        if m and m.group(4).strip() == tag:
            out.append(m.group(5))
    return out


def toasts(driver: Any) -> list[str]:
    """The texts of the toasts on screen (a toast lasts until the next action)."""
    return [n.get("text") for n in source_tree(driver).iter("android.widget.Toast")]


def permission_dialog(driver: Any) -> dict[str, Any] | None:
    """The permission controller's dialog on screen: its message and its buttons (short id -> text), or None."""
    tree = source_tree(driver)
    prefix = f"{PERMISSION_CONTROLLER}:id/"
    message = tree.find(f".//*[@resource-id='{prefix}permission_message']")
    if message is None:
        return None
    buttons = {n.get("resource-id")[len(prefix):]: n.get("text") for n in tree.iter("android.widget.Button")
               if n.get("resource-id", "").startswith(prefix)}
    packages = {n.get("package") for n in tree.iter() if n.get("package")}
    return {"message": message.get("text"), "buttons": buttons, "packages": packages}


NEWS = "com.example.news"
PROGRESS_BAR = "android.widget.ProgressBar"


def progress_bars(driver: Any) -> list[str]:
    """The resource-ids of the ProgressBars on screen."""
    return [n.get("resource-id") for n in source_tree(driver).iter(PROGRESS_BAR)]


def until(deadline: float, check: Callable[[], Any] | None = None, interval: float = 0.05) -> None:
    """Poll the local clock until `deadline` (time.monotonic()); `check()` runs on each poll (it may assert)."""
    while time.monotonic() < deadline:
        if check is not None:
            check()
        time.sleep(interval)  # the polling interval while a timer elapses


def windows(driver: Any) -> list[ElementTree.Element]:
    """The page source's windows: the children of <hierarchy>, in document order (the last is on top)."""
    return list(source_tree(driver))


def short_ids(node: ElementTree.Element) -> list[str]:
    """The short resource-ids (after ":id/") of a node's descendants, in document order."""
    return [n.get("resource-id").split("/")[-1] for n in node.iter() if ":id/" in (n.get("resource-id") or "")
            and not n.get("resource-id").startswith("android:")]


def reachable_screens(model: dict) -> set[str]:
    """Screens a user reaches from `start` by clicking and long-pressing (list items and web parts too, not
    disabled or invisible elements), and by the rules that follow: a screen's onShow and after rules, a
    permission request's granted and denied rules."""
    seen, queue = {model["start"]}, deque([model["start"]])
    while queue:
        pending = _rules_of(model["screens"][queue.popleft()])
        while pending:
            rule = pending.pop()
            pending += rule.get("granted", []) + rule.get("denied", [])
            if rule.get("goto") and rule["goto"] not in seen:
                seen.add(rule["goto"])
                queue.append(rule["goto"])
    return seen


def _rules_of(screen: dict) -> list[dict]:
    rules = list(screen.get("onShow", [])) + list(screen.get("after", {}).get("rules", []))
    elements = screen.get("elements", [])
    for el in elements + [item for parent in elements for item in parent.get("items", [])]:
        if el.get("enabled", True) is False or el.get("visible", True) is False:
            continue
        rules += el.get("onClick", []) + el.get("onLongClick", [])
        rules += [rule for part in el.get("web", []) for rule in part.get("onClick", [])]
    return rules
