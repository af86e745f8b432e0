"""The agent's node graph for one run: set up the device, explore step by step, stop.

Setup: EnsureDevice, ProvisionApp, LaunchOrAttach, WaitIdle (step 0).
Loop, one stepOrdinal each: Perceive, EnumerateActions, ChooseAction, Act, Verify,
DetectProgress, ShouldContinue; RestartApp when the app left the foreground,
RecoverFromError after a transient Appium error. Stop ends every run with
exactly one terminal event.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from psycopg import OperationalError as PsycopgOperationalError
from psycopg_pool import PoolTimeout

from actors.appium import (
    APP_STATE_FOREGROUND,
    AppLaunchFailed,
    AppNotFound,
    Device,
    DeviceError,
    DeviceUnavailable,
    server_status,
)
from actors.exploration import ExplorationStep
from actors.findings import FindingsWatch
from actors.nodes import NodeRunner, RunStopped
from actors.observer import Observer
from actors.reproduction import Reproduction
from actors.policies import build_policy
from config.worker_settings import WorkerSettings
from domain.application import RunService
from domain.exploration import ExplorationHistory, ExplorationPolicy, ProgressTracker, Screen
from domain.findings.journal import FindingsJournal
from domain.run import LeaseLost, RunAlreadyFinished
from storage.artifacts import ArtifactStore

# The event store cannot be reached: nothing can be recorded, so nothing is decided either.
STORE_UNAVAILABLE = (StoreOperationalError, StoreInterfaceError, PsycopgOperationalError, PoolTimeout)
SETUP_ERRORS = {DeviceUnavailable: "device_unavailable", AppNotFound: "app_not_found", AppLaunchFailed: "app_launch_failed"}


@dataclass
class Metrics:
    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    restarts: int = 0
    errors: int = 0
    screens: set[str] = field(default_factory=set)
    activities: set[str] = field(default_factory=set)
    transitions: set[tuple[str, str, str]] = field(default_factory=set)
    llm_calls: int = 0  # model requests sent (cached answers are not requests)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def count_llm_call(self, cached: bool, reason: str | None, prompt_tokens: int, completion_tokens: int) -> None:
        self.llm_calls += not cached and reason != "budget"  # neither sent a request
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens

    def as_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "screensDiscovered": len(self.screens),
                "activitiesDiscovered": len(self.activities), "transitions": len(self.transitions),
                "restarts": self.restarts, "errors": self.errors,
                "llmCalls": self.llm_calls, "promptTokens": self.prompt_tokens,
                "completionTokens": self.completion_tokens,
                "durationMs": round((time.monotonic() - self.started) * 1000)}


class AgentRun:
    """Runs one run that this worker has started; ends it with one terminal event."""

    def __init__(self, runs: RunService, artifacts: ArtifactStore, settings: WorkerSettings, run_id: str,
                 device_caps: dict[str, Any], worker_id: str = "agent", policy: str | None = None,
                 seed: int = 0) -> None:
        """`policy` overrides the run's own (benchmarks compare policies on one run request)."""
        self.runs, self.artifacts, self.settings, self.run_id = runs, artifacts, settings, run_id
        self.device_caps, self.worker_id = device_caps, worker_id
        run = runs.get_run(run_id)
        self.app, self.goal, self.max_steps, self.inputs = run.app_config, run.goal, run.max_steps, run.inputs
        self.node = NodeRunner(runs, run_id, worker_id)
        self.progress = ProgressTracker(settings.no_progress_steps)
        self.metrics = Metrics(steps=run.last_step)
        self.policy_name, self.seed, self.version = policy or run.policy, seed, run.version
        self.policy: ExplorationPolicy | None = None
        self.continued = False
        self.device: Device | None = None
        self.observer: Observer | None = None

    def execute(self) -> None:
        try:
            self.prepare_policy()
            screen = self.setup()
            self.node.flush()
            try:
                self.explore(screen)
            except RunStopped as stop:
                if stop.outcome == "completed":  # not a failed or cancelled run; a cancel here ends it instead
                    Reproduction(self).run()
                raise
        except RunStopped as stop:
            self.stop(stop)
        except (LeaseLost, *STORE_UNAVAILABLE):
            raise  # the run goes on elsewhere, or once the store is back: the worker lets its lease lapse
        except Exception as error:  # noqa: BLE001 - a bug must still end the run, with its cause
            self.stop(RunStopped("failed", "internal_error", f"{type(error).__name__}: {error}"))
        finally:
            if self.device is not None:
                self.device.quit()
            if close := getattr(self.policy, "close", None):  # the llm policy's HTTP connections
                close()

    def prepare_policy(self) -> None:
        """Built here, not in __init__: a plug-in that fails to load fails the run with its cause."""
        events = self.runs.run_events(self.run_id) if self.version > 2 else []
        self.restore_llm_usage(events)
        self.policy = build_policy(self.policy_name, seed=self.seed, package=self.app["packageName"], goal=self.goal,
                                   settings=self.settings, llm_calls_made=self.metrics.llm_calls)
        self.continued = self.continue_from_history(events)
        self.journal = FindingsJournal.from_events(events)
        self.findings = FindingsWatch(self, self.journal)

    def continue_from_history(self, events: list) -> bool:
        """A run resumed after a pause, or taken over from a lost worker, goes on where it
        stopped: its step count, discoveries and the policy's knowledge come from its events.
        True when it had explored before (a fresh run has only its queued and started events)."""
        if not events:
            return False
        history = ExplorationHistory.from_events(events)
        self.policy.restore(history)
        self.metrics.screens.update(history.discovered)
        self.metrics.activities.update(history.discovered.values())
        self.metrics.transitions.update(history.transitions)
        # The steps without anything new go on counting too (NO_PROGRESS_STEPS).
        self.progress.steps_without_progress = max(0, self.metrics.steps - history.last_progress_step)
        return any(event.name == "agent.node.started" for event in events)

    def restore_llm_usage(self, events: list) -> None:
        """The model requests and tokens a resumed run already spent count on: one budget per run."""
        for event in events:
            if event.name == "agent.llm.called":
                data = event.data
                self.metrics.count_llm_call(data["cached"], data["reason"], data["promptTokens"],
                                            data["completionTokens"])

    # Setup: step 0, or for a continued run the step it stopped at, its nodes marked "resumed"

    def setup(self) -> Screen:
        step, mark = self.metrics.steps, ({"resumed": True} if self.continued else {})
        try:
            self.node("EnsureDevice", step, self.ensure_device, lambda _: mark)
            self.node("ProvisionApp", step, self.provision_app, lambda _: mark)
            self.node("LaunchOrAttach", step, self.launch_or_attach, lambda _: mark)
            screen = self.node("WaitIdle", step, self.observer.wait_idle, lambda s: {"screenId": s.screen_id, **mark})
            self.journal.launched(screen.screen_id)
            return screen
        except DeviceError as error:
            raise RunStopped("failed", SETUP_ERRORS.get(type(error), "device_error"), str(error)) from None

    def ensure_device(self) -> None:
        server = self.app["appiumServerUrl"]
        # A server that is down refuses at once; one that is slow to answer is busy starting other
        # devices' sessions (dozens at once): it gets as long as any Appium call.
        server_status(server, timeout=self.settings.appium_timeout_seconds)
        self.device = Device.open_session(server, self.app, self.settings.appium_session_timeout_seconds,
                                          self.settings.appium_timeout_seconds, self.device_caps)
        self.observer = Observer(self.device, self.app["packageName"], self.node.cancel_requested, self.node.flush)

    def provision_app(self) -> None:
        if not self.device.is_app_installed(self.app["packageName"]):
            self.device.install_app(self.app["apkPath"])

    def launch_or_attach(self) -> None:
        package = self.app["packageName"]
        if self.device.app_state(package) != APP_STATE_FOREGROUND:
            self.device.activate_app(package)
        if self.device.current_package() != package:
            raise AppLaunchFailed(f"{package} is not in the foreground after launch")

    # The loop

    def explore(self, screen: Screen) -> None:
        step = ExplorationStep(self)
        while True:
            if self.metrics.steps >= self.max_steps:  # a continued run that had used its budget
                raise RunStopped("completed", "max_steps")
            self.metrics.steps += 1
            screen = step.run(self.metrics.steps, screen)

    # Stop

    def stop(self, stop: RunStopped) -> None:
        step, worker, metrics = max(self.metrics.steps, self.node.last_step), self.worker_id, self.metrics.as_dict()
        ends = {
            "completed": lambda run: run.complete(stop.stop_reason, metrics, worker),
            "canceled": lambda run: run.confirm_cancel(worker_id=worker),
            "failed": lambda run: run.fail(stop.stop_reason, stop.error, worker),
        }
        try:
            if stop.outcome == "paused":  # not an end: no Stop node, no terminal event
                self.node.end_run(lambda run: run.confirm_pause(worker))
                return
            self.node.start("Stop", step)
            self.node.finish("Stop", step, "SUCCESS", stopReason=stop.stop_reason)
            self.node.end_run(ends[stop.outcome])
        except RunAlreadyFinished:
            pass  # another writer ended it first; exactly one terminal event stands
