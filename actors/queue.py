"""JobQueue: the run ids waiting for a device, and the leases of those being run.

A pulled job stays leased to its worker until acked; a lease that is not renewed
in time (the worker died) puts the job back at the front of the queue. The queue
holds only run ids, which the event store can always rebuild.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

import ray

from adapters import telemetry as metrics
from actors.projector import Projections
from config.logging import configure_logging, logger_for
from domain.run import QUEUED, Run, run_id_from
from storage.queue_store import QueueStore

QUEUE_NAME = "job-queue"


@dataclass
class Lease:
    worker_id: str
    expires_at: float


class JobQueueCore:
    """The queue's rules, apart from Ray: testable on its own."""

    def __init__(self, lease_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lease_seconds, self.clock = lease_seconds, clock
        self.pending: deque[str] = deque()
        self.queued: set[str] = set()  # what `pending` holds: asked on every put, with thousands waiting
        self.leases: dict[str, Lease] = {}

    def put(self, run_id: str) -> bool:
        """At-least-once delivery upstream: a job already queued or leased is not added twice."""
        if run_id in self.leases or run_id in self.queued:
            return False
        self.pending.append(run_id)
        self.queued.add(run_id)
        return True

    def drop(self, run_id: str) -> bool:
        """A run paused while waiting leaves the queue. One already taken stays leased: its
        worker finds the run paused, does not start it, and acks."""
        if run_id not in self.queued:
            return False
        self.pending.remove(run_id)
        self.queued.discard(run_id)
        return True

    def take(self, worker_id: str) -> str | None:
        self.reoffer_expired()
        if not self.pending:
            return None
        run_id = self.pending.popleft()
        self.queued.discard(run_id)
        self.leases[run_id] = Lease(worker_id, self.clock() + self.lease_seconds)
        return run_id

    def renew(self, run_id: str, worker_id: str) -> bool:
        lease = self.leases.get(run_id)
        if lease is None or lease.worker_id != worker_id:
            return False
        lease.expires_at = self.clock() + self.lease_seconds
        return True

    def ack(self, run_id: str, worker_id: str) -> bool:
        lease = self.leases.get(run_id)
        if lease is None or lease.worker_id != worker_id:
            return False
        del self.leases[run_id]
        return True

    def reoffer_expired(self) -> list[str]:
        now = self.clock()
        expired = [run_id for run_id, lease in self.leases.items() if lease.expires_at <= now]
        for run_id in expired:
            del self.leases[run_id]
        self.pending.extendleft(reversed(expired))  # ahead of new jobs, oldest lease first
        self.queued.update(expired)
        return expired

    def restore(self, run_id: str, worker_id: str, seconds_left: float) -> None:
        """A lease read back after the queue restarted."""
        self.drop(run_id)
        self.leases[run_id] = Lease(worker_id, self.clock() + seconds_left)

    def stats(self) -> dict[str, int]:
        return {"pending": len(self.pending), "leased": len(self.leases)}


class WaitingDevices:
    """How many devices wait for a job; `urgent` is set while any does. The projections read the log at each
    commit while it is set (a run is offered within milliseconds to a free device), and at most every
    PACE_SECONDS (storage/log_follower.py) while none does, when a run would only wait in the queue anyway."""

    def __init__(self) -> None:
        self.count = 0
        self.urgent = threading.Event()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        self.count += 1
        self.urgent.set()
        try:
            yield
        finally:
            self.count -= 1
            if not self.count:
                self.urgent.clear()


def queued_by(event: Any) -> str | None:
    """The run an event queues: a request, or a resume from a pause (a withdrawn pause leaves the run with
    its worker, and a second worker must not take it over)."""
    if isinstance(event, Run.Requested) or (isinstance(event, Run.Resumed) and event.status == QUEUED):
        return run_id_from(event.originator_id)
    return None


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class JobQueue:
    """The queue actor, and the dispatcher. It hosts the projections (actors/projector.py), and each page
    of events the runs table applies tells it which runs were queued: a run is offered within milliseconds
    of being saved, with no call from the API and no read of its own. It keeps its leases in the database
    and, every few seconds, offers again any queued or running run that nobody holds: after its own restart,
    a lost page or a lost worker, no run waits forever (at-least-once; a duplicate is refused)."""

    def __init__(self, lease_seconds: float, database_url: str, log_level: str = "INFO") -> None:
        configure_logging(log_level)
        self.core = JobQueueCore(lease_seconds)
        self.changed = asyncio.Event()
        self.waiting_devices = WaitingDevices()
        self.loop = asyncio.get_running_loop()  # Ray runs an async actor's __init__ in its event loop
        self.store = QueueStore(database_url)
        self.log = logger_for("queue", "job-queue")
        for lease in self.store.live_leases():
            self.core.restore(lease.run_id, lease.worker_id, lease.seconds_left())
        self._offer(self.store.unfinished_run_ids())  # the runs table up to where its projection goes on
        self.projections = Projections(database_url, on_runs_page=self._queued_in,
                                       urgent=self.waiting_devices.urgent)
        self.sweeper = self.loop.create_task(self._sweep_forever())

    def __repr__(self) -> str:  # the dashboard's name of this actor (Ray reads it at creation)
        return f"JobQueue(depth={len(self.core.pending)}, leased={len(self.core.leases)})"

    def _report(self) -> None:
        metrics.queue_depth(len(self.core.pending), len(self.core.leases))

    async def put(self, run_id: str) -> bool:
        """A run offered by hand (a worker giving back a run resumed while it held it; tests)."""
        return self._offer([run_id])

    async def drop(self, run_id: str) -> bool:
        dropped = self.core.drop(run_id)
        self._report()
        return dropped

    async def pull(self, worker_id: str, timeout: float) -> str | None:
        """Long poll: the next job, or None after `timeout` seconds without one."""
        deadline = time.monotonic() + timeout
        while (run_id := self.core.take(worker_id)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.changed.clear()
            try:
                with self.waiting_devices.waiting():
                    await asyncio.wait_for(self.changed.wait(), timeout=min(remaining, self.core.lease_seconds))
            except asyncio.TimeoutError:
                pass
        self._report()
        await self._persist("hold", run_id, worker_id)
        return run_id

    async def renew(self, run_id: str, worker_id: str) -> bool:
        renewed = self.core.renew(run_id, worker_id)
        if renewed:
            await self._persist("hold", run_id, worker_id)
        return renewed

    async def ack(self, run_id: str, worker_id: str) -> bool:
        acked = self.core.ack(run_id, worker_id)
        self._report()
        if acked:
            await self._persist("release", run_id)
        return acked

    async def stats(self) -> dict[str, int]:
        return self.core.stats()

    async def healthy(self) -> bool:
        """Whether its projections are following the log (a runner stopped by an error is restarting)."""
        return self.projections.healthy()

    def _queued_in(self, events: list[Any]) -> None:
        """The runs projection's thread, after each page: the runs it queued are offered on the actor's loop."""
        if run_ids := [run_id for event in events if (run_id := queued_by(event))]:
            self.loop.call_soon_threadsafe(self._offer, run_ids)

    def _offer(self, run_ids: list[str]) -> bool:
        """On the actor's loop, as every change of the queue: the core is not shared with threads."""
        added = [run_id for run_id in run_ids if self.core.put(run_id)]
        if added:
            self.changed.set()
            self._report()
        return bool(added)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.core.lease_seconds / 2)
            if self.core.reoffer_expired():
                self.changed.set()
            self._report()
            try:
                unfinished = await asyncio.to_thread(self.store.unfinished_run_ids)
            except Exception as error:
                self.log.warning("sweep failed", extra={"error": str(error)[:300]})
            else:
                self._offer(unfinished)

    async def _persist(self, action: str, run_id: str, *args: str) -> None:
        """Best effort: leases live in memory first; the table serves recovery and the API."""
        try:
            if action == "hold":
                await asyncio.to_thread(self.store.leases.hold, run_id, args[0], self.core.lease_seconds)
            else:
                await asyncio.to_thread(self.store.leases.release, run_id)
        except Exception as error:
            self.log.warning("lease not persisted", extra={"runId": run_id, "error": str(error)[:300]})
