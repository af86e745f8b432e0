"""JobQueue: the run ids waiting for a device, and the leases of those being run.

A pulled job stays leased to its worker until acked; a lease that is not renewed
in time (the worker died) puts the job back at the front of the queue. The queue
holds only run ids, which the event store can always rebuild.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import ray

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
        self.leases: dict[str, Lease] = {}

    def put(self, run_id: str) -> bool:
        """At-least-once delivery upstream: a job already queued or leased is not added twice."""
        if run_id in self.leases or run_id in self.pending:
            return False
        self.pending.append(run_id)
        return True

    def take(self, worker_id: str) -> str | None:
        self.reoffer_expired()
        if not self.pending:
            return None
        run_id = self.pending.popleft()
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
            self.pending.appendleft(run_id)
        return expired

    def stats(self) -> dict[str, int]:
        return {"pending": len(self.pending), "leased": len(self.leases)}


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class JobQueue:
    def __init__(self, lease_seconds: float, recover: Callable[[], list[str]] | None = None) -> None:
        self.core = JobQueueCore(lease_seconds)
        self.changed = asyncio.Event()
        for run_id in recover() if recover else ():  # after a restart: the runs still queued
            self.core.put(run_id)

    async def put(self, run_id: str) -> bool:
        added = self.core.put(run_id)
        self.changed.set()
        return added

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
        return run_id

    async def renew(self, run_id: str, worker_id: str) -> bool:
        return self.core.renew(run_id, worker_id)

    async def ack(self, run_id: str, worker_id: str) -> bool:
        return self.core.ack(run_id, worker_id)

    async def stats(self) -> dict[str, int]:
        return self.core.stats()
