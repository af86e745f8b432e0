"""The agent's node graph (`AgentRun`) run directly, without Ray: the real Appium
server with the simulator driver, a real PostgreSQL event store and artifact store.

Each test requests a run, starts it for worker "w1" and executes the agent in
the test (or in a thread, when the test cancels it), then reads what a client
would read: the run's wire events and the run's final state.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from ulid import ULID

from agent.agent_run import AgentRun
from config.settings import Settings
from domain.application import RunRequest, RunService
from domain.exploration import parse_screen
from domain.run import Run
from storage.artifacts import ArtifactStore
from tests.fixtures.appium import sample_app
from tests.run_events import RunEvents, assert_one_terminal, assert_setup_failed, flatten

SIMULATOR_CAPS = {"appium:automationName": "Simulator"}
WORKER = "w1"
NOTES = ("com.example.notes", ".ConsentActivity")
SHOP = ("com.example.shop", ".ShopHomeActivity")
LOGIN = {"username": "alice", "password": "secret"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEADLINE_SECONDS = 60.0
POLL_SECONDS = 0.02


# Harness ---------------------------------------------------------------------------------------


@dataclass
class Finished(RunEvents):
    run_id: str
    run: Run

    @property
    def final(self) -> Run:
        return self.run


@dataclass
class Harness:
    runs: RunService
    artifacts: ArtifactStore
    database_url: str
    pg_env: dict[str, str]
    appium_server: str
    services: list[RunService] = field(default_factory=list)

    def request(self, apk_path: str, app: tuple[str, str], *, max_steps: int = 10, goal: str | None = None,
                inputs: dict[str, str] | None = None, server: str | None = None) -> str:
        package, activity = app
        run = self.runs.request_run(RunRequest(
            apk_path=apk_path, appium_server_url=server or self.appium_server, package_name=package,
            app_activity=activity, max_steps=max_steps, goal=goal, inputs=inputs or {}))
        run_id = str(ULID.from_uuid(run.id))
        self.runs.start_run(run_id, WORKER, 60)
        return run_id

    def agent(self, run_id: str, *, policy: str = "dfs", seed: int = 0, no_progress_steps: int = 30,
              run_timeout_seconds: float = 300.0) -> AgentRun:
        settings = Settings(database_url=self.database_url, no_progress_steps=no_progress_steps,
                            run_timeout_seconds=run_timeout_seconds).worker_settings()
        return AgentRun(self.runs, self.artifacts, settings, run_id, dict(SIMULATOR_CAPS), worker_id=WORKER,
                        policy=policy, seed=seed)

    def finished(self, run_id: str) -> Finished:
        return Finished(self.runs.run_events(run_id), run_id, self.runs.get_run(run_id))

    def explore(self, apk_path: str, app: tuple[str, str], *, policy: str = "dfs", seed: int = 0,
                no_progress_steps: int = 30, run_timeout_seconds: float = 300.0, **request: Any) -> Finished:
        run_id = self.request(apk_path, app, **request)
        self.agent(run_id, policy=policy, seed=seed, no_progress_steps=no_progress_steps,
                   run_timeout_seconds=run_timeout_seconds).execute()
        return self.finished(run_id)

    def observer(self) -> RunService:
        """Another RunService on the same store, as the API has: reads and cancels from outside the agent."""
        self.services.append(RunService(env=self.pg_env))
        return self.services[-1]


@pytest.fixture
def h(pg_env: dict[str, str], database_url: str, appium_server: str) -> Any:
    harness = Harness(RunService(env=pg_env), ArtifactStore(database_url), database_url, pg_env, appium_server)
    yield harness
    harness.artifacts.close()
    for service in (harness.runs, *harness.services):
        service.close()


def wait_for(condition: Callable[[], Any], what: str, deadline_seconds: float = DEADLINE_SECONDS) -> Any:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"timed out waiting for {what}")


class AgentThread(threading.Thread):
    """Executes the agent, as a device worker does, while the test acts from outside."""

    def __init__(self, agent: AgentRun) -> None:
        super().__init__(name="agent", daemon=True)
        self.agent, self.error = agent, None
        self.start()

    def run(self) -> None:
        try:
            self.agent.execute()
        except BaseException as error:
            self.error = error

    def finish(self) -> None:
        self.join(DEADLINE_SECONDS)
        assert not self.is_alive(), "the agent did not stop"
        assert self.error is None, repr(self.error)


# Small app models ----------------------------------------------------------------------------------


def write_app(tmp_path: Path, package: str, start: str, screens: dict[str, Any]) -> str:
    path = tmp_path / f"{package.rsplit('.', 1)[-1]}.json"
    path.write_text(json.dumps({"package": package, "start": start, "screens": screens}))
    return str(path)


def button(element_id: str, text: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"id": element_id, "class": "android.widget.Button", "text": text, "onClick": list(rules)}


def label(element_id: str, text: str) -> dict[str, Any]:
    return {"id": element_id, "class": "android.widget.TextView", "text": text}


# Stop reasons ----------------------------------------------------------------------------------------


def test_an_app_with_nothing_left_to_try_is_explored_dead_ends_included(h, tmp_path):
    apk = write_app(tmp_path, "com.example.small", "home", {
        "home": {"activity": ".HomeActivity", "back": "home",  # back stays here: the app is never left
                 "elements": [button("first", "First", {"goto": "first"}),
                              button("second", "Second", {"goto": "second"})]},
        "first": {"activity": ".FirstActivity", "elements": [label("text", "A dead end: only back leads out")]},
        "second": {"activity": ".SecondActivity", "elements": [label("text", "Another dead end")]},
    })

    finished = h.explore(apk, ("com.example.small", ".HomeActivity"), max_steps=30)

    assert_one_terminal(finished, "run.completed", "completed", "explored")
    assert sorted(finished.discovered().values()) == [".FirstActivity", ".HomeActivity", ".SecondActivity"]
    home = finished.screen_of(".HomeActivity")
    transitions = {(t["fromScreen"], t["action"]["action_id"], t["toScreen"])
                   for t in finished.named("graph.transition.discovered")}
    for leaf in (".FirstActivity", ".SecondActivity"):  # the agent backed out of each dead end
        assert (finished.screen_of(leaf), "back", home) in transitions
    choose = [c for c in finished.calls() if c.name == "ChooseAction"][-1]
    assert choose.detail["stopReason"] == "explored" and choose.step == finished.metrics["steps"] < 30
    assert finished.metrics["restarts"] == 0


def test_a_goal_deep_in_the_app_is_reached_behind_the_login(h):
    finished = h.explore(sample_app("notes"), NOTES, max_steps=60, goal='Open the "Apache License 2.0" page',
                         inputs=LOGIN)

    assert_one_terminal(finished, "run.completed", "completed", "goal_reached")
    last_seen = finished.named("agent.screen.perceived")[-1]
    assert last_seen["activity"] == ".LicensesActivity"
    source, _ = h.artifacts.get(last_seen["artifacts"]["pageSource"])
    assert b"Apache License 2.0" in source
    perceive = [c for c in finished.calls() if c.name == "Perceive"][-1]
    assert (perceive.outcome, perceive.detail["stopReason"]) == ("SUCCESS", "goal_reached")
    assert finished.metrics["steps"] == perceive.step < 60
    assert len(finished.actions()) == perceive.step - 1  # no action on the goal's screen


def test_cancel_after_some_steps_stops_the_run_at_the_next_node_boundary(h):
    run_id = h.request(sample_app("shop"), SHOP, max_steps=60)
    api = h.observer()
    agent = h.agent(run_id)
    starts = watch_node_starts(agent)
    thread = AgentThread(agent)

    wait_for(lambda: any(e.name == "agent.node.started" and e.data["stepOrdinal"] >= 2 for e in api.run_events(run_id)),
             "step 2")
    asked = time.monotonic()  # a node that started before this cannot have seen the cancel
    api.cancel_run(run_id)
    stored = time.monotonic()  # from here on, every node boundary that looks sees the cancel
    thread.finish()

    finished = h.finished(run_id)
    assert_one_terminal(finished, "run.canceled", "canceled", "user_cancelled")
    assert len(finished.named("run.cancel_requested")) == 1 and not finished.named("run.completed")
    # At most the node that looked just before the cancel was stored, and the next one, which stops.
    later = [(step, name) for at, name, step in starts if at > stored and name != "Stop"]
    assert len(later) <= 2, later
    stopped_by = [c for c in flatten(finished.calls()) if c.name != "Stop"][-1]  # the last node to start
    assert (stopped_by.outcome, stopped_by.detail.get("reason") or stopped_by.detail.get("stopReason")) in {
        ("SKIPPED", "cancel requested"), ("FAILURE", "user_cancelled")}, stopped_by  # or a wait it interrupted
    if stopped_by.outcome == "SKIPPED":  # it saw the cancel, which may be before cancel_run returned (`stored`)
        since_asked = [(step, name) for at, name, step in starts if at > asked and name != "Stop"]
        assert since_asked[-1] == (stopped_by.step, stopped_by.name)
    assert 2 <= finished.run.last_step < 60


def watch_node_starts(agent: AgentRun) -> list[tuple[float, str, int]]:
    """When each node started, by the clock (it changes nothing): the events are saved in batches,
    so neither their order nor their timestamps tell when a node ran once a save was retried."""
    starts: list[tuple[float, str, int]] = []
    start = agent.node.start

    def timed(name: str, step: int) -> None:
        starts.append((time.monotonic(), name, step))
        start(name, step)

    agent.node.start = timed
    return starts


class Ticker:
    """Other clients on the agent's session, typing into a field non-stop: the screen never settles
    (like an animation or a clock), so a wait for idle keeps polling until its bound. Several typists,
    each on a kept-alive connection, so the screen changes even between two back-to-back page sources."""

    def __init__(self, server: str, session_id: str, resource_id: str, typists: int = 4) -> None:
        self.address = urllib.parse.urlsplit(server)
        self.session, self.resource_id = f"/session/{session_id}", resource_id
        self.stopped, self.lock, self.ticks = threading.Event(), threading.Lock(), 0
        self.threads = [threading.Thread(target=self._type, name=f"typist-{i}", daemon=True) for i in range(typists)]

    def __enter__(self) -> "Ticker":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(10)

    def _tick(self) -> int:
        with self.lock:
            self.ticks += 1
            return self.ticks

    def _type(self) -> None:
        connection = http.client.HTTPConnection(self.address.hostname, self.address.port, timeout=10)
        element = None
        while not self.stopped.is_set():
            try:
                if element is None:
                    found = self._post(connection, "/element", {"using": "id", "value": self.resource_id})
                    element = next(iter(found["value"].values()))
                reply = self._post(connection, f"/element/{element}/value", {"text": f"{self._tick():06d}"})
                if reply.get("value") is not None:  # an error: the field is gone (another screen) or the session
                    element = None
                    self.stopped.wait(POLL_SECONDS)
            except (OSError, http.client.HTTPException, ValueError, AttributeError, StopIteration):
                connection.close()
                element = None
                self.stopped.wait(POLL_SECONDS)
        connection.close()

    def _post(self, connection: http.client.HTTPConnection, path: str, body: dict[str, Any]) -> dict[str, Any]:
        connection.request("POST", self.session + path, json.dumps(body), {"Content-Type": "application/json"})
        return json.loads(connection.getresponse().read())


class WaitWatch:
    """Watches the agent's waits for idle (it changes nothing): whether one is polling a changing
    screen right now, and how each ended."""

    def __init__(self, agent: AgentRun) -> None:
        self.agent, self.lock = agent, threading.Lock()
        self.polls, self.inside, self.step, self.ended = 0, False, -1, []
        observer = agent.observer
        wait_idle, page_source = observer.wait_idle, observer.device.page_source

        def watched_wait() -> Any:
            with self.lock:
                self.polls, self.inside, self.step = 0, True, agent.figures.steps
            try:
                screen = wait_idle()
            except BaseException as error:
                stop = getattr(error, "stop", None)
                self.ended.append((self.step, type(error).__name__, getattr(stop, "stop_reason", "")))
                raise
            finally:
                with self.lock:
                    self.inside = False
            self.ended.append((self.step, "returned", ""))
            return screen

        def counted_source() -> str:
            with self.lock:
                self.polls += 1
            return page_source()

        observer.wait_idle, observer.device.page_source = watched_wait, counted_source

    def polling(self, in_step: bool = False) -> bool:
        """Inside a wait past its first two page sources: they differed, so it polls on."""
        with self.lock:
            return self.inside and self.polls >= 3 and (self.step >= 1 or not in_step)


def ticking_app(tmp_path: Path) -> tuple[str, tuple[str, str]]:
    return write_app(tmp_path, "com.example.ticking", "clock", {
        "clock": {"activity": ".ClockActivity", "back": "clock", "elements": [
            {"id": "clock", "class": "android.widget.EditText", "hint": "Time", "editable": True},
            *(button(f"b{i}", f"Button {i}") for i in range(10))]},
    }), ("com.example.ticking", ".ClockActivity")


def watched_agent(h: Harness, run_id: str) -> tuple[AgentRun, AgentThread, WaitWatch]:
    agent = h.agent(run_id)
    thread = AgentThread(agent)
    wait_for(lambda: agent.observer, "the agent's Appium session")
    return agent, thread, WaitWatch(agent)


def test_cancel_interrupts_a_wait_for_a_screen_that_never_settles(h, tmp_path):
    apk, app = ticking_app(tmp_path)
    run_id = h.request(apk, app, max_steps=60)
    api = h.observer()
    agent, thread, watch = watched_agent(h, run_id)

    with Ticker(h.appium_server, agent.device.driver.session_id, f"{app[0]}:id/clock"):
        wait_for(watch.polling, "a wait polling a screen that keeps changing")
        api.cancel_run(run_id)
        thread.finish()

    finished = h.finished(run_id)
    assert_one_terminal(finished, "run.canceled", "canceled", "user_cancelled")
    # the wait under way when the cancel came ended by the cancel, not by running out its polls
    assert watch.ended[-1] == (watch.step, "Interrupted", "user_cancelled"), watch.ended
    interrupted = finished.calls()[-2]
    assert interrupted.step == watch.step and interrupted.name in {"WaitIdle", "Verify"}
    assert (interrupted.outcome, interrupted.detail.get("stopReason")) == ("FAILURE", "user_cancelled")


def test_what_a_step_did_is_visible_while_the_agent_waits_for_the_screen(h, tmp_path):
    apk, app = ticking_app(tmp_path)
    run_id = h.request(apk, app, max_steps=60)
    api = h.observer()
    agent, thread, watch = watched_agent(h, run_id)

    try:
        with Ticker(h.appium_server, agent.device.driver.session_id, f"{app[0]}:id/clock"):
            wait_for(lambda: watch.polling(in_step=True), "a step's wait polling a screen that keeps changing")
            step = watch.step
            visible = api.run_events(run_id)
            still_waiting = watch.polling(in_step=True) and watch.step == step
    finally:
        api.cancel_run(run_id)
        thread.finish()

    assert still_waiting, "the wait ended while the events were read: the check proves nothing"
    acted = [e.data for e in visible if e.name == "agent.action.performed" and e.data["stepOrdinal"] == step]
    assert acted, f"step {step} acted, then waits for the screen to settle, and clients see nothing of it"


# Setup failures ------------------------------------------------------------------------------------


def test_a_missing_app_model_fails_the_run_with_app_not_found(h, tmp_path):
    missing = str(tmp_path / "missing.json")

    finished = h.explore(missing, NOTES, max_steps=5)

    assert_setup_failed(finished, "app_not_found", "missing.json")


def test_an_activity_the_app_does_not_have_fails_the_run_with_app_launch_failed(h):
    finished = h.explore(sample_app("notes"), ("com.example.notes", ".NoSuchActivity"), max_steps=5)

    assert_setup_failed(finished, "app_launch_failed", ".NoSuchActivity")


def test_an_unreachable_appium_server_fails_the_run_with_device_unavailable(h, unreachable_appium_url):
    finished = h.explore(sample_app("notes"), NOTES, max_steps=5, server=unreachable_appium_url)

    assert_setup_failed(finished, "device_unavailable", unreachable_appium_url)


# Inputs ------------------------------------------------------------------------------------------


def test_inputs_log_in_and_open_the_screens_behind_the_login(h):
    with_inputs = h.explore(sample_app("notes"), NOTES, max_steps=12, inputs=LOGIN)
    without = h.explore(sample_app("notes"), NOTES, max_steps=30)

    typed = [a["action"]["action_id"] for a in with_inputs.named("agent.action.performed")
             if a["action"]["kind"] == "type"]
    assert typed[:2] == ["type:id/username", "type:id/password"]
    home = [p for p in with_inputs.named("agent.screen.perceived") if p["activity"] == ".HomeActivity"]
    assert home, with_inputs.discovered()
    source, media_type = h.artifacts.get(home[0]["artifacts"]["pageSource"])
    assert media_type == "application/xml" and b"Welcome, alice!" in source  # the typed name, shown back
    login_sources = [h.artifacts.get(p["artifacts"]["pageSource"])[0].decode()
                     for p in with_inputs.named("agent.screen.perceived") if p["activity"] == ".LoginActivity"]
    assert any('text="alice"' in source for source in login_sources)  # typed into the field
    assert not any("secret" in source for source in login_sources)  # a password field shows dots

    behind_login = {".HomeActivity", ".NoteActivity", ".SettingsActivity"}
    assert behind_login & set(with_inputs.discovered().values())
    assert not behind_login & set(without.discovered().values())
    assert set(without.discovered().values()) <= {".ConsentActivity", ".LoginActivity", ".ForgotPasswordActivity"}
    assert without.run.stop_reason == "explored"


def test_a_password_from_inputs_is_typed_but_never_shown_in_events(h):
    finished = h.explore(sample_app("notes"), NOTES, max_steps=5, inputs=LOGIN)

    assert ".HomeActivity" in finished.discovered().values()  # so the password was typed
    (typed,) = [a["action"] for a in finished.named("agent.action.performed")
                if a["action"]["action_id"] == "type:id/password"]
    assert "secret" not in typed["label"]
    shown = [(e.seq, e.name) for e in finished.events if LOGIN["password"] in json.dumps(e.data)]
    assert shown == [], "the password from inputs is in events that every stream client sees"


# Artifacts and the graph -----------------------------------------------------------------------------


def test_every_perceived_screen_names_its_page_source_and_screenshot(h):
    finished = h.explore(sample_app("notes"), NOTES, max_steps=6, inputs=LOGIN)

    perceived = finished.named("agent.screen.perceived")
    assert len(perceived) == 6
    for seen in perceived:
        source, source_type = h.artifacts.get(seen["artifacts"]["pageSource"])
        png, png_type = h.artifacts.get(seen["artifacts"]["screenshot"])
        assert (source_type, png_type) == ("application/xml", "image/png")
        assert png.startswith(PNG_SIGNATURE) and len(png) > len(PNG_SIGNATURE)
        assert ElementTree.fromstring(source).tag == "hierarchy"
        # the stored page source is the one the screen's identity was computed from
        screen = parse_screen(source, activity=seen["activity"], package=seen["package"])
        assert screen.screen_id == seen["screenId"]
        assert screen.package == "com.example.notes" and len(screen.elements) == seen["elementCount"]
    assert len({p["artifacts"]["screenshot"] for p in perceived}) > 1
    assert h.artifacts.get("0" * 32) is None
