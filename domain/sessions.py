"""The Appium capabilities of a run's session: one definition, for the agent's own session
(adapters/appium.py) and for the tests generated from its findings (domain/findings/generated_test.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A run's session outlives a slow step (a model call, an ANR's freeze) without Appium ending it.
NEW_COMMAND_TIMEOUT_SECONDS = 300


def session_capabilities(app: Mapping[str, str], device_caps: Mapping[str, Any]) -> dict[str, Any]:
    """`app` is the run's app config (apkPath, packageName, appActivity); `device_caps` the device
    actor's own (automation name, udid)."""
    return {
        "platformName": "Android", "appium:app": app["apkPath"],
        "appium:appPackage": app["packageName"], "appium:appActivity": app["appActivity"],
        "appium:newCommandTimeout": NEW_COMMAND_TIMEOUT_SECONDS, **device_caps,
    }
