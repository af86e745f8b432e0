"""Group commit on an event loop: items submitted while a commit is in flight share the next one.

Ray Serve's `serve.batch` does this too, but costs about 40 us a call in one process (it inspects
the function's signature on every call and records four metrics a batch), which under admission
load was 3-4% of POST /run's throughput (benchmarks/README.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """`submit(item)` answers what `commit(items)` answered for the item. One commit at a time, of at most
    `max_size` items. While items come concurrently (the last commit had company, or more came meanwhile)
    a commit first waits `window` seconds for more, as PostgreSQL's `commit_delay`; a lone item never waits.
    A commit's error is the error of each of its items; the next commit goes on."""

    def __init__(self, commit: Callable[[list[Item]], Awaitable[Sequence[Result]]], max_size: int,
                 window: float) -> None:
        self.commit, self.max_size, self.window = commit, max_size, window
        self.waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self.committer: asyncio.Task[None] | None = None  # referenced: a task nothing holds may be collected
        self.concurrent = False

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self.waiting.append((item, future))
        if self.committer is None:
            self.committer = loop.create_task(self._commit_while_waiting())
        return await future

    async def _commit_while_waiting(self) -> None:
        try:
            while self.waiting:
                if self.concurrent:
                    await asyncio.sleep(self.window)
                batch, self.waiting = self.waiting[:self.max_size], self.waiting[self.max_size:]
                await self._commit(batch)
                self.concurrent = len(batch) > 1 or bool(self.waiting)
        finally:
            self.committer = None

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self.commit([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a commit of {len(batch)} items answered {len(results)}")
        except Exception as error:
            for _, future in batch:
                if not future.done():  # not a caller that went away
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results):
            if not future.done():
                future.set_result(result)
