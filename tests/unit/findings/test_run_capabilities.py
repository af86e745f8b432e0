"""A run's extra capabilities (DESIGN.md "Time and faults") in the session its findings' test.py opens: from the
run's aggregate (run_facts.run_for_test) to the capabilities the generated file hands Appium-Python-Client."""

from __future__ import annotations

from typing import Any

import pytest
from ulid import ULID

from domain.findings.generated_test import finding_test_script
from domain.findings.run_facts import run_for_test
from domain.run import Run
from domain.sessions import RUN_OWN_CAPABILITIES
from tests.unit.findings.test_generated_test import finding, load

APP = {"apkPath": "/apps/notes.json", "appiumServerUrl": "http://appium.example:4723",
       "packageName": "com.example.notes", "appActivity": ".ConsentActivity"}
DEVICE = {"appium:automationName": "UiAutomator2", "appium:udid": "emulator-5554"}
EXTRA = {"appium:simSeed": 3, "appium:simFaults": {"serverCrashAfter": 150},
         "appium:newCommandTimeout": 900, "appium:udid": "R5CT30"}


def run_with(capabilities: dict[str, Any] | None) -> Run:
    return Run(id=ULID().to_uuid(), app_config=APP, goal=None, max_steps=10, inputs={"password": "s3cret"},
               tenant_id="t", project_id="p", capabilities=capabilities)


def session_of(tmp_path, monkeypatch: pytest.MonkeyPatch, run: Run) -> dict[str, Any]:
    """The capabilities the generated test.py opens its session with (the environment overriding nothing)."""
    for name in ("RUNSERVICE_APPIUM_URL", "RUNSERVICE_APP", "RUNSERVICE_UDID"):
        monkeypatch.delenv(name, raising=False)
    module = load(tmp_path, finding_test_script(finding(), run_for_test(run, DEVICE)), name=f"test_{run.run_id}")
    sessions: list[Any] = []
    monkeypatch.setattr("appium.webdriver.Remote",
                        lambda url, options, client_config: sessions.append((url, options)) or "driver")
    assert module.open_session() == "driver"
    [(url, options)] = sessions
    assert url == APP["appiumServerUrl"]
    return options.to_capabilities()


def test_the_tests_session_has_the_runs_capabilities_over_the_devices_and_the_defaults(tmp_path, monkeypatch):
    caps = session_of(tmp_path, monkeypatch, run_with(EXTRA))

    assert {name: caps[name] for name in EXTRA} == EXTRA  # the run's udid and command timeout, not the device's
    assert caps["appium:automationName"] == "UiAutomator2"
    assert (caps["platformName"].lower(), caps["appium:app"], caps["appium:appPackage"],
            caps["appium:appActivity"]) == ("android", APP["apkPath"], APP["packageName"], APP["appActivity"])
    assert "s3cret" not in repr(caps)


def test_without_capabilities_the_session_is_the_devices(tmp_path, monkeypatch):
    caps = session_of(tmp_path, monkeypatch, run_with(None))

    assert caps["appium:udid"] == "emulator-5554" and caps["appium:newCommandTimeout"] == 300
    assert not [name for name in caps if name.startswith("appium:sim")]


def test_what_the_run_sets_stays_the_runs_whatever_a_stored_run_carries(tmp_path, monkeypatch):
    """The API refuses these names; a run stored with them anyway (another writer, an older API) cannot override
    the app, its package and activity, the platform or the device's driver."""
    carried = {name: "theirs" for name in RUN_OWN_CAPABILITIES} | {"appium:simSeed": 7}

    told = run_for_test(run_with(carried), DEVICE)["capabilities"]
    caps = session_of(tmp_path, monkeypatch, run_with(carried))

    for session in (told, caps):
        assert "theirs" not in {str(session[name]) for name in RUN_OWN_CAPABILITIES}, session
        assert session["appium:simSeed"] == 7 and session["appium:automationName"] == "UiAutomator2"
