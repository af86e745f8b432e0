"""The agent without Appium or PostgreSQL: `FakeDevice`, a small app in memory behind the device port
(adapters/device.py); `InMemoryArtifacts`; `fake_run`, a requested run on an in-memory RunService with
an `AgentRun` on the fake device. Only what the agent's logic needs; gestures, real page sources and
logcat, and the session stay with the simulator (tests/integration)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from ulid import ULID

from adapters.device import APP_STATE_FOREGROUND, DeviceError, DeviceUnavailable, SessionLost
from agent.agent_run import AgentRun, DeviceOpener
from config.worker_settings import WorkerSettings
from domain.application import RunRequest, RunService
from domain.wire import WireEvent
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, node, row

LAUNCHER = "com.android.launcher3"
SYSTEM = "android"  # the package of Android's crash dialog
CONTROLLER = "com.android.permissioncontroller"
WEBVIEW = "android.webkit.WebView"
KEYBOARD_TOP = 1440  # the keyboard covers the bottom 40% of the 2400 px display
FOREGROUND_ONLY = frozenset({"CAMERA", "RECORD_AUDIO", "ACCESS_FINE_LOCATION"})  # "while using the app"
POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
APP_STATE_NOT_RUNNING, APP_STATE_BACKGROUND = 1, 3
SERVER_CRASHED = ("An unknown server-side error occurred while processing the command. Original error: "
                  "'Instrumentation process is not running (probably crashed)'")


@dataclass(frozen=True)
class El:
    """An element; `cls` defaults to EditText (editable), Button (clickable) or TextView; `bounds` to a
    150 px row by position (tall enough for the touch-target rule)."""
    id: str
    text: str = ""
    cls: str = ""
    clickable: bool = True
    editable: bool = False
    bounds: tuple[int, int, int, int] | None = None
    password: bool = False
    web: tuple[tuple[tuple[int, int, int, int], str], ...] = ()  # a WebView's parts: (box, the page a tap opens)


def label(element_id: str, text: str) -> El:
    return El(element_id, text, clickable=False)


@dataclass(frozen=True)
class Page:
    activity: str
    elements: tuple[El, ...]
    back: str | None = None  # the page back leads to; None: back leaves the app (in the background)
    after: tuple[int, str] | None = None  # (n, page): the page becomes `page` by itself after n reads of it


def spinner(element_id: str = "progress") -> El:
    """An indeterminate progress bar: a page with only this on it is loading."""
    return El(element_id, cls="android.widget.ProgressBar", clickable=False)


@dataclass(frozen=True)
class Ask:
    """A transition target: the permission controller asks for each permission in turn; then the app goes
    to `granted` when all were granted, else to `denied` (None: it stays where it was)."""
    permissions: tuple[str, ...] = ("CAMERA",)
    granted: str | None = None
    denied: str | None = None


@dataclass(frozen=True)
class Other:
    """A transition target: another app comes over ours; back walks its `depth` screens, then our app is back."""
    package: str = "com.android.chrome"
    activity: str = "com.google.android.apps.chrome.Main"
    depth: int = 1


@dataclass(frozen=True)
class Crash:
    """A transition target: the app dies, Android's crash dialog shows, logcat has the FATAL EXCEPTION."""
    exception: str = "java.lang.IllegalStateException"
    message: str = "token is null"
    frames: tuple[str, ...] = (f"{PKG}.sync.SyncClient.push(SyncClient.java:88)",
                               f"{PKG}.ui.HomeActivity.onSync(HomeActivity.java:41)")


@dataclass(frozen=True)
class Freeze:
    """A transition target: the app's main thread blocks. The next tap is never delivered: Android shows its
    ANR dialog instead ("Shop isn't responding"), as it does once an input waits too long."""


class FakeDevice:
    """`transitions[(page, element id)]` is the page a tap there opens, or a `Crash`, an `Ask` (permission
    dialogs) or an `Other` app; a tap elsewhere changes nothing (on a clickable element the agent then
    watches 3 s for a freeze: give each one a transition). `on_launch` asks for permissions at a fresh
    launch. Typing shows the keyboard, which takes the taps on the bottom 40% of the display.
    `calls` counts the port's calls; `fail(method, error)` makes its next call raise;
    `on(method, n, hook)` runs `hook` at the n-th call (a user's cancel, another worker's takeover).
    A page's `after` changes it by itself (time: counted in reads of it, so no test waits on a clock).
    Sessions: `open_session` (the runs' opener) counts `sessions` and keeps each one's capabilities; a new
    session starts the app afresh. `die_after(n)` lets the session answer n more commands, then every one
    raises SessionLost (UiAutomator2's crashed server) until a new session; `crash_every` does so in each
    session; `refuse_sessions(k)` makes the next k opens fail as a server that is down does."""

    def __init__(self, pages: dict[str, Page], transitions: dict[tuple[str, str], str | Crash | Ask | Other],
                 start: str, package: str = PKG, on_launch: Ask | None = None) -> None:
        self.pages, self.transitions, self.start, self.package = pages, transitions, start, package
        self.on_launch = on_launch
        self.asking: list[tuple[str, Ask]] = []  # the permissions still to ask, each with its request
        self.answers: list[tuple[str, str]] = []  # (permission, "granted" | "denied"), in order
        self.other: Other | None = None  # another app over ours
        self.other_depth = 0
        self.keyboard = False
        self.swallowed: list[tuple[str, Any]] = []  # taps the keyboard took
        self.page: str | None = None  # in the foreground; None: the launcher (or the dialog over it)
        self.background: str | None = None  # where the app, running but not shown, would resume
        self.dialog = False
        self.typed: dict[tuple[str, str], str] = {}
        self.log: list[str] = []
        self.taps: list[tuple[str, Any]] = []  # every tap's locator, in order
        self.calls: Counter[str] = Counter()
        self.failures: dict[str, list[Exception]] = {}
        self.hooks: dict[tuple[str, int], Callable[[], Any]] = {}
        self.here: tuple[str | None, int] = (None, 0)  # the page shown and how often it was read
        self.sessions, self.session_caps, self.refusals = 0, [], 0
        self.commands_left: int | None = None  # before the session dies; None: it lives
        self.crash_every: int | None = None
        self.dead = False
        self.frozen = False  # a Freeze: taps are not delivered
        self.anr = False  # the ANR dialog shows

    def open_session(self, caps: dict[str, Any]) -> FakeDevice:
        self.session_caps.append(dict(caps))
        if self.refusals:
            self.refusals -= 1
            raise DeviceUnavailable("Appium server http://fake unreachable: connection refused")
        self.sessions += 1
        if self.sessions > 1:  # the app starts afresh in a new session, as after UiAutomator2's crash
            self.page = self.background = self.other = None
            self.dialog, self.keyboard, self.asking, self.frozen, self.anr = False, False, [], False, False
        self.dead, self.commands_left = False, self.crash_every
        return self

    def die_after(self, n: int) -> None:
        self.commands_left = n

    def refuse_sessions(self, k: int) -> None:
        self.refusals = k

    def fail(self, method: str, error: Exception) -> None:
        self.failures.setdefault(method, []).append(error)

    def on(self, method: str, n: int, hook: Callable[[], Any]) -> None:
        self.hooks[(method, n)] = hook

    def _call(self, method: str) -> None:
        self.calls[method] += 1
        if self.commands_left is not None:
            self.commands_left -= 1
            self.dead |= self.commands_left < 0
        if self.dead:
            raise SessionLost(SERVER_CRASHED, "server_crashed")
        if hook := self.hooks.get((method, self.calls[method])):
            hook()
        if self.failures.get(method):
            raise self.failures[method].pop(0)

    # What the agent reads

    def page_source(self) -> str:
        self._call("page_source")
        sys_node = lambda cls, rid, text, y: node(cls, rid=rid, text=text, bounds=row(y, 150), pkg=SYSTEM,  # noqa: E731
                                                  clickable=cls.endswith("Button"))
        if self.anr:
            return hierarchy(sys_node("android.widget.TextView", "alertTitle", "Shop isn't responding", 900),
                             sys_node("android.widget.Button", "aerr_close", "Close app", 1050),
                             sys_node("android.widget.Button", "aerr_wait", "Wait", 1200))
        if self.dialog:
            return hierarchy(sys_node("android.widget.TextView", "alertTitle", "Shop keeps stopping", 900),
                             sys_node("android.widget.Button", "aerr_app_info", "App info", 1050),
                             sys_node("android.widget.Button", "aerr_close", "Close app", 1200))
        if self.asking:
            return self._permission_source(self.asking[0][0])
        if self.other:
            return hierarchy(node("android.widget.EditText", rid="url_bar", text="example.com/terms", bounds=row(100),
                                  pkg=self.other.package, clickable=True),
                             node(WEBVIEW, rid="content", bounds=(0, 250, 1080, 2400), pkg=self.other.package))
        if self.page is None:
            return hierarchy(node("android.widget.TextView", text="Shop", desc="Shop", pkg=LAUNCHER, clickable=True))
        self._time_passes()
        views = [node(cls, rid=el.id, text=self.typed.get((self.page, el.id), el.text), bounds=bounds,
                      clickable=(el.clickable or el.editable) and cls != WEBVIEW, focusable=el.editable,
                      password=el.password, pkg=self.package)
                 for el, cls, bounds in self._elements()]
        return hierarchy(frame(*views))

    def _time_passes(self) -> None:
        page, reads = self.here if self.here[0] == self.page else (self.page, 0)
        after = self.pages[page].after
        if after is not None and reads >= after[0]:
            page, reads = after[1], 0
            self.page = page
        self.here = (page, reads + 1)

    def _elements(self) -> list[tuple[El, str, tuple[int, int, int, int]]]:
        elements = self.pages[self.page].elements if self.page else ()
        return [(el, el.cls or ("android.widget.EditText" if el.editable else "android.widget.Button"
                                if el.clickable else "android.widget.TextView"), el.bounds or row(200 + 200 * i, 150))
                for i, el in enumerate(elements)]

    def screenshot_png(self) -> bytes:
        self._call("screenshot_png")
        return b"\x89PNG\r\n\x1a\n" + str(self.page).encode()

    def logcat(self) -> list[str]:
        self._call("logcat")
        lines, self.log = self.log, []
        return lines

    def screen_density(self) -> int | None:
        self._call("screen_density")
        return 420

    def current_activity(self) -> str:
        self._call("current_activity")
        if self.dialog or self.anr:
            return "com.android.server.am.AppErrorDialog"
        if self.asking:
            return f"{CONTROLLER}.permission.ui.GrantPermissionsActivity"
        if self.other:
            return self.other.activity
        return self.pages[self.page].activity if self.page else ".Launcher"

    def current_package(self) -> str:
        self._call("current_package")
        if self.dialog or self.anr or self.asking or self.other:
            return SYSTEM if self.dialog or self.anr else CONTROLLER if self.asking else self.other.package
        return self.package if self.page else LAUNCHER

    # The app

    def is_app_installed(self, package: str) -> bool:
        self._call("is_app_installed")
        return True

    def install_app(self, apk_path: str) -> None:
        self._call("install_app")

    def activate_app(self, package: str) -> None:
        """Brings the app back where it was when it runs in the background, else launches its start page."""
        self._call("activate_app")
        fresh = self.page is None and self.background is None
        self.dialog, self.page, self.background, self.other = False, self.page or self.background or self.start, None, None
        self.anr = self.frozen = False
        if fresh and self.on_launch:
            self._ask(self.on_launch)

    def terminate_app(self, package: str) -> None:
        self._call("terminate_app")
        self.page = self.background = None
        self.anr = self.frozen = False

    def app_state(self, package: str) -> int:
        self._call("app_state")
        if self.page is not None and not self.dialog and not self.other:
            return APP_STATE_FOREGROUND
        return APP_STATE_BACKGROUND if self.background else APP_STATE_NOT_RUNNING

    # Gestures

    def tap(self, locator: tuple[str, Any]) -> None:
        self._call("tap")
        self.taps.append(locator)
        if self.anr:  # Close app ends it, as a crash does; Wait leaves it frozen
            if locator == ("id", "android:id/aerr_close"):
                self.anr = self.frozen = False
                self.page = self.background = None
            return
        if self.frozen:
            self.anr = True  # the tap is never delivered: the ANR dialog shows
            return
        if self.dialog:
            self.dialog = locator != ("id", "android:id/aerr_close")
            return
        if self.asking:
            self._answer("allow" in str(locator[1]))
            return
        if self.other or self.page is None:
            return  # another app's taps are not the app's
        element = self._find(locator)
        if self.keyboard and self._point(locator, element)[1] >= KEYBOARD_TOP:
            self.swallowed.append(locator)  # the keyboard took it
            return
        self._open(self._target(locator, element))

    def _target(self, locator: tuple[str, Any], element: El) -> str | Crash | Ask | Other | None:
        point = self._point(locator, element)
        parts = [page for (x1, y1, x2, y2), page in element.web if x1 <= point[0] < x2 and y1 <= point[1] < y2]
        return parts[0] if parts else self.transitions.get((self.page, element.id))

    def _open(self, target: str | Crash | Ask | Other | Freeze | None) -> None:
        if isinstance(target, Freeze):
            self.frozen = True
        elif isinstance(target, Crash):
            self._crash(target)
        elif isinstance(target, Ask):
            self._ask(target)
        elif isinstance(target, Other):
            self.other, self.other_depth, self.keyboard = target, target.depth, False
        elif target is not None:
            self.page, self.keyboard = target, False  # leaving the screen hides the keyboard

    def _point(self, locator: tuple[str, Any], element: El) -> tuple[int, int]:
        if locator[0] == "point":
            return tuple(locator[1])
        (x1, y1, x2, y2) = next(bounds for el, _, bounds in self._elements() if el is element)
        return (x1 + x2) // 2, (y1 + y2) // 2

    def _ask(self, ask: Ask) -> None:
        granted = {permission for permission, answer in self.answers if answer == "granted"}
        self.asking = [(permission, ask) for permission in ask.permissions if permission not in granted]
        if not self.asking:
            self._open(ask.granted)

    def _answer(self, allow: bool) -> None:
        permission, ask = self.asking.pop(0)
        self.answers.append((permission, "granted" if allow else "denied"))
        if not self.asking:
            granted = {p for p, answer in self.answers if answer == "granted"}
            self._open(ask.granted if set(ask.permissions) <= granted else ask.denied)

    def _permission_source(self, permission: str) -> str:
        buttons = ([("permission_allow_foreground_only_button", "WHILE USING THE APP"),
                    ("permission_allow_one_time_button", "ONLY THIS TIME")]
                   if permission in FOREGROUND_ONLY else [("permission_allow_button", "ALLOW")])
        views = [node("android.widget.TextView", rid="permission_message", text=f"Allow Shop to use {permission}?",
                      bounds=row(900, 150), pkg=CONTROLLER)]
        views += [node("android.widget.Button", rid=rid, text=text, bounds=row(1100 + 150 * i, 150), pkg=CONTROLLER,
                       clickable=True) for i, (rid, text) in enumerate([*buttons, ("permission_deny_button", "DENY")])]
        return hierarchy(*views)

    def type_text(self, locator: tuple[str, Any], text: str) -> None:
        self._call("type_text")
        self.typed[(self.page, self._find(locator).id)] = text
        self.keyboard = True

    def is_keyboard_shown(self) -> bool:
        self._call("is_keyboard_shown")
        return self.keyboard

    def hide_keyboard(self) -> None:
        self._call("hide_keyboard")
        self.keyboard = False

    def back(self) -> None:
        self._call("back")
        if self.asking:
            self._answer(False)  # back answers deny
        elif self.other:
            self.other_depth -= 1
            self.other = self.other if self.other_depth > 0 else None
        elif self.keyboard:
            self.keyboard = False  # back with the keyboard up only hides it
        elif self.page is not None and not self.dialog:
            back = self.pages[self.page].back
            self.page, self.background = back, None if back else self.page

    def long_press(self, locator: tuple[str, Any]) -> None:
        self._call("long_press")
        self._find(locator)

    def scroll(self, locator: tuple[str, Any], direction: str) -> bool:
        self._call("scroll")
        return False

    def quit(self) -> None:
        self._call("quit")

    def _find(self, locator: tuple[str, Any]) -> El:
        kind, value = locator
        for el, cls, (x1, y1, x2, y2) in reversed(self._elements()):
            if ((kind == "id" and value == f"{self.package}:id/{el.id}")
                    or (kind == "point" and x1 <= value[0] < x2 and y1 <= value[1] < y2)
                    or (kind == "xpath" and f'@class="{cls}" and @text="{el.text}"' in value)):
                return el
        raise DeviceError(f"no element {locator!r} on {self.page}")

    def _crash(self, crash: Crash) -> None:
        """As logcat -v threadtime prints it: the app's FATAL EXCEPTION block, then the system's lines."""
        pid = 4321
        block = ["FATAL EXCEPTION: main", f"Process: {self.package}, PID: {pid}",
                 f"{crash.exception}: {crash.message}", *(f"\tat {f}" for f in crash.frames),
                 "\tat android.view.View.performClick(View.java:7448)"]
        self.log += [f"12-02 10:00:00.{n:03d}  {pid}  {pid} E AndroidRuntime: {line}" for n, line in enumerate(block)]
        self.log.append(f"12-02 10:00:01.000   583  1021 I ActivityManager: Process {self.package} has died")
        self.page, self.background, self.dialog = None, None, True


class InMemoryArtifacts:
    def __init__(self) -> None:
        self.stored: dict[str, tuple[bytes, str]] = {}

    def put(self, content: bytes, media_type: str) -> str:
        key = f"{len(self.stored):032x}"
        self.stored[key] = (content, media_type)
        return key

    def get(self, key: str) -> tuple[bytes, str] | None:
        return self.stored.get(key)


def worker_settings(**overrides: Any) -> WorkerSettings:
    values = dict(database_url="memory://", ray_namespace="test", log_level="INFO", lease_seconds=60.0,
                  heartbeat_seconds=5.0, max_attempts=3, run_timeout_seconds=300.0, no_progress_steps=30,
                  appium_timeout_seconds=5.0, appium_session_timeout_seconds=60.0)
    return WorkerSettings(**{**values, **overrides})


@dataclass
class FakeRun:
    """A run requested (through `api`, the API's RunService) and started for "w1"; `runs` is the worker's
    RunService on the same in-memory store."""
    device: FakeDevice
    run_id: str
    runs: RunService
    api: RunService
    settings: WorkerSettings
    artifacts: InMemoryArtifacts = field(default_factory=InMemoryArtifacts)

    def agent(self, worker: str = "w1", open_device: DeviceOpener | None = None, **options: Any) -> AgentRun:
        opener = open_device or (lambda app, caps, settings: self.device.open_session(caps))
        return AgentRun(self.runs, self.artifacts, self.settings, self.run_id, {"appium:udid": "fake"},
                        worker_id=worker, open_device=opener, **options)

    def execute(self, worker: str = "w1", **options: Any) -> list[WireEvent]:
        self.agent(worker, **options).execute()
        return self.events()

    def events(self) -> list[WireEvent]:
        return self.api.run_events(self.run_id)


def fake_run(device: FakeDevice, *, max_steps: int = 20, goal: str | None = None,
             inputs: dict[str, str] | None = None, permissions: str = "grant", avoid: tuple[str, ...] = (),
             capabilities: dict[str, Any] | None = None, memory: str = "cold", **settings: Any) -> FakeRun:
    runs = RunService(env=POPO)

    class SameStore(RunService):  # another process on the same database, as the API is
        name = RunService.name

        def construct_recorder(self):  # type: ignore[no-untyped-def]
            return runs.recorder

    api = SameStore(env=POPO)
    run = api.request_run(RunRequest(apk_path="/apps/shop.apk", appium_server_url="http://fake", goal=goal,
                                     package_name=device.package, app_activity=device.pages[device.start].activity,
                                     max_steps=max_steps, inputs=inputs or {}, permissions=permissions,
                                     avoid=avoid, capabilities=capabilities or {}, memory=memory))
    run_id = str(ULID.from_uuid(run.id))
    api.start_run(run_id, "w1", 60)
    return FakeRun(device, run_id, runs, api, worker_settings(**settings))
