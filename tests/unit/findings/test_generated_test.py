"""The generated test.py, compiled and run against a fake driver (a real device is the integration test's)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from appium.webdriver.common.appiumby import AppiumBy

from domain.exploration.actions import Action
from domain.findings.reproduction import reproduction_steps
from domain.findings.generated_test import NoTestScript, finding_test_script

ROOT = Path(__file__).resolve().parents[3]
BUTTON, TITLE = "android:id/aerr_close", "android:id/alertTitle"
SECRET = "s3cr3t-Pa55!"
RUN = {"runId": "01RUN", "app": {"apkPath": "/apps/notes.apk", "packageName": "org.x", "appActivity": ".Home",
                                 "appiumServerUrl": "http://appium.example:4723"},
       "capabilities": {"appium:udid": "emulator-5554", "appium:automationName": "UiAutomator2"},
       "inputs": ["password"]}


def step(kind, target, action_id, label="", **extra):
    return {"kind": kind, "target": target, "label": label or action_id, "actionId": action_id,
            "fromScreen": "s1", "toScreen": "s1", **extra}


STEPS = [
    step("tap", ["id", "org.x:id/login"], "tap:id/login"),
    step("type", ["id", "org.x:id/password"], "type:id/password", inputKey="password"),
    step("type", ["id", "org.x:id/note"], "type:id/note", text="hello"),
    step("type", ["point", [100, 200]], "type:EditText", text="at a point"),
    step("scroll", ["id", "org.x:id/list"], "scroll:id/list:down", direction="down"),
    step("long_press", ["xpath", '//*[@text="Row"]'], "long_press:TextView[Row]"),
    step("scroll", ["point", [500, 900]], "scroll:View:down", direction="down"),
    step("tap", ["point", [540, 1800]], "tap:View[More]"),
    step("toggle", ["xpath", "(//*[@class='android.widget.Switch'])[2]"], "toggle:Switch"),
    step("back", None, "back"),
    step("tap", ["id", "org.x:id/sync"], "tap:id/sync", toScreen=None),
]


def finding(steps=STEPS, kind="crash", attempts=2, reproduced=2, title="Field Notes crashed: IllegalStateException",
            **details):
    return {"findingId": "f-1", "kind": kind, "title": title, "signature": f"{kind}|sig",
            "details": {"exception": "java.lang.IllegalStateException", "message": "token is null",
                        "frames": ["org.x.Sync.push(Sync.java:88)"], **details},
            "reproduction": {"steps": steps, "attempts": attempts, "reproduced": reproduced}}


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeElement:
    def __init__(self, driver, value):
        self.driver, self.value = driver, value
        self.id = f"element:{value}"

    @property
    def text(self):
        return self.driver.dialog if self.value == TITLE else ""

    def click(self):
        self.driver.act("click", self.value)

    def clear(self):
        self.driver.act("clear", self.value)

    def send_keys(self, text):
        self.driver.act("send_keys", self.value, text)


class FakeSwitchTo:
    def __init__(self, driver):
        self.active_element = FakeElement(driver, "focused")


class FakeDriver:
    """A device whose app shows `dialog` `delay` s after `trigger` is clicked, on the launches in
    `breaking` (1: the session's own launch; each activate_app is one more)."""

    def __init__(self, clock, breaking=(1,), delay=0.0, dialog="Field Notes keeps stopping", missing=(), log=None):
        self.clock, self.breaking, self.delay, self.dialog, self.missing, self.log = (
            clock, set(breaking), delay, dialog, set(missing), log)
        self.calls, self.finds, self.launch, self.dialog_at = [], [], 1, None
        self.switch_to = FakeSwitchTo(self)

    def act(self, *call):
        self.calls.append(call)
        if call == ("click", "org.x:id/sync") and self.launch in self.breaking:
            self.dialog_at = self.clock.monotonic() + self.delay

    def showing(self):
        return self.dialog_at is not None and self.clock.monotonic() >= self.dialog_at

    def find_elements(self, by, value):
        if value in (BUTTON, TITLE):
            return [FakeElement(self, value)] if self.showing() else []
        self.finds.append((by, value))
        return [] if self.showing() or value in self.missing else [FakeElement(self, value)]

    @property
    def current_package(self):
        return "android" if self.showing() else "org.x"

    def tap(self, positions):
        self.act("tap", [list(position) for position in positions])

    def execute_script(self, name, args):
        self.act(name, args)

    def back(self):
        self.act("back")

    def terminate_app(self, package):
        self.act("terminate_app", package)

    def activate_app(self, package):
        self.act("activate_app", package)
        self.launch, self.dialog_at = self.launch + 1, None

    def quit(self):
        self.act("quit")
        if self.log:
            Path(self.log).write_text(json.dumps(self.calls))


def load(tmp_path, text, name="test_finding"):
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"{name}_{id(text)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def clock():
    return FakeClock()


def generated(tmp_path, clock, **finding_args):
    module = load(tmp_path, finding_test_script(finding(**finding_args), RUN))
    module.time = clock  # the test's waits run on the fake clock
    return module


NASTY = ['"', "'", '"""', "'''", "\\", "\\'", 'a"""b\'\'\'c', "line\nbreak\r\n", "\x00\x1b\x7f", "\u2028\u2029\x85",
         "🙂 ünïcödé 中文", "\ud800", "__STEPS__", "__FINDING__ __APP_PACKAGE__", "{x}{{}}%s", "# not a comment",
         "\\N{BULLET}", "f'{__import__(\"os\")}'", "'); raise SystemExit('"]


@pytest.mark.parametrize("nasty", NASTY)
def test_the_file_is_valid_python_that_holds_the_data_as_given(tmp_path, clock, nasty):
    steps = [step("type", ["xpath", f"//*[@text={nasty!r}]"], nasty, label=nasty, text=nasty, fromScreen=nasty),
             step("tap", ["id", nasty], "tap:id/sync", label=nasty, toScreen=None)]
    broken = {**finding(steps, title=nasty, exception=nasty, message=nasty), "findingId": nasty, "signature": nasty}
    run = {**RUN, "runId": nasty, "app": {**RUN["app"], "packageName": nasty, "apkPath": nasty},
           "capabilities": {nasty: nasty, "appium:simDensity": float("nan")}}
    text = finding_test_script(broken, run)
    compile(text, "test.py", "exec")
    text.encode("utf-8")  # served over HTTP: must encode
    module = load(tmp_path, text)
    assert module.STEPS == steps
    assert module.FINDING["title"] == module.FINDING["exception"] == module.FINDING["message"] == nasty
    assert module.APP_PACKAGE == nasty and module.CAPABILITIES[nasty] == module.CAPABILITIES["appium:app"] == nasty
    module.time = clock
    with pytest.raises(AssertionError) as failure:  # the failure message is built from the same data
        module.reproduce(FakeDriver(clock), {})
    assert nasty in str(failure.value)


def test_capabilities_are_the_runs_and_the_environment_overrides_server_app_and_device(tmp_path, monkeypatch, clock):
    module = generated(tmp_path, clock)
    sessions = []
    monkeypatch.setattr("appium.webdriver.Remote",
                        lambda url, options, client_config: sessions.append((url, options, client_config)) or "driver")
    for name in ("RUNSERVICE_APPIUM_URL", "RUNSERVICE_APP", "RUNSERVICE_UDID"):
        monkeypatch.delenv(name, raising=False)
    assert module.open_session() == "driver"
    url, options, config = sessions[-1]
    caps = options.to_capabilities()
    assert url == "http://appium.example:4723" and config.timeout == module.COMMAND_TIMEOUT > 0
    assert caps["platformName"].lower() == "android" and caps["appium:automationName"] == "UiAutomator2"
    assert (caps["appium:app"], caps["appium:appPackage"], caps["appium:appActivity"], caps["appium:udid"]) == (
        "/apps/notes.apk", "org.x", ".Home", "emulator-5554")
    monkeypatch.setenv("RUNSERVICE_APPIUM_URL", "http://other:4724")
    monkeypatch.setenv("RUNSERVICE_APP", "/builds/fixed.apk")
    monkeypatch.setenv("RUNSERVICE_UDID", "R5CT")
    module.open_session()
    url, options, _ = sessions[-1]
    caps = options.to_capabilities()
    assert (url, caps["appium:app"], caps["appium:udid"]) == ("http://other:4724", "/builds/fixed.apk", "R5CT")


def test_a_fixed_app_passes_after_every_step_is_replayed_with_its_locator(tmp_path, clock):
    module = generated(tmp_path, clock)
    driver = FakeDriver(clock, breaking=())
    module.reproduce(driver, {"password": SECRET})
    assert driver.calls == [
        ("click", "org.x:id/login"),
        ("clear", "org.x:id/password"), ("send_keys", "org.x:id/password", SECRET),
        ("clear", "org.x:id/note"), ("send_keys", "org.x:id/note", "hello"),
        ("tap", [[100, 200]]), ("clear", "focused"), ("send_keys", "focused", "at a point"),
        ("mobile: scrollGesture", {"elementId": "element:org.x:id/list", "direction": "down", "percent": 0.8}),
        ("mobile: longClickGesture", {"elementId": 'element://*[@text="Row"]'}),
        ("mobile: scrollGesture", {"left": 499, "top": 899, "width": 2, "height": 2, "direction": "down",
                                   "percent": 0.8}),
        ("tap", [[540, 1800]]),
        ("click", "(//*[@class='android.widget.Switch'])[2]"),
        ("back",),
        ("click", "org.x:id/sync"),
    ]
    assert (AppiumBy.ID, "org.x:id/login") in driver.finds and (AppiumBy.XPATH, '//*[@text="Row"]') in driver.finds
    assert clock.now >= module.SETTLE_SECONDS > 0  # it watched for the dialog before passing


def test_the_bug_fails_the_test_naming_the_finding_and_its_exception(tmp_path, clock):
    module = generated(tmp_path, clock)
    with pytest.raises(AssertionError) as failure:
        module.reproduce(FakeDriver(clock), {"password": SECRET})
    message = str(failure.value)
    assert "Field Notes crashed: IllegalStateException" in message
    assert "java.lang.IllegalStateException: token is null" in message and "keeps stopping" in message


def test_a_flaky_finding_replays_up_to_three_times_from_fresh_launches(tmp_path, clock):
    flaky = generated(tmp_path, clock, attempts=2, reproduced=1)
    with pytest.raises(AssertionError, match="replay 3 of 3"):
        flaky.reproduce(FakeDriver(clock, breaking=(3,)), {"password": SECRET})
    driver = FakeDriver(clock, breaking=())
    flaky.reproduce(driver, {"password": SECRET})
    restarts = [call for call in driver.calls if call[0] in ("terminate_app", "activate_app")]
    assert restarts == [("terminate_app", "org.x"), ("activate_app", "org.x")] * 2
    steady = generated(tmp_path, clock, attempts=2, reproduced=2)
    steady.reproduce(FakeDriver(clock, breaking=(3,)), {"password": SECRET})  # one replay: the third never comes
    assert steady.REPLAYS == 1


def test_an_anr_is_watched_for_until_its_freeze_plus_five_seconds(tmp_path, clock):
    anr = generated(tmp_path, clock, kind="anr", freezeSeconds=6)
    assert anr.SETTLE_SECONDS == 11
    with pytest.raises(AssertionError, match="isn't responding"):
        anr.reproduce(FakeDriver(clock, delay=10, dialog="Field Notes isn't responding"), {"password": SECRET})
    anr.reproduce(FakeDriver(clock, delay=12), {"password": SECRET})  # later than that is not this finding
    crash = generated(tmp_path, clock)
    crash.reproduce(FakeDriver(clock, delay=10), {"password": SECRET})
    assert crash.SETTLE_SECONDS < 10


def test_a_bug_that_strikes_before_the_last_step_fails_and_a_vanished_element_fails_too(tmp_path, clock):
    module = generated(tmp_path, clock)
    early = [STEPS[-1], STEPS[0]]  # the crash comes on the first step; the second can no longer be found
    module.STEPS = early
    with pytest.raises(AssertionError, match="keeps stopping"):
        module.reproduce(FakeDriver(clock), {"password": SECRET})
    with pytest.raises(AssertionError, match=r"step 2 \('tap:id/login'\) could not be replayed"):
        module.reproduce(FakeDriver(clock, breaking=(), missing={"org.x:id/login"}), {"password": SECRET})


def test_user_inputs_come_from_the_environment_and_are_never_written(tmp_path, monkeypatch, clock):
    password = Action("type", ("id", "org.x:id/password"), text=SECRET, label='type "•••" into "password"',
                      action_id="type:id/password")
    sync = Action("tap", ("id", "org.x:id/sync"), label='tap "Sync"', action_id="tap:id/sync")
    steps = reproduction_steps([], "s1", ("s1", "tap:id/sync"), {"s1": [password.to_dict()]},
                               {a.action_id: a.to_dict() for a in (password, sync)}, {"password": SECRET})
    text = finding_test_script(finding(steps), {**RUN, "inputs": {"password": SECRET}})  # even if values slip in
    assert SECRET not in text and "RUNSERVICE_INPUTS" in text
    module = load(tmp_path, text)
    assert module.INPUT_KEYS == ["password"]
    monkeypatch.setenv("RUNSERVICE_INPUTS", json.dumps({"password": SECRET}))
    assert module.read_inputs() == {"password": SECRET}
    for missing in ("{}", "not json", "[1]"):
        monkeypatch.setenv("RUNSERVICE_INPUTS", missing)
        with pytest.raises(pytest.fail.Exception, match="RUNSERVICE_INPUTS"):
            module.read_inputs()


def test_only_crashes_and_anrs_with_a_path_have_a_test():
    with pytest.raises(NoTestScript):
        finding_test_script({**finding(), "kind": "accessibility"}, RUN)
    with pytest.raises(NoTestScript):
        finding_test_script(finding(steps=[]), RUN)


CONFTEST = """
import json, os, sys
sys.path.insert(0, {root!r})
import appium.webdriver
from tests.unit.findings.test_generated_test import FakeDriver
import time

def remote(url, options, client_config):
    assert client_config.timeout > 0  # a client timeout, always
    return FakeDriver(time, breaking=json.loads(os.environ["FAKE_BREAKING"]), log=os.environ["FAKE_LOG"])

appium.webdriver.Remote = remote
"""


@pytest.mark.parametrize("breaking, exit_code", [([1], 1), ([], 0)])
def test_pytest_runs_the_file_and_always_quits_the_session(tmp_path, breaking, exit_code):
    (tmp_path / "test_finding.py").write_text(finding_test_script(finding(STEPS[:3] + STEPS[-1:]), RUN), "utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST.format(root=str(ROOT)))
    log = tmp_path / "calls.json"
    env = {**os.environ, "FAKE_BREAKING": json.dumps(breaking), "FAKE_LOG": str(log),
           "RUNSERVICE_INPUTS": json.dumps({"password": SECRET})}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_finding.py"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == exit_code, result.stdout + result.stderr
    calls = json.loads(log.read_text())
    assert calls[-1] == ["quit"] and ["send_keys", "org.x:id/password", SECRET] in calls
    assert ("IllegalStateException" in result.stdout) == bool(breaking)


class SplashDriver:
    """A splash screen that moves on by itself once `after` seconds of the fake clock have passed."""

    def __init__(self, clock, after):
        self.clock, self.moves_at = clock, clock.monotonic() + after

    @property
    def page_source(self):
        return "<home/>" if self.clock.monotonic() >= self.moves_at else "<splash/>"


def test_a_wait_step_waits_until_the_screen_moves_on_by_itself_and_no_longer(tmp_path, clock):
    module = generated(tmp_path, clock)
    started = clock.monotonic()
    module.perform(SplashDriver(clock, after=3), {"kind": "wait"}, {})
    assert 3 <= clock.monotonic() - started < 3 + module.POLL_SECONDS * 2  # it moved on: the wait ends

    started = clock.monotonic()
    module.perform(SplashDriver(clock, after=60), {"kind": "wait"}, {})
    assert module.WAIT_SECONDS <= clock.monotonic() - started < module.WAIT_SECONDS + 1  # bounded
