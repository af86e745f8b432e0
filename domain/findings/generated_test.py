"""test.py for a crash or ANR finding: a standalone pytest test that makes it happen again.

Shapes assumed (camelCase, as GET /run/{id}/findings and GET /run/{id} serve them):

    finding = {"findingId", "kind": "crash" | "anr", "title", "signature",
               "details": {"exception", "message", "frames", "freezeSeconds" (an ANR's, optional)},
               "reproduction": {"steps": [step, ...], "attempts", "reproduced"}}
        a step as domain/findings/reproduction.py makes it: kind, target and the typed text's
        "text" or "inputKey" are needed here, not only the actionId/label/screens the list shows
    run = {"runId", "app": {"apkPath", "packageName", "appActivity", "appiumServerUrl"},
           "capabilities": {...} (the session's: the device's, e.g. "appium:udid", and the run's extra ones,
                              e.g. "appium:simFaults": run_facts.run_for_test),
           "inputs": [key, ...] (keys, never values),
           "permissions": "grant" | "deny" (how the run answered permission dialogs; "grant" when absent)}

The generated file is fixed code plus data written with repr(), a valid Python literal
for any text (quotes, newlines, unicode), so no label can break it. It imports
Appium-Python-Client; this module only writes text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from domain.exploration.system import PERMISSION_PACKAGES
from domain.findings.reproduction import permission_buttons
from domain.sessions import session_capabilities

REPRODUCIBLE_KINDS = ("crash", "anr")
FLAKY_REPLAYS = 3  # DESIGN.md: a flaky finding's test replays the path up to three times
CRASH_SETTLE_SECONDS = 3.0  # a crash dialog shows at once; a little time for it to be drawn
ANR_MARGIN_SECONDS = 5.0  # DESIGN.md: an ANR attempt waits up to its freeze plus 5 s
DEFAULT_FREEZE_SECONDS = 5.0  # Android reports an ANR after 5 s of unanswered input
DEFAULT_AUTOMATION = "UiAutomator2"


class NoTestScript(ValueError):
    """The finding has no test: an accessibility finding, or no known path to its trigger."""


def finding_test_script(finding: Mapping[str, Any], run: Mapping[str, Any]) -> str:
    """The text of test.py: replays the steps, asserts the app survived them (DESIGN.md "Findings")."""
    if finding.get("kind") not in REPRODUCIBLE_KINDS:
        raise NoTestScript(f"a {finding.get('kind')} finding has no test")
    reproduction = finding.get("reproduction") or {}
    steps = reproduction.get("steps") or []
    if not steps:
        raise NoTestScript("no known path leads to the finding")
    details = finding.get("details") or {}
    values = {
        "FINDING": {"findingId": finding.get("findingId"), "runId": run.get("runId"), "kind": finding["kind"],
                    "title": finding.get("title"), "signature": finding.get("signature"),
                    "exception": details.get("exception"), "message": details.get("message")},
        "CAPABILITIES": capabilities(run),
        "APPIUM_URL": (run.get("app") or {}).get("appiumServerUrl") or "http://127.0.0.1:4723",
        "APP_PACKAGE": (run.get("app") or {}).get("packageName", ""),
        "INPUT_KEYS": sorted({step["inputKey"] for step in steps if step.get("inputKey")}),
        "REPLAYS": FLAKY_REPLAYS if is_flaky(reproduction) else 1,
        "SETTLE_SECONDS": settle_seconds(finding["kind"], details),
        "PERMISSION_BUTTONS": permission_buttons(run.get("permissions") or "grant"),
        "PERMISSION_PACKAGES": sorted(PERMISSION_PACKAGES),
    }
    literals = {name: _literal(_plain(value)) for name, value in values.items()}
    literals["STEPS"] = "\n".join(f"    {_plain(step)!r}," for step in steps)  # one per line, to read
    return _PLACEHOLDER.sub(lambda match: literals[match.group(1)], TEMPLATE)


def capabilities(run: Mapping[str, Any]) -> dict[str, Any]:
    """The run's session: its app's, its device's and its own extra capabilities, as the worker started it."""
    app = run.get("app") or {}
    given = {key: app.get(key) for key in ("apkPath", "packageName", "appActivity")}
    caps = session_capabilities(given, {"appium:automationName": DEFAULT_AUTOMATION, **(run.get("capabilities") or {})})
    return {name: value for name, value in caps.items() if value is not None}


def is_flaky(reproduction: Mapping[str, Any]) -> bool:
    """Reproduced fewer times than tried (reproduced 1 of 2 attempts)."""
    attempts = reproduction.get("attempts") or 0
    return (reproduction.get("reproduced") or 0) < attempts


def settle_seconds(kind: str, details: Mapping[str, Any]) -> float:
    """How long after the last step the test watches for the dialog."""
    if kind != "anr":
        return CRASH_SETTLE_SECONDS
    freeze = details.get("freezeSeconds")
    valid = isinstance(freeze, (int, float)) and math.isfinite(freeze) and freeze >= 0
    return float(freeze if valid else DEFAULT_FREEZE_SECONDS) + ANR_MARGIN_SECONDS


def _literal(value: Any) -> str:
    """repr(), a dict with one item per line, to read."""
    if not isinstance(value, dict) or not value:
        return repr(value)
    return "{\n" + "".join(f"    {key!r}: {item!r},\n" for key, item in value.items()) + "}"


def _plain(value: Any) -> Any:
    """JSON-like data whose repr() is a Python literal (no NaN, no objects)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)


_PLACEHOLDER = re.compile(r"__(FINDING|CAPABILITIES|APPIUM_URL|APP_PACKAGE|INPUT_KEYS|STEPS|REPLAYS|SETTLE_SECONDS"
                          r"|PERMISSION_BUTTONS|PERMISSION_PACKAGES)__")

TEMPLATE = '''"""Makes a finding of a run-service run happen again; generated from the run's events.

Replays the steps that led to the finding, then asserts that the app is still in the
foreground with no crash or ANR dialog: the test fails while the bug is there and passes
once the app is fixed.

    pip install pytest Appium-Python-Client
    pytest this_file.py

Environment (each optional; the run's values are the defaults):
    RUNSERVICE_APPIUM_URL   the Appium server
    RUNSERVICE_APP          the app's path (the session installs it)
    RUNSERVICE_UDID         the device
    RUNSERVICE_INPUTS       a JSON object with the run's inputs the steps type (INPUT_KEYS below),
                            e.g. RUNSERVICE_INPUTS='{"password": "..."}': no input is written here
"""

import json
import os
import time

import pytest
from appium import webdriver
from appium.options.common import AppiumOptions
from appium.webdriver.client_config import AppiumClientConfig
from appium.webdriver.common.appiumby import AppiumBy
from selenium.common.exceptions import NoSuchElementException, WebDriverException

FINDING = __FINDING__
CAPABILITIES = __CAPABILITIES__
APPIUM_URL = __APPIUM_URL__
APP_PACKAGE = __APP_PACKAGE__
INPUT_KEYS = __INPUT_KEYS__
STEPS = [
__STEPS__
]
REPLAYS = __REPLAYS__  # more than 1 for a flaky finding: each replay is a chance for it to show
SETTLE_SECONDS = __SETTLE_SECONDS__  # after the last step; an ANR shows only after its freeze
# A permission dialog that shows is answered as the run answered it: these buttons by preference, else back (deny).
PERMISSION_BUTTONS = __PERMISSION_BUTTONS__
PERMISSION_PACKAGES = __PERMISSION_PACKAGES__
MAX_DIALOGS = 6  # in a row: a request for several permissions shows one dialog each
SESSION_TIMEOUT = 300  # seconds: starting a session installs and launches the app
COMMAND_TIMEOUT = 60  # seconds per command, so a silent server cannot hang the test
FIND_SECONDS = 10  # an element may take a moment to show after a screen change
POLL_SECONDS = 0.5
SCROLL_PERCENT = 0.8
WAIT_SECONDS = 10  # a "wait" step: the run saw the screen change by itself (a splash, a page loading)
DIALOG_BUTTON = "android:id/aerr_close"  # "Close app", on both Android's crash and ANR dialogs
DIALOG_TITLE = "android:id/alertTitle"
BY = {"id": AppiumBy.ID, "xpath": AppiumBy.XPATH, "accessibility_id": AppiumBy.ACCESSIBILITY_ID}


def capabilities():
    caps = dict(CAPABILITIES)
    if os.environ.get("RUNSERVICE_APP"):
        caps["appium:app"] = os.environ["RUNSERVICE_APP"]
    if os.environ.get("RUNSERVICE_UDID"):
        caps["appium:udid"] = os.environ["RUNSERVICE_UDID"]
    return caps


def open_session():
    url = os.environ.get("RUNSERVICE_APPIUM_URL") or APPIUM_URL
    config = AppiumClientConfig(remote_server_addr=url, timeout=SESSION_TIMEOUT)
    options = AppiumOptions().load_capabilities(capabilities())
    driver = webdriver.Remote(url, options=options, client_config=config)
    config.timeout = COMMAND_TIMEOUT  # the client reads its config at every request
    return driver


def read_inputs():
    try:
        inputs = json.loads(os.environ.get("RUNSERVICE_INPUTS") or "{}")
    except ValueError as error:
        pytest.fail(f"RUNSERVICE_INPUTS is not JSON: {error}", pytrace=False)
    missing = [key for key in INPUT_KEYS if not isinstance(inputs, dict) or key not in inputs]
    if missing:
        pytest.fail(f"RUNSERVICE_INPUTS (a JSON object) must hold the run's inputs {missing}", pytrace=False)
    return {key: str(value) for key, value in inputs.items()}


@pytest.fixture
def inputs():
    return read_inputs()


@pytest.fixture
def driver(inputs):
    session = open_session()
    try:
        yield session
    finally:
        session.quit()


def test_finding_no_longer_happens(driver, inputs):
    reproduce(driver, inputs)


def reproduce(driver, inputs):
    for replay in range(1, REPLAYS + 1):
        if replay > 1:  # from a fresh launch, as the steps were recorded
            driver.terminate_app(APP_PACKAGE)
            driver.activate_app(APP_PACKAGE)
        problem = replay_steps(driver, inputs) or wait_for_problem(driver)
        assert problem is None, failure(problem, replay)


def failure(problem, replay):
    cause = ": ".join(str(part) for part in (FINDING["exception"], FINDING["message"]) if part)
    return f"{FINDING['title']} ({cause or FINDING['kind']}): {problem} (replay {replay} of {REPLAYS})"


def replay_steps(driver, inputs):
    for number, step in enumerate(STEPS, 1):
        try:
            answer_permissions(driver)
            perform(driver, step, inputs)
        except WebDriverException as error:
            # The bug may strike before the last step; else the path is gone (the app changed).
            return problem_now(driver) or f"step {number} ({step['label']!r}) could not be replayed: {error}"
    return None


def answer_permissions(driver):
    for _ in range(MAX_DIALOGS):
        if driver.current_package not in PERMISSION_PACKAGES:
            return
        buttons = (found for name in PERMISSION_BUTTONS for found in driver.find_elements(AppiumBy.ID, name))
        button = next(buttons, None)
        if button is None:
            driver.back()
        else:
            button.click()
        time.sleep(POLL_SECONDS)


def wait_for_problem(driver):
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        answer_permissions(driver)
        problem = problem_now(driver)
        if problem or time.monotonic() >= deadline:
            return problem
        time.sleep(POLL_SECONDS)


def problem_now(driver):
    if driver.find_elements(AppiumBy.ID, DIALOG_BUTTON):
        titles = driver.find_elements(AppiumBy.ID, DIALOG_TITLE)
        return f"Android shows {titles[0].text if titles else 'a crash or ANR dialog'!r}"
    package = driver.current_package
    if package != APP_PACKAGE:
        return f"the app left the foreground (current package {package!r})"
    return None


def perform(driver, step, inputs):
    kind, target = step["kind"], step.get("target")
    if kind == "back":
        driver.back()
    elif kind in ("tap", "toggle"):
        tap(driver, target)
    elif kind == "type":
        type_into(driver, target, inputs[step["inputKey"]] if step.get("inputKey") else step.get("text") or "")
    elif kind == "long_press":
        driver.execute_script("mobile: longClickGesture", gesture_target(driver, target, point=True))
    elif kind == "scroll":
        area = gesture_target(driver, target, point=False)
        driver.execute_script("mobile: scrollGesture",
                              {**area, "direction": step.get("direction") or "down", "percent": SCROLL_PERCENT})
    elif kind == "wait":
        wait_for_change(driver)
    else:
        raise ValueError(f"unknown step kind {kind!r}")


def wait_for_change(driver):
    """Until the screen moves on by itself, as it did when the run waited here (at most WAIT_SECONDS)."""
    start, deadline = driver.page_source, time.monotonic() + WAIT_SECONDS
    while driver.page_source == start and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)


def tap(driver, target):
    if target[0] == "point":
        driver.tap([tuple(target[1])])
    else:
        locate(driver, target).click()


def type_into(driver, target, text):
    if target[0] == "point":  # no locator: the field takes focus when tapped
        driver.tap([tuple(target[1])])
        field = driver.switch_to.active_element
    else:
        field = locate(driver, target)
    field.clear()
    field.send_keys(text)


def gesture_target(driver, target, point):
    if target[0] == "point":
        x, y = target[1]
        return {"x": x, "y": y} if point else {"left": x - 1, "top": y - 1, "width": 2, "height": 2}
    return {"elementId": locate(driver, target).id}


def locate(driver, target):
    how, value = target
    deadline = time.monotonic() + FIND_SECONDS
    while True:
        found = driver.find_elements(BY[how], value)
        if found or time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    if not found:
        raise NoSuchElementException(f"no element with {how} {value!r}")
    return found[0]
'''
