"""Faults of the device (APP_MODEL.md, "Faults of the device"), asked for with `appium:simFaults`: the
UiAutomator2 server crashing after N commands, slow page sources capped by waitForIdleTimeout (Appium's
settings API), and a server that stops answering (simulator-only, for a client's own timeout)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from appium import webdriver
from appium.options.common import AppiumOptions
from appium.webdriver.client_config import AppiumClientConfig
from selenium.common.exceptions import InvalidArgumentException, SessionNotCreatedException, WebDriverException

from tests.fixtures.appium import simulator_caps
from tests.sim.helpers import NOTES, by_id, login

CRASHED = ("An unknown server-side error occurred while processing the command. "
           "Original error: 'Instrumentation process is not running (probably crashed)'")


def http(server, method, path, body=None, timeout=30):
    """(status, value) of a raw request to the server."""
    data = json.dumps(body or {}).encode() if method == "POST" else None
    req = urllib.request.Request(f"{server}{path}", data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.load(resp)["value"]
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)["value"]


def test_the_server_crashes_after_n_commands_until_a_new_session(driver_for, appium_server):
    d = driver_for("notes", simFaults={"serverCrashAfter": 3})
    by_id(d, "accept").click()  # commands 1 (find) and 2 (click)
    assert d.current_activity == ".LoginActivity"  # 3
    with pytest.raises(WebDriverException) as err:
        d.page_source  # the read is the command
    assert CRASHED in err.value.msg
    status, value = http(appium_server, "GET", f"/session/{d.session_id}/appium/device/current_activity")
    assert (status, value["error"], value["message"]) == (500, "unknown error", CRASHED)
    with pytest.raises(WebDriverException, match="Instrumentation process is not running"):
        by_id(d, "username")
    d.quit()  # deleting the session still works
    fresh = driver_for("notes", simFaults={"serverCrashAfter": 3})
    assert fresh.current_activity == ".ConsentActivity"  # the app starts fresh, with its own count


def test_a_new_session_starts_the_app_fresh_after_the_crash(driver_for):
    d = driver_for("notes", simFaults={"serverCrashAfter": 6})
    by_id(d, "accept").click()  # 6 commands: find + click, find + send keys, find + send keys
    by_id(d, "username").send_keys("alice")
    by_id(d, "password").send_keys("secret")
    with pytest.raises(WebDriverException, match="probably crashed"):
        by_id(d, "sign_in")
    d.quit()
    again = driver_for("notes")
    assert again.current_activity == ".ConsentActivity"
    login(again)  # nothing typed before is there
    assert again.current_activity == ".HomeActivity"
    assert again.query_app_state(NOTES) == 4


def timed_source(d):
    started = time.monotonic()
    d.page_source  # the read is the command
    return time.monotonic() - started


def test_every_nth_page_source_read_is_slow_unless_wait_for_idle_timeout_caps_it(driver_for):
    d = driver_for("notes", simFaults={"slowSource": {"every": 2, "ms": 600}})
    assert d.get_settings()["waitForIdleTimeout"] == 10000  # UiAutomator2's default
    assert timed_source(d) < 0.4
    assert timed_source(d) >= 0.6  # the 2nd read
    assert timed_source(d) < 0.4
    d.update_settings({"waitForIdleTimeout": 150})
    assert d.get_settings()["waitForIdleTimeout"] == 150
    capped = timed_source(d)  # the 4th read: 600 ms capped at 150
    assert 0.15 <= capped < 0.45
    assert timed_source(d) < 0.15
    by_id(d, "accept").click()
    assert d.current_activity == ".LoginActivity"  # other commands are not slow, nor counted as reads


def test_settings_are_checked_and_kept(driver_for):
    d = driver_for("notes")
    d.update_settings({"waitForIdleTimeout": 0, "ignoreUnimportantViews": True})
    settings = d.get_settings()
    assert settings["waitForIdleTimeout"] == 0 and settings["ignoreUnimportantViews"] is True
    with pytest.raises(InvalidArgumentException, match="waitForIdleTimeout"):
        d.update_settings({"waitForIdleTimeout": -1})


def test_a_hung_server_never_answers_until_the_session_is_deleted(driver_for, appium_server):
    options = AppiumOptions()
    options.load_capabilities(simulator_caps("notes", simFaults={"hangAfter": 2}))
    hung = webdriver.Remote(options=options, client_config=AppiumClientConfig(remote_server_addr=appium_server, timeout=2))
    try:
        assert hung.current_activity == ".ConsentActivity"
        assert hung.current_package == NOTES
        started = time.monotonic()
        with pytest.raises(Exception) as err:  # the client's own timeout (urllib3's ReadTimeoutError)
            hung.page_source
        assert time.monotonic() - started >= 2 and "timed out" in str(err.value).lower()
        # a later command hangs too (the server is stuck); other sessions are served meanwhile
        with pytest.raises(Exception, match="(?i)timed out"):
            http(appium_server, "GET", f"/session/{hung.session_id}/appium/device/current_package", timeout=1)
        other = driver_for("notes")
        assert other.current_activity == ".ConsentActivity"
    finally:
        started = time.monotonic()
        status, _ = http(appium_server, "DELETE", f"/session/{hung.session_id}", timeout=10)
        assert status == 200 and time.monotonic() - started < 5
    status, value = http(appium_server, "GET", f"/session/{hung.session_id}/appium/device/current_package")
    assert status == 404 and value["error"] == "invalid session id"


@pytest.mark.parametrize(("faults", "message"), [
    ({"serverCrash": 3}, 'appium:simFaults has an unknown fault "serverCrash" (faults: serverCrashAfter, slowSource, hangAfter)'),
    ({"serverCrashAfter": 0}, "appium:simFaults.serverCrashAfter must be a positive whole number of commands, got 0"),
    ({"serverCrashAfter": 2.5}, "appium:simFaults.serverCrashAfter must be a positive whole number"),
    ({"hangAfter": -1}, "appium:simFaults.hangAfter must be a positive whole number of commands, got -1"),
    ({"slowSource": {"every": 0, "ms": 100}}, "appium:simFaults.slowSource.every must be a positive whole number"),
    ({"slowSource": {"every": 2, "ms": -100}}, "appium:simFaults.slowSource.ms must be a positive number of milliseconds, got -100"),
    ({"slowSource": {"every": 2}}, "appium:simFaults.slowSource.ms must be a positive number"),
    ({"slowSource": {"every": 2, "ms": 100, "jitter": 5}}, 'appium:simFaults.slowSource has an unknown key "jitter"'),
    ({"slowSource": 8000}, "appium:simFaults.slowSource must be an object"),
    ([1], "appium:simFaults must be an object"),
])
def test_bad_faults_are_refused_at_session_creation(driver_for, faults, message):
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for("notes", simFaults=faults)
    assert message in err.value.msg
