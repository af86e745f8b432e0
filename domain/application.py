"""RunService: the commands and queries on runs, over the event store.

Each command loads the run, calls one aggregate command and saves. Writers race
(a worker finishing while a user cancels): optimistic concurrency refuses the
second save, and the command is retried on the fresh state, so the aggregate's
rules decide who wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, StoredEvent
from tenacity import retry, retry_if_exception_type, stop_after_attempt
from ulid import ULID

from domain.idempotency import Admission, IdempotencyConflict, IdempotencyKey, body_digest, key_id
from domain.run import Run, RunNotFound
from domain.wire import WireEvent, to_wire


class InvalidRunId(ValueError):
    pass


@dataclass(frozen=True)
class RunRequest:
    apk_path: str
    appium_server_url: str
    package_name: str
    app_activity: str
    max_steps: int = 50
    goal: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    tenant_id: str = "local"
    project_id: str = "default"
    policy: str = "dfs"
    manifest: dict[str, Any] | None = None  # read from an .apk by the API, not sent: not part of the body's digest
    permissions: str = "grant"
    avoid: tuple[str, ...] = ()
    capabilities: dict[str, Any] = field(default_factory=dict)  # extra Appium capabilities (DESIGN.md "Time and faults")
    memory: str = "cold"  # warm: start from the app's map (DESIGN.md "Memory across runs")
    app_version: dict[str, Any] | None = None  # read from the app's file by the API, not sent

    @property
    def app_config(self) -> dict[str, str]:
        return {
            "apkPath": self.apk_path,
            "appiumServerUrl": self.appium_server_url,
            "packageName": self.package_name,
            "appActivity": self.app_activity,
        }


def parse_run_id(run_id: str) -> ULID:
    try:
        return ULID.from_str(run_id)
    except (ValueError, TypeError):
        raise InvalidRunId(f"runId {run_id!r} is not a ULID") from None


class RunService(Application):
    name = "RunService"
    env = {
        # Workers append to long runs one event at a time: keep recent runs in
        # memory and fetch only their new events.
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }

    def request_run(self, request: RunRequest) -> Run:
        run = self._new_run(request)
        self.save(run)
        return run

    def request_runs(self, requests: list[tuple[RunRequest, str | None]]) -> list[Admission | IdempotencyConflict]:
        """Starts runs, each with an optional Idempotency-Key, in one transaction (group commit).
        A key taken meanwhile (by another request, or twice in this batch) fails the whole
        transaction: then each is admitted on its own, and a repeat answers the run it names."""
        try:
            return self._admit_together(requests)
        except IntegrityError:
            return [self._admit_one(request, key) for request, key in requests]

    def _admit_together(self, requests: list[tuple[RunRequest, str | None]]) -> list[Admission | IdempotencyConflict]:
        prepared = [self._prepare_admission(request, key) for request, key in requests]
        self.save(*[aggregate for p in prepared if isinstance(p, tuple) for aggregate in p])
        return [Admission(p[0].id, p[0].created_on, created=True) if isinstance(p, tuple) else p for p in prepared]

    def new_runs(self, requests: list[RunRequest]) -> tuple[list[Admission], list[StoredEvent]]:
        """New runs and their events, for a caller that writes the events itself (the API's admissions,
        from its event loop). Without an Idempotency-Key a start has nothing to read first; a run has
        no snapshots and no followers in this process, so writing its events is all a save does."""
        runs = [self._new_run(request) for request in requests]
        events = [self.mapper.to_stored_event(event) for run in runs for event in run.collect_events()]
        return [Admission(run.id, run.created_on, created=True) for run in runs], events

    @retry(retry=retry_if_exception_type(IntegrityError), stop=stop_after_attempt(4), reraise=True)
    def _admit_one(self, request: RunRequest, key: str | None) -> Admission | IdempotencyConflict:
        return self._admit_together([(request, key)])[0]

    def _prepare_admission(self, request: RunRequest, key: str | None
                           ) -> tuple[Run, IdempotencyKey | None] | Admission | IdempotencyConflict:
        """The aggregates to save for a new run, or the answer of an earlier run with this key."""
        run = self._new_run(request)
        if key is None:
            return run, None
        digest = body_digest(request)
        try:
            index = self.repository.get(key_id(request.tenant_id, key))
        except AggregateNotFoundError:
            return run, IdempotencyKey(id=key_id(request.tenant_id, key), run_id=run.id, digest=digest,
                                       run_created_at=run.created_on)
        if index.is_expired(run.created_on):
            index.reuse(run.id, digest, run.created_on)
            return run, index
        try:
            return index.answer(digest)
        except IdempotencyConflict as conflict:
            return conflict

    @staticmethod
    def _new_run(request: RunRequest) -> Run:
        return Run(
            id=ULID().to_uuid(), app_config=request.app_config, goal=request.goal,
            max_steps=request.max_steps, inputs=dict(request.inputs),
            tenant_id=request.tenant_id, project_id=request.project_id, policy=request.policy,
            manifest=request.manifest, permissions=request.permissions, avoid=tuple(request.avoid),
            capabilities=dict(request.capabilities) or None, memory=request.memory, app_version=request.app_version,
        )

    def get_run(self, run_id: str, tenant_id: str | None = None) -> Run:
        """A tenant sees only its own runs: another tenant's run is not found, as an unknown one."""
        try:
            run = self.repository.get(parse_run_id(run_id).to_uuid())
        except AggregateNotFoundError:
            raise RunNotFound(f"no run with id {run_id}") from None
        if not isinstance(run, Run) or (tenant_id is not None and run.tenant_id != tenant_id):
            raise RunNotFound(f"no run with id {run_id}")  # an Idempotency-Key's id names no run either
        return run

    def cancel_run(self, run_id: str, tenant_id: str | None = None) -> Run:
        self.get_run(run_id, tenant_id)
        return self._update(run_id, lambda run: run.request_cancel())

    def pause_run(self, run_id: str, tenant_id: str | None = None) -> Run:
        self.get_run(run_id, tenant_id)
        return self._update(run_id, lambda run: run.request_pause())

    def resume_run(self, run_id: str, tenant_id: str | None = None) -> Run:
        self.get_run(run_id, tenant_id)
        return self._update(run_id, lambda run: run.resume())

    def start_run(self, run_id: str, worker_id: str, lease_seconds: float, max_attempts: int = 3) -> Run:
        """Returns the run as the worker should see it: running for it, or failed (worker_lost)."""
        lease_expires_at = datetime.now(timezone.utc) + timedelta(seconds=lease_seconds)
        return self._update(run_id, lambda run: run.start(worker_id, lease_expires_at, max_attempts))

    # Worker commands: `worker_id` names the writer, refused (LeaseLost) once another worker holds the run.

    def start_node(self, run_id: str, node_name: str, step_ordinal: int, worker_id: str | None = None) -> Run:
        return self._update(run_id, lambda run: run.start_node(node_name, step_ordinal, worker_id))

    def finish_node(self, run_id: str, node_name: str, step_ordinal: int, outcome: str,
                    worker_id: str | None = None, **detail: Any) -> Run:
        return self._update(run_id, lambda run: run.finish_node(node_name, step_ordinal, outcome, detail, worker_id))

    def record(self, run_id: str, command: Callable[..., None], worker_id: str | None = None, **fields: Any) -> Run:
        """One fact by its command on the aggregate: `record(run_id, Run.discover_screen, step_ordinal=...)`."""
        return self._update(run_id, lambda run: command(run, worker_id, **fields))

    def complete_run(self, run_id: str, stop_reason: str, metrics: dict[str, Any], worker_id: str | None = None) -> Run:
        return self._update(run_id, lambda run: run.complete(stop_reason, metrics, worker_id))

    def fail_run(self, run_id: str, stop_reason: str, error: str, worker_id: str | None = None) -> Run:
        return self._update(run_id, lambda run: run.fail(stop_reason, error, worker_id))

    def confirm_cancel(self, run_id: str, worker_id: str | None = None) -> Run:
        return self._update(run_id, lambda run: run.confirm_cancel(worker_id=worker_id))

    def confirm_pause(self, run_id: str, worker_id: str | None = None) -> Run:
        return self._update(run_id, lambda run: run.confirm_pause(worker_id))

    def events_after(self, run_id: str, version: int) -> list[Run.Event]:
        """The run's domain events stored after `version` (what other writers added)."""
        return list(self.events.get(parse_run_id(run_id).to_uuid(), gt=version))

    def domain_events(self, run_id: str) -> list[Run.Event]:
        """The run's stored events as the aggregate's event objects, in order: what a run that continues
        elsewhere, or a recorded app, is rebuilt from (`run_events` shows the same ones to clients)."""
        return [e for e in self.events.get(parse_run_id(run_id).to_uuid()) if isinstance(e, Run.Event)]

    def run_events(self, run_id: str, after: int = 0) -> list[WireEvent]:
        """The run's events after sequence number `after`, as clients see them."""
        originator_id = parse_run_id(run_id).to_uuid()
        return [to_wire(e) for e in self.events.get(originator_id, gt=after or None) if isinstance(e, Run.Event)]

    def last_position(self, run_id: str, topics: tuple[str, ...] = ()) -> int | None:
        """Where the run's latest event (of `topics`, those a view follows) is in the notification log: what
        the view must have tracked to show all of the run (PostgreSQL's recorder, storage/event_recorder.py)."""
        return self.recorder.last_notification_id(parse_run_id(run_id).to_uuid(), topics)

    @retry(retry=retry_if_exception_type(IntegrityError), stop=stop_after_attempt(8), reraise=True)
    def _update(self, run_id: str, command: Callable[[Run], None]) -> Run:
        run = self.get_run(run_id)
        command(run)
        self.save(run)
        return run
