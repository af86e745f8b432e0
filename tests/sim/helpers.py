"""Shared helpers for the simulator tests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from appium.webdriver.common.appiumby import AppiumBy

NOTES = "com.example.notes"
SETTINGS = "com.example.settings"
SHOP = "com.example.shop"
LAUNCHER = "com.android.launcher3"


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
