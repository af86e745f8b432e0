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
from dataclasses import dataclass
from typing import Callable

import ray

from actors import metrics
from config.logging import logger_for
from storage.queue_store import QueueStore

QUEUE_NAME = "job-queue"
RESUBSCRIBE_SECONDS = 0.5


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


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class JobQueue:
    """The queue actor, and the dispatcher: it follows the event store's log of runs being queued
    (a subscription, LISTEN/NOTIFY), so a run is offered within milliseconds of being saved, with no
    call from the API or the projector. It keeps its leases in the database and, every few seconds,
    offers again any queued or running run that nobody holds: after its own restart, a lost
    notification or a lost worker, no run waits forever (at-least-once; a duplicate is refused)."""

    def __init__(self, lease_seconds: float, database_url: str) -> None:
        self.core = JobQueueCore(lease_seconds)
        self.changed = asyncio.Event()
        self.loop = asyncio.get_running_loop()  # Ray runs an async actor's __init__ in its event loop
        self.store = QueueStore(database_url)
        self.log = logger_for("queue", "job-queue")
        position = self.store.projected_position()  # first: the log after it, the runs table up to it
        for lease in self.store.live_leases():
            self.core.restore(lease.run_id, lease.worker_id, lease.seconds_left())
        self._offer(self.store.unfinished_run_ids())
        threading.Thread(target=self._follow_log, args=(position,), name="queue-dispatcher", daemon=True).start()
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

    def _follow_log(self, position: int | None) -> None:
        """The dispatcher's thread: the runs each page of the log queues are offered on the actor's loop."""
        while True:
            try:
                for page in self.store.queuing_pages(position, threading.Event()):  # followed for the actor's life
                    position = page[-1].id
                    if run_ids := [run_id for n in page if (run_id := self.store.queued_by(n))]:
                        self.loop.call_soon_threadsafe(self._offer, run_ids)
            except Exception as error:  # noqa: BLE001 - the database restarts; the sweep covers the gap
                self.log.warning("log subscription lost; resubscribing", extra={"error": str(error)[:300]})
                time.sleep(RESUBSCRIBE_SECONDS)

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
            except Exception as error:  # noqa: BLE001 - the database may be restarting; sweep again later
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
        except Exception as error:  # noqa: BLE001
            self.log.warning("lease not persisted", extra={"runId": run_id, "error": str(error)[:300]})
