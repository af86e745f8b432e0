"""The Run aggregate: one run of an exploration agent against one app.

Public commands check the rule they enforce, then call a private `@event` method
that only assigns (replay runs those bodies again).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from ulid import ULID

QUEUED, RUNNING, PAUSED = "queued", "running", "paused"
COMPLETED, FAILED, CANCELED = "completed", "failed", "canceled"
STATUSES = (QUEUED, RUNNING, PAUSED, COMPLETED, FAILED, CANCELED)  # the runs table's and GET /runs?status=
TERMINAL = frozenset({COMPLETED, FAILED, CANCELED})
OUTCOMES = frozenset({"SUCCESS", "FAILURE", "SKIPPED"})


def run_id_from(uuid: UUID) -> str:
    """The run's id as clients see it (a ULID) from the UUID the event store keys it by."""
    return str(ULID.from_uuid(uuid))


class RunError(Exception):
    """A command a run refuses in its current state."""


class RunNotFound(RunError):
    pass


class IllegalTransition(RunError):
    pass


class RunAlreadyFinished(IllegalTransition):
    pass


class LeaseLost(IllegalTransition):
    """The writer is not the worker that holds the run: another one took it over."""


class Run(Aggregate):
    @event("Requested")
    def __init__(
        self,
        id: UUID,  # the run's ULID as a UUID: one identity for API and event store
        app_config: dict[str, str],
        goal: str | None,
        max_steps: int,
        inputs: dict[str, str],
        tenant_id: str,
        project_id: str,
        policy: str = "dfs",  # runs requested before policies could be chosen crawled depth-first
        manifest: dict[str, Any] | None = None,  # an APK's facts (package, versions); older events and app models: none
        permissions: str = "grant",  # how the agent answers permission dialogs (older runs: grant, as a user would)
        avoid: tuple[str, ...] = (),  # patterns of elements never acted on (`id/<name>`, `text:<regex>`)
        capabilities: dict[str, Any] | None = None,  # extra Appium capabilities for the run's session
        memory: str = "cold",  # warm: the run starts from the app's map (DESIGN.md "Memory across runs")
        app_version: dict[str, Any] | None = None,  # {"versionCode", "versionName"} of the manifest or model
    ) -> None:
        self.app_config, self.goal, self.max_steps = app_config, goal, max_steps
        self.inputs, self.tenant_id, self.project_id = inputs, tenant_id, project_id
        self.policy, self.manifest, self.permissions, self.avoid = policy, manifest, permissions, tuple(avoid)
        self.capabilities = dict(capabilities or {})
        self.memory, self.app_version = memory, app_version
        self.drift_base: str | None = None  # a warm run on a new version: the run its drift is against
        self.fixed: list[dict[str, Any]] = []  # an older version's crashes and ANRs this run no longer has
        self.status = QUEUED
        self.worker_id: str | None = None
        self.attempt = 0
        self.last_step = 0
        self.cancel_requested_at: datetime | None = None
        self.pause_requested = False
        self.stop_reason: str | None = None

    @property
    def run_id(self) -> str:
        return run_id_from(self.id)

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def needs_device(self) -> bool:
        """Queued or running: a finished or paused run holds no device and no lease."""
        return self.status in (QUEUED, RUNNING)

    # Commands

    def start(self, worker_id: str, lease_expires_at: datetime, max_attempts: int = 3) -> None:
        """A queued run starts; a running one is taken over only by another worker, which the
        queue sends once the holder's lease expired; after `max_attempts` holders were lost it fails."""
        if self.status == RUNNING and worker_id != self.worker_id:
            if self.attempt >= max_attempts:
                self._failed("worker_lost", f"{self.attempt} workers were lost while running it")
            else:
                self._started(worker_id, lease_expires_at, self.attempt + 1)
        elif self.status == QUEUED:
            self._started(worker_id, lease_expires_at, 1)
        else:
            raise IllegalTransition(f"run is {self.status}, cannot start")

    def start_node(self, node_name: str, step_ordinal: int, worker_id: str | None = None) -> None:
        self._check_holder(worker_id, action="start a node")
        self._node_started(node_name, step_ordinal)

    def finish_node(self, node_name: str, step_ordinal: int, outcome_status: str, detail: dict[str, Any],
                    worker_id: str | None = None) -> None:
        self._check_holder(worker_id, action="finish a node")
        if outcome_status not in OUTCOMES:
            raise ValueError(f"outcome_status must be one of {sorted(OUTCOMES)}")
        self._node_finished(node_name, step_ordinal, outcome_status, detail)

    # Exploration facts and findings, recorded by the run's holder while it runs. Each checks the
    # holder, then calls its event's method below: a misspelt field fails at the call.

    def record_screen(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a screen")
        self._screen_perceived(**fields)

    def record_action(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record an action")
        self._action_performed(**fields)

    def discover_screen(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a new screen")
        self._screen_discovered(**fields)

    def discover_transition(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a new transition")
        self._transition_discovered(**fields)

    def record_system_dialog(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a system dialog")
        self._system_dialog_answered(**fields)

    def record_app_left(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record leaving the app")
        self._app_left(**fields)

    def record_recovery(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a device recovery")
        self._device_recovered(**fields)

    def recall_memory(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record what it recalled")
        self._memory_recalled(**fields)

    def record_fixed(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a finding fixed")
        self._finding_fixed(**fields)

    def record_llm_call(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a model call")
        self._llm_called(**fields)

    def detect_finding(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a finding")
        self._finding_detected(**fields)

    def record_recurrence(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a finding met again")
        self._finding_recurred(**fields)

    def record_reproduction(self, worker_id: str | None = None, **fields: Any) -> None:
        self._check_holder(worker_id, action="record a reproduction")
        self._finding_reproduced(**fields)

    def request_cancel(self) -> None:
        """Idempotent; a queued run is cancelled at once, a running one at its next node boundary."""
        if self.status == CANCELED or (self.status == RUNNING and self.cancel_requested_at):
            return
        if self.is_finished:
            raise RunAlreadyFinished(f"run is already {self.status}")
        self._cancel_requested()
        if self.status in (QUEUED, PAUSED):  # no worker to confirm it
            self._canceled("user_cancelled")

    def request_pause(self) -> None:
        """Idempotent; a queued run is paused at once (it leaves the queue), a running one at
        its next node boundary, where its worker confirms and frees the device. A run being
        cancelled cannot be paused: the cancel would be lost."""
        if self.status == PAUSED or (self.status == RUNNING and self.pause_requested):
            return
        self._check_not_finished()
        if self.cancel_requested_at is not None:
            raise IllegalTransition("run is being cancelled, cannot pause")
        self._pause_requested()
        if self.status == QUEUED:
            self._paused(self.last_step)

    def confirm_pause(self, worker_id: str | None = None) -> None:
        """The holder stops at a node boundary; the run keeps its steps and discoveries.
        A cancel that arrived meanwhile wins: the run is cancelled instead."""
        self._check_holder(worker_id, action="pause")
        if self.cancel_requested_at is not None:
            self._canceled("user_cancelled")
        else:
            self._paused(self.last_step)

    def resume(self) -> None:
        """Idempotent: a paused run is queued again, to continue where it stopped; a pause
        requested but not yet reached is withdrawn; a queued or running run stays as it is."""
        self._check_not_finished()
        if self.status == PAUSED or self.pause_requested:
            self._resumed(QUEUED if self.status == PAUSED else self.status)

    def complete(self, stop_reason: str, metrics: dict[str, Any], worker_id: str | None = None,
                 labels: tuple[str, ...] = ()) -> None:
        """`labels`: what the run met besides the app (login_required, left_app, system_dialogs)."""
        self._check_holder(worker_id, action="complete")
        self._completed(stop_reason, metrics, list(labels))

    def fail(self, stop_reason: str, error: str, worker_id: str | None = None) -> None:
        """Any unfinished run may fail (a queued one too: it may never get a device); a worker
        may fail only the run it holds."""
        if worker_id is not None:
            self._check_holder(worker_id, action="fail")
        self._check_not_finished()
        self._failed(stop_reason, error)

    def confirm_cancel(self, stop_reason: str = "user_cancelled", worker_id: str | None = None) -> None:
        self._check_holder(worker_id, action="cancel")
        self._canceled(stop_reason)

    def _check_not_finished(self) -> None:
        if self.is_finished:
            raise RunAlreadyFinished(f"run is already {self.status}")

    def _check_holder(self, worker_id: str | None, action: str) -> None:
        """Worker commands: the run must be running, and held by this worker when it says who it is."""
        self._check_not_finished()
        if self.status != RUNNING:
            raise IllegalTransition(f"run is {self.status}, cannot {action}")
        if worker_id is not None and worker_id != self.worker_id:
            raise LeaseLost(f"{worker_id} cannot {action}: the run is held by {self.worker_id}")

    # Events: assignments only

    @event("Started")
    def _started(self, worker_id: str, lease_expires_at: datetime, attempt: int) -> None:
        self.status, self.worker_id, self.attempt = RUNNING, worker_id, attempt

    @event("NodeStarted")
    def _node_started(self, node_name: str, step_ordinal: int) -> None:
        self.last_step = step_ordinal

    @event("NodeFinished")
    def _node_finished(self, node_name: str, step_ordinal: int, outcome_status: str, detail: dict[str, Any]) -> None:
        pass

    def _cancel_requested(self) -> None:
        self.trigger_event(Run.CancelRequested)

    class CancelRequested(Aggregate.Event):
        def apply(self, run: "Run") -> None:
            run.cancel_requested_at = self.timestamp  # the request's own time, as the stream shows it

    @event("PauseRequested")
    def _pause_requested(self) -> None:
        self.pause_requested = True

    @event("Paused")
    def _paused(self, step_ordinal: int) -> None:
        self.status, self.worker_id = PAUSED, None

    @event("Resumed")
    def _resumed(self, status: str) -> None:
        self.status, self.pause_requested = status, False

    @event("Completed")
    def _completed(self, stop_reason: str, metrics: dict[str, Any], labels: list[str] = ()) -> None:  # type: ignore[assignment]
        self.status, self.stop_reason = COMPLETED, stop_reason

    @event("Failed")
    def _failed(self, stop_reason: str, error: str) -> None:
        self.status, self.stop_reason = FAILED, stop_reason

    @event("Canceled")
    def _canceled(self, stop_reason: str) -> None:
        self.status, self.stop_reason = CANCELED, stop_reason

    # Exploration facts: recorded by the agent, no state of their own here.

    class ScreenPerceived(Aggregate.Event):
        step_ordinal: int
        screen_id: str
        activity: str
        package: str
        element_count: int
        artifacts: dict[str, str]
        # The screen's outline (domain/exploration/outline.py), for comparing runs; older events lack it.
        elements: list[str] = ()  # type: ignore[assignment]  # an immutable default: events are frozen
        # Characters XML 1.0 forbids dropped from the page source to read it (DESIGN.md "Real apps").
        cleaned: int = 0

    @event(ScreenPerceived)
    def _screen_perceived(self, step_ordinal: int, screen_id: str, activity: str, package: str, element_count: int,
                          artifacts: dict[str, str], elements: list[str] = (), cleaned: int = 0) -> None:  # type: ignore[assignment]
        pass

    class ActionPerformed(Aggregate.Event):
        step_ordinal: int
        screen_id: str
        action: dict[str, Any]
        reproducing: str | None = None  # the finding whose reproduction took it; None while exploring

    @event(ActionPerformed)
    def _action_performed(self, step_ordinal: int, screen_id: str, action: dict[str, Any],
                          reproducing: str | None = None) -> None:
        pass

    class ScreenDiscovered(Aggregate.Event):
        step_ordinal: int
        screen_id: str
        activity: str
        labels: list[str] = ()  # type: ignore[assignment]  # login, webview, blank, dialog; older events: none

    @event(ScreenDiscovered)
    def _screen_discovered(self, step_ordinal: int, screen_id: str, activity: str,
                           labels: list[str] = ()) -> None:  # type: ignore[assignment]
        pass

    class TransitionDiscovered(Aggregate.Event):
        step_ordinal: int
        from_screen: str
        action: dict[str, Any]
        to_screen: str | None  # None: the action left the app (`left_to` names the package it opened)
        left_to: str | None = None
        by: str | None = None  # "time": the screen changed by itself while the agent waited, not by `action`

    @event(TransitionDiscovered)
    def _transition_discovered(self, step_ordinal: int, from_screen: str, action: dict[str, Any],
                               to_screen: str | None, left_to: str | None = None, by: str | None = None) -> None:
        pass

    class DeviceRecovered(Aggregate.Event):
        """A dead UiAutomator2 server or session replaced: a new session, the app launched, the route followed back."""
        step_ordinal: int
        cause: str
        seconds: float
        route_length: int

    @event(DeviceRecovered)
    def _device_recovered(self, step_ordinal: int, cause: str, seconds: float, route_length: int) -> None:
        pass

    # Memory across runs (DESIGN.md): what a warm run knew at its start, and what an older version had
    # that this one no longer does.

    class MemoryRecalled(Aggregate.Event):
        step_ordinal: int
        runs: int  # earlier runs of the app it learned from (0: it ran cold, and `note` says why)
        screens: int  # screens of the map it started knowing
        same_version: bool  # the map knew this version: outcomes known there are not taken again
        previous_version: str | None  # the version it compares with (drift), on a new version
        base_run_id: str | None  # the latest run of that version: the drift's base
        cold: bool
        note: str

    @event(MemoryRecalled)
    def _memory_recalled(self, step_ordinal: int, runs: int, screens: int, same_version: bool, previous_version: str | None,
                         base_run_id: str | None, cold: bool, note: str) -> None:
        self.drift_base = base_run_id

    class FindingFixed(Aggregate.Event):
        """A crash or ANR of an older version, replayed on this one, did not happen."""
        signature: str
        kind: str
        title: str
        last_version: str  # the version it was last met in
        last_run_id: str  # ... by this run
        attempts: int

    @event(FindingFixed)
    def _finding_fixed(self, signature: str, kind: str, title: str, last_version: str, last_run_id: str,
                       attempts: int) -> None:
        self.fixed = [*self.fixed, {"signature": signature, "kind": kind, "title": title,
                                    "lastVersion": last_version, "lastRunId": last_run_id}]

    # Besides the app (DESIGN.md "What real apps do to an agent"): the system's dialogs, other apps.

    class SystemDialogAnswered(Aggregate.Event):
        step_ordinal: int
        kind: str  # permission
        message: str
        answer: str  # the button's text as tapped (or "back")

    @event(SystemDialogAnswered)
    def _system_dialog_answered(self, step_ordinal: int, kind: str, message: str, answer: str) -> None:
        pass

    class AppLeft(Aggregate.Event):
        step_ordinal: int
        package: str
        activity: str
        action_id: str | None  # the action that left the app

    @event(AppLeft)
    def _app_left(self, step_ordinal: int, package: str, activity: str, action_id: str | None) -> None:
        pass

    class LlmCalled(Aggregate.Event):
        """The `llm` policy used the model once (a cached answer too: `cached`, no tokens)."""
        step_ordinal: int
        purpose: str  # rank | choose | goal
        model: str
        prompt_tokens: int
        completion_tokens: int
        latency_ms: float
        cached: bool
        outcome: str  # chosen | fallback
        reason: str | None  # why it fell back to the depth-first choice
        action_id: str | None  # the action taken at that step
        goal_reached: bool | None

    @event(LlmCalled)
    def _llm_called(self, step_ordinal: int, purpose: str, model: str, prompt_tokens: int, completion_tokens: int,
                    latency_ms: float, cached: bool, outcome: str, reason: str | None, action_id: str | None,
                    goal_reached: bool | None) -> None:
        pass

    # Findings (DESIGN.md "Findings"): what broke, first met, met again, and reproduced.

    class FindingDetected(Aggregate.Event):
        finding_id: str
        kind: str  # crash | anr | accessibility
        title: str
        signature: str
        step_ordinal: int
        screen_id: str  # where the triggering action was taken
        activity: str
        action_id: str | None  # the triggering action (an accessibility finding's element)
        details: dict[str, Any]
        artifacts: dict[str, str]  # what showed after it: screenshot, pageSource, logcat

    @event(FindingDetected)
    def _finding_detected(self, finding_id: str, kind: str, title: str, signature: str, step_ordinal: int,
                          screen_id: str, activity: str, action_id: str | None, details: dict[str, Any],
                          artifacts: dict[str, str]) -> None:
        pass

    class FindingRecurred(Aggregate.Event):
        finding_id: str
        step_ordinal: int

    @event(FindingRecurred)
    def _finding_recurred(self, finding_id: str, step_ordinal: int) -> None:
        pass

    class FindingReproduced(Aggregate.Event):
        finding_id: str
        attempts: int
        reproduced: int
        steps: list[dict[str, Any]]

    @event(FindingReproduced)
    def _finding_reproduced(self, finding_id: str, attempts: int, reproduced: int, steps: list[dict[str, Any]]) -> None:
        pass

