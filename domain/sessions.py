"""The Appium capabilities of a run's session: one definition, for the agent's own session
(adapters/appium.py) and for the tests generated from its findings (domain/findings/generated_test.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A run's session outlives a slow step (a model call, an ANR's freeze) without Appium ending it.
NEW_COMMAND_TIMEOUT_SECONDS = 300
# What the run itself decides: a run's extra capabilities never replace them (POST /run refuses them too).
RUN_OWN_CAPABILITIES = frozenset({"platformName", "appium:automationName", "appium:app", "appium:appPackage",
                                  "appium:appActivity"})


def session_capabilities(app: Mapping[str, str], device_caps: Mapping[str, Any],
                         run_caps: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`app` is the run's app config (apkPath, packageName, appActivity); `device_caps` the device
    actor's own (automation name, udid); `run_caps` the run's extra ones (`capabilities` of POST /run),
    added last but never over the run's own."""
    return {
        "platformName": "Android", "appium:app": app["apkPath"],
        "appium:appPackage": app["packageName"], "appium:appActivity": app["appActivity"],
        "appium:newCommandTimeout": NEW_COMMAND_TIMEOUT_SECONDS, **device_caps, **extra_capabilities(run_caps),
    }


def extra_capabilities(run_caps: Mapping[str, Any] | None) -> dict[str, Any]:
    """A run's extra capabilities less the ones the run itself sets."""
    return {key: value for key, value in (run_caps or {}).items() if key not in RUN_OWN_CAPABILITIES}


def device_and_run_capabilities(device_caps: Mapping[str, Any], run_caps: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the agent hands its device opener as the device's capabilities: the device's own, then the run's
    extra ones (`session_capabilities` puts the app's under both)."""
    return {**device_caps, **extra_capabilities(run_caps)}
