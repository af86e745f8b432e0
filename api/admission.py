"""POST /run's write path: group commit of concurrent starts.

Each start's own cost is small; what costs is a commit per start, in this replica, in
PostgreSQL and in the projections that follow the log. Starts that arrive while one
commit is in flight wait for the next one and share it (api/group_commit.py). While starts
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

from api.group_commit import GroupCommit
from config.logging import logger_for
from domain.application import RunRequest, RunService
from domain.idempotency import Admission, IdempotencyConflict
from storage.event_recorder import AsyncEventWriter
from domain.run import run_id_from

# DESIGN.md "Idempotent start": 1 to 255 printable ASCII characters.
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255,
                                                    pattern=r"^[\x20-\x7e]+$")]
MAX_BATCH = 64
# Without a window, 8 clients' starts made 2.2 runs per commit; with one, about 3, and the JobQueue's runs
# projection and PostgreSQL cost about a third less per run. 8 ms makes commits as big as serve.batch's
# 5 ms did, whose window began while the previous commit was still in flight (benchmarks/README.md).
GROUP_COMMIT_WINDOW_S = 0.008


class Admissions:
    def __init__(self, runs: RunService, writer: AsyncEventWriter) -> None:
        self.runs = runs
        self.writer = writer
        self.log = logger_for("run", "start")
        self.group_commit = GroupCommit(self._admit_together, MAX_BATCH, GROUP_COMMIT_WINDOW_S)

    async def admit(self, request: RunRequest, key: str | None) -> Admission:
        answer = await self.group_commit.submit((request, key))
        if isinstance(answer, IdempotencyConflict):
            raise answer
        return answer

    async def _admit_together(self, items: list[tuple[RunRequest, str | None]]
                              ) -> list[Admission | IdempotencyConflict]:
        answers = await self._commit(items)
        created = {run_id_from(answer.run_id): request.tenant_id  # the JobQueue follows the log: no call
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
