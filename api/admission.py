"""POST /run's write path: group commit of concurrent starts.

Each start's own cost is small; what costs is a commit per start, in this replica, in
PostgreSQL and in the projections that follow the log. Starts that arrive while one
commit is in flight wait for the next one and share it (`serve.batch`). While starts
come concurrently, a commit also waits a few milliseconds for more (as PostgreSQL's
`commit_delay`): bigger commits, less CPU per run. A lone start never waits.

The commit goes from the replica's event loop (storage.event_recorder.AsyncEventWriter): a
write from a thread paid for GIL hand-offs with the event loops, in CPU and in latency. Starts
with an Idempotency-Key read the key's index first: those commits go through the RunService,
in a thread.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Header
from ray import serve
from ulid import ULID

from config.logging import logger_for
from domain.application import RunRequest, RunService
from domain.idempotency import Admission, IdempotencyConflict
from storage.event_recorder import AsyncEventWriter

# DESIGN.md "Idempotent start": 1 to 255 printable ASCII characters.
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255,
                                                    pattern=r"^[\x20-\x7e]+$")]
MAX_BATCH = 64
# Without a window, 8 clients' starts made 2.2 runs per commit; with 5 ms, the JobQueue's runs projection and
# PostgreSQL cost about a third less per run (benchmarks/README.md)
GROUP_COMMIT_WINDOW_S = 0.005


class Admissions:
    def __init__(self, runs: RunService, writer: AsyncEventWriter) -> None:
        self.runs = runs
        self.writer = writer
        self.log = logger_for("run", "start")

    async def admit(self, request: RunRequest, key: str | None) -> Admission:
        answer = await self._admit_batch((request, key))
        if isinstance(answer, IdempotencyConflict):
            raise answer
        return answer

    @serve.batch(max_batch_size=MAX_BATCH, batch_wait_timeout_s=0)
    async def _admit_batch(self, items: list[tuple[RunRequest, str | None]]) -> list[Admission | IdempotencyConflict]:
        # The next commit waits for company only if this one had some: starts are coming concurrently
        self._admit_batch.set_batch_wait_timeout_s(GROUP_COMMIT_WINDOW_S if len(items) > 1 else 0)
        answers = await self._commit(items)
        created = {str(ULID.from_uuid(answer.run_id)): request.tenant_id  # the JobQueue follows the log: no call
                   for (request, _), answer in zip(items, answers) if isinstance(answer, Admission) and answer.created}
        if created:  # one line per commit: under load a line per run cost the replica 2% of its CPU
            self.log.info("Created runs", extra={"runs": created, "status": "queued"})
        return answers

    async def _commit(self, items: list[tuple[RunRequest, str | None]]) -> list[Admission | IdempotencyConflict]:
        if any(key is not None for _, key in items):
            return await asyncio.to_thread(self.runs.request_runs, items)
        admissions, events = self.runs.new_runs([request for request, _ in items])
        await self.writer.insert_events(events)
        return list(admissions)
