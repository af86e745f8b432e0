"""DeviceWorker: a long-lived, named actor that owns one device.

It pulls run ids from the JobQueue, runs each with the agent, renews the job's
lease while the run goes on, and acks it once the run has ended. All progress
is in the event store, so a restarted worker (Ray re-runs __init__) holds
nothing that was not saved; its new incarnation has a new worker id, so the
run it was running is taken over like any run whose worker was lost.
"""

from __future__ import annotations

import threading
from typing import Any

import ray
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_random_exponential
from ulid import ULID

from adapters import telemetry as metrics
from agent.agent_run import STORE_UNAVAILABLE, AgentRun
from config.logging import configure_logging, logger_for
from config.worker_settings import WorkerSettings
from domain.application import InvalidRunId, RunService
from domain.run import QUEUED, RUNNING, LeaseLost, RunError
from storage.app_map_view import AppMemoryReader, open_app_map_view
from storage.artifacts import ArtifactStore
from storage.postgres import event_store_env

PULL_TIMEOUT_SECONDS = 2.0
STORE_WAIT_SECONDS = 120.0


@retry(retry=retry_if_exception_type(STORE_UNAVAILABLE), stop=stop_after_delay(STORE_WAIT_SECONDS),
       wait=wait_random_exponential(max=5), reraise=True)
def open_run_service(database_url: str) -> RunService:
    """The event store connects once at construction. Dozens of device actors starting at once on a
    small machine connect late: waiting for the database is cheaper than Ray restarting the process."""
    return RunService(env=event_store_env(database_url))


@ray.remote(num_cpus=0, max_restarts=-1, max_concurrency=4)
class DeviceWorker:
    def __init__(self, device_id: str, settings: WorkerSettings, queue_name: str, device_caps: dict[str, Any] | None = None) -> None:
        configure_logging(settings.log_level)
        self.device_id, self.settings, self.device_caps = device_id, settings, device_caps or {}
        self.udid = self.device_caps.get("appium:udid", device_id)  # first: Ray reads __repr__ even when __init__ fails
        self.worker_id = f"{device_id}/{str(ULID())[-8:]}"  # this incarnation of the device's actor
        self.log = logger_for("agent", "worker").with_fields(workerId=self.worker_id)
        self.runs = open_run_service(settings.database_url)
        self.artifacts = ArtifactStore(settings.database_url)
        # The app's map, read by warm runs (connections opened on demand: a cold run opens none)
        self.memory = AppMemoryReader(open_app_map_view(event_store_env(settings.database_url)))
        self.queue = ray.get_actor(queue_name, namespace=settings.ray_namespace)
        self.stopping = threading.Event()
        self.current: str | None = None
        self.agent: AgentRun | None = None  # the run being explored: its step shows in the dashboard
        self.completed = 0
        self.puller = threading.Thread(target=self._pull_loop, name=f"worker-{device_id}", daemon=True)
        self.puller.start()

    def status(self) -> dict[str, Any]:
        return {"deviceId": self.device_id, "udid": self.udid, "workerId": self.worker_id, "currentRun": self.current,
                "step": self.agent.figures.steps if self.agent else None,
                "runsDone": self.completed, "pulling": self.puller.is_alive()}

    def __repr__(self) -> str:  # the dashboard's name of this actor (Ray reads it once, at creation)
        return f"DeviceWorker(udid={self.udid})"

    def heartbeat(self, run_id: str) -> None:
        """Renews the run's lease; a task of its own so that its name shows the run and the step."""
        self.queue.renew.remote(run_id, self.worker_id)

    def shutdown(self) -> None:
        self.stopping.set()

    def _pull_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                run_id = ray.get(self.queue.pull.remote(self.worker_id, PULL_TIMEOUT_SECONDS))
            except ray.exceptions.RayError as error:  # the queue is restarting: ask again
                self.log.warning("queue unavailable", extra={"error": str(error)[:300]})
                self.stopping.wait(0.5)
                continue
            if run_id is not None:
                try:
                    self._run(run_id)
                except Exception:
                    self.log.exception("run crashed the worker loop", extra={"runId": run_id})

    def _run(self, run_id: str) -> None:
        log = self.log.with_fields(runId=run_id)
        renewing = threading.Event()
        threading.Thread(target=self._renew_lease, args=(run_id, renewing), daemon=True).start()
        done = False
        try:
            done = self._execute(run_id, log)
        except (LeaseLost, *STORE_UNAVAILABLE) as error:
            log.warning("run left to its lease", extra={"error": str(error)[:300]})
        finally:
            renewing.set()
            self.current, self.agent = None, None
        if done:  # otherwise the lease lapses and the queue offers the run again
            self._release(run_id)

    def _release(self, run_id: str) -> None:
        """Acks the job. A run paused here and resumed before the ack was refused by the queue
        (still leased): once the ack is in, it is offered again."""
        ray.get(self.queue.ack.remote(run_id, self.worker_id))
        try:
            requeue = self.runs.get_run(run_id).status == QUEUED
        except (RunError, InvalidRunId):
            return  # a job naming no run
        if requeue:
            self.queue.put.remote(run_id)

    def _execute(self, run_id: str, log: Any) -> bool:
        """Runs the run until it ends or pauses; True then (or when it was not ours to run)."""
        try:
            run = self.runs.start_run(run_id, self.worker_id, self.settings.lease_seconds, self.settings.max_attempts)
        except (RunError, InvalidRunId) as refused:  # a redelivered job, cancelled while queued, or no run at all
            log.info("run not started", extra={"reason": str(refused)})
            return True
        if run.status != RUNNING:
            log.warning("run ended before start", extra={"status": run.status, "stopReason": run.stop_reason})
            return True
        self.current = run_id
        log.info("run started", extra={"status": "running", "attempt": run.attempt})
        metrics.run_started()
        self.agent = AgentRun(self.runs, self.artifacts, self.settings, run_id, self.device_caps, self.worker_id,
                              memory=self.memory)
        self.agent.execute()
        run = self.runs.get_run(run_id)
        if run.is_finished:
            metrics.run_finished(run.status, run.stop_reason)
        log.info("run ended" if run.is_finished else f"run {run.status}",
                 extra={"status": run.status, "stopReason": run.stop_reason})
        self.completed += run.is_finished
        return not run.needs_device

    def _renew_lease(self, run_id: str, done: threading.Event) -> None:
        me = ray.get_runtime_context().current_actor
        while not done.wait(self.settings.heartbeat_seconds):
            step = self.agent.figures.steps if self.agent else 0
            me.heartbeat.options(name=f"{self.udid}: run {run_id} step {step}").remote(run_id)
