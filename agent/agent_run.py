"""The agent's node graph for one run: set up the device, explore step by step, stop.

Setup: EnsureDevice, ProvisionApp, LaunchOrAttach, WaitIdle (step 0).
Loop, one stepOrdinal each: Perceive, EnumerateActions, ChooseAction, Act, Verify,
DetectProgress, ShouldContinue; RestartApp when the app crashed or went to the background,
ReturnToApp (inside Verify) when an action opened another app, RecoverFromError after a transient
Appium error. Permission dialogs are answered wherever the agent looks (agent/surroundings.py). Stop ends every run with
exactly one terminal event.

The device and the artifact store are parameters: the worker gives an Appium session and
PostgreSQL, a unit test an in-memory device (tests/unit/fakes.py) and a dict.
"""

from __future__ import annotations

from typing import Any, Callable

from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from psycopg import OperationalError as PsycopgOperationalError
from psycopg_pool import PoolTimeout

from adapters.device import (
    APP_STATE_FOREGROUND, AppLaunchFailed, AppNotFound, DeviceError, DevicePort, DeviceUnavailable, SessionLost,
)
from agent.context import ArtifactSink, RunContext
from agent.figures import RunFigures
from agent.findings_watch import FindingsWatch
from agent.memory import AppMemory, FixedCheck, known_from_memory, recall
from agent.node_runner import NodeRunner
from agent.observer import Observer
from agent.outcome import Interrupted, Stop
from agent.policies import build_policy
from agent.recovery import MAX_FAILED_RECOVERIES
from agent.reproduction import Reproduction
from agent.session import SessionDevice
from agent.step import ExplorationStep
from agent.surroundings import Surroundings
from config.worker_settings import WorkerSettings
from domain.app_map import Recall
from domain.application import RunService
from domain.exploration import ExplorationHistory, ExplorationPolicy, ProgressTracker, Screen
from domain.exploration.avoid import parse_avoid
from domain.exploration.offer import ElementPattern
from domain.exploration.system import PERMISSION_PACKAGES
from domain.findings.journal import FindingsJournal
from domain.run import LeaseLost, Run, RunAlreadyFinished
from domain.sessions import device_and_run_capabilities

# The event store cannot be reached: nothing can be recorded, so nothing is decided either.
STORE_UNAVAILABLE = (StoreOperationalError, StoreInterfaceError, PsycopgOperationalError, PoolTimeout)
SETUP_ERRORS = {DeviceUnavailable: "device_unavailable", AppNotFound: "app_not_found", AppLaunchFailed: "app_launch_failed"}
# (app, device capabilities, settings) -> an open device session
DeviceOpener = Callable[[dict[str, str], dict[str, Any], WorkerSettings], DevicePort]


def avoid_patterns(patterns: tuple[str, ...]) -> tuple[ElementPattern, ...]:
    """The run's `avoid`, parsed (POST /run refused bad ones already)."""
    return tuple(parse_avoid(patterns)) if patterns else ()


def open_appium_device(app: dict[str, str], device_caps: dict[str, Any], settings: WorkerSettings) -> DevicePort:
    from adapters.appium import open_device  # Appium's client only where a real device is driven

    return open_device(app, device_caps, settings.appium_timeout_seconds, settings.appium_session_timeout_seconds,
                       settings.idle_timeout_ms)


class AgentRun:
    """Runs one run that this worker has started; ends it with one terminal event."""

    def __init__(self, runs: RunService, artifacts: ArtifactSink, settings: WorkerSettings, run_id: str,
                 device_caps: dict[str, Any], worker_id: str = "agent", policy: str | None = None,
                 seed: int = 0, open_device: DeviceOpener = open_appium_device, memory: AppMemory | None = None) -> None:
        """`policy` overrides the run's own (benchmarks compare policies on one run request); `memory` is the
        app's map, which a warm run starts from."""
        self.runs, self.artifacts, self.settings, self.run_id = runs, artifacts, settings, run_id
        self.device_caps, self.worker_id, self.open_device = device_caps, worker_id, open_device
        run = runs.get_run(run_id)
        self.app, self.goal, self.max_steps, self.inputs = run.app_config, run.goal, run.max_steps, run.inputs
        self.permissions, self.avoid = run.permissions, avoid_patterns(run.avoid)
        # The device's own capabilities, then the run's extra ones, for every session the run opens.
        self.session_caps = device_and_run_capabilities(device_caps, getattr(run, "capabilities", None))
        self.node = NodeRunner(runs, run_id, worker_id)
        self.progress = ProgressTracker(settings.no_progress_steps)
        self.figures = RunFigures(steps=run.last_step)
        self.policy_name, self.seed, self.version = policy or run.policy, seed, run.version
        self.memory = memory if run.memory == "warm" else None
        self.recalled: Recall | None = None
        self.policy: ExplorationPolicy | None = None
        self.continued = False
        self.device: SessionDevice | None = None
        self.observer: Observer | None = None
        self.surroundings: Surroundings | None = None

    def execute(self) -> None:
        try:
            try:
                stop = self._run()
            except Interrupted as interrupt:
                stop = interrupt.stop
            except (LeaseLost, *STORE_UNAVAILABLE):
                raise  # the run goes on elsewhere, or once the store is back: the worker lets its lease lapse
            except Exception as error:  # a bug must still end the run, with its cause
                stop = Stop.failed("internal_error", f"{type(error).__name__}: {error}")
            self.stop(stop)
        finally:
            if self.device is not None:
                self.device.quit()
            if close := getattr(self.policy, "close", None):  # the llm policy's HTTP connections
                close()

    def _run(self) -> Stop:
        self.prepare_policy()
        screen = self.setup()
        if isinstance(screen, Stop):
            return screen
        self.node.flush()
        context = self.context()
        findings = FindingsWatch(context)
        stop = self.explore(ExplorationStep(context, findings), screen)
        if stop.outcome == "completed":  # not a failed or cancelled run; a cancel here ends it instead
            reproduction = Reproduction(context, findings)
            reproduction.run()
            if self.recalled is not None and self.recalled.runs and not self.recalled.same_version:
                FixedCheck(context, reproduction, self.memory.older_findings(self.run_id)).run()
        return stop

    def context(self) -> RunContext:
        return RunContext(
            run_id=self.run_id, worker_id=self.worker_id, udid=self.device_caps.get("appium:udid", self.worker_id),
            package=self.app["packageName"], goal=self.goal, max_steps=self.max_steps, inputs=self.inputs,
            settings=self.settings, device=self.device, observer=self.observer, node=self.node,
            artifacts=self.artifacts, policy=self.policy, journal=self.journal, figures=self.figures,
            progress=self.progress, surroundings=self.surroundings, avoid=self.avoid)

    def prepare_policy(self) -> None:
        """Built here, not in __init__: a plug-in that fails to load fails the run with its cause."""
        events = self.runs.domain_events(self.run_id) if self.version > 2 else []
        self.restore_counts(events)
        self.policy = build_policy(self.policy_name, seed=self.seed, package=self.app["packageName"], goal=self.goal,
                                   settings=self.settings, llm_calls_made=self.figures.llm_calls)
        self.continued = self.continue_from_history(events)
        self.journal = FindingsJournal.from_events(events)
        if self.memory is not None:
            self.recall_memory(events)

    def recall_memory(self, events: list[Run.Event]) -> None:
        """A warm run starts from the app's map; it says once what it recalled (a resumed one recalls again,
        silently: its own events hold the rest)."""
        self.recalled, fields = recall(self.memory, self.run_id, self.app["packageName"], self.policy)
        if not any(isinstance(event, Run.MemoryRecalled) for event in events):
            self.node.record(Run.recall_memory, step_ordinal=self.figures.steps, **fields)

    def continue_from_history(self, events: list[Run.Event]) -> bool:
        """A run resumed after a pause, or taken over from a lost worker, goes on where it
        stopped: its step count, discoveries and the policy's knowledge come from its events.
        True when it had explored before (a fresh run has only its queued and started events)."""
        if not events:
            return False
        history = ExplorationHistory.from_events(events)
        self.policy.restore(history)
        self.figures.screens.update(history.discovered)
        self.figures.activities.update(history.discovered.values())
        self.figures.transitions.update(history.transitions)
        self.figures.exits.update(history.left)
        # The steps without anything new go on counting too (NO_PROGRESS_STEPS).
        self.progress.steps_without_progress = max(0, self.figures.steps - history.last_progress_step)
        return any(isinstance(event, Run.NodeStarted) for event in events)

    def restore_counts(self, events: list[Run.Event]) -> None:
        """The model requests and tokens a resumed run already spent count on: one budget per run; so do
        the other apps it opened and the dialogs it answered."""
        for event in events:
            if isinstance(event, Run.LlmCalled):
                self.figures.count_llm_call(event.cached, event.reason, event.prompt_tokens, event.completion_tokens)
            self.figures.app_left += isinstance(event, Run.AppLeft)
            self.figures.system_dialogs += isinstance(event, Run.SystemDialogAnswered)

    # Setup: step 0, or for a continued run the step it stopped at, its nodes marked "resumed"

    def setup(self) -> Screen | Stop:
        """A session lost while setting up (its server died) is set up again, MAX_FAILED_RECOVERIES times."""
        step, mark = self.figures.steps, ({"resumed": True} if self.continued else {})
        for _ in range(MAX_FAILED_RECOVERIES):
            try:
                self.node("EnsureDevice", step, self.ensure_device, lambda _: mark)
                self.node("ProvisionApp", step, self.provision_app, lambda _: mark)
                self.node("LaunchOrAttach", step, self.launch_or_attach, lambda _: mark)
                screen, _ = self.node("WaitIdle", step, lambda: self.surroundings.look(step),
                                      lambda look: {"screenId": look[0].screen_id, **mark})
            except SessionLost as error:
                lost = error
                continue
            except DeviceError as error:
                return Stop.failed(SETUP_ERRORS.get(type(error), "device_error"), str(error))
            self.journal.launched(screen.screen_id)
            return screen
        return Stop.failed("device_unavailable", str(lost))

    def ensure_device(self) -> None:
        if self.device is not None:
            self.device.quit()  # what is left of a session lost while setting up
        self.device = SessionDevice(lambda: self.open_device(self.app, self.session_caps, self.settings))
        settings = self.settings
        self.observer = Observer(self.device, self.app["packageName"], self.node.cancel_requested, self.node.flush,
                                 settings.settle_seconds, settings.loading_seconds, self.figures.waited)
        self.surroundings = Surroundings(self.device, self.observer, self.node, self.figures, self.permissions)

    def provision_app(self) -> None:
        if not self.device.is_app_installed(self.app["packageName"]):
            self.device.install_app(self.app["apkPath"])

    def launch_or_attach(self) -> None:
        package = self.app["packageName"]
        if self.device.app_state(package) != APP_STATE_FOREGROUND:
            self.device.activate_app(package)
        if self.device.current_package() not in (package, *PERMISSION_PACKAGES):  # a dialog at launch: answered next
            raise AppLaunchFailed(f"{package} is not in the foreground after launch")

    # The loop

    def explore(self, step: ExplorationStep, screen: Screen) -> Stop:
        while True:
            if self.figures.steps >= self.max_steps:  # a continued run that had used its budget
                return Stop.completed("max_steps")
            self.figures.steps += 1
            after = step.run_step(self.figures.steps, screen)
            if isinstance(after, Stop):
                return after
            screen = after

    # Stop

    def stop(self, stop: Stop) -> None:
        step, worker, metrics = max(self.figures.steps, self.node.last_step), self.worker_id, self.figures.as_dict()
        if self.recalled is not None:
            metrics["knownFromMemory"] = known_from_memory(self.recalled, self.figures.screens, self.app["packageName"])
        ends = {
            "completed": lambda run: run.complete(stop.stop_reason, metrics, worker, labels=self.figures.labels()),
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
