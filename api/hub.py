"""One event-store subscription per process, fanned out in memory to every open stream.

A run's history is read from the store once, by the first stream that opens it,
and kept in memory as SSE frames (each encoded once, for every stream) while
the run has streams open, and for a few idle runs after: a crowd opening one run
costs one query, not a rebuild of the Run aggregate and a read per viewer. The
subscription appends each new event to the histories held and hands it to the
run's streams past what they have sent (their position): no gaps, no duplicates.
"""

from __future__ import annotations

import asyncio
import json
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sse_starlette import ServerSentEvent

from adapters import telemetry as metrics
from config.logging import logger_for
from domain.application import RunService, parse_run_id
from domain.run import Run, RunNotFound, run_id_from
from domain.wire import WireEvent, to_wire
from storage.log_follower import follow_pages

RESUBSCRIBE_SECONDS = 0.5
KEEP_IDLE_HISTORIES = 32  # runs without a stream kept in memory: a viewer often comes back (reload, resume)


@dataclass(frozen=True)
class Frame:
    """One event as its SSE frame."""

    seq: int
    terminal: bool
    data: bytes


def encode(event: WireEvent) -> Frame:
    sse = ServerSentEvent(id=str(event.seq), event=event.name, data=json.dumps(event.data, separators=(",", ":")))
    return Frame(event.seq, event.is_terminal, sse.encode())


@dataclass(eq=False)
class Listener:
    """One open stream: what it has sent so far, and the live frames waiting to be sent."""

    position: int
    queue: asyncio.Queue[Frame] = field(default_factory=asyncio.Queue)

    def sent(self, seq: int) -> None:
        self.position = seq


@dataclass(eq=False)
class History:
    """A run's frames in order, from its first event; `loaded` is done once they are read from the store."""

    loaded: asyncio.Future[None]
    frames: list[Frame] = field(default_factory=list)
    early: list[Frame] = field(default_factory=list)  # delivered live while the store was being read
    tenant_id: str | None = None
    listeners: set[Listener] = field(default_factory=set)
    loader: asyncio.Task[None] | None = None  # held: the loop keeps only weak references to tasks

    def add(self, frame: Frame) -> bool:
        if self.frames and frame.seq <= self.frames[-1].seq:
            return False  # already read from the store
        self.frames.append(frame)
        return True

    def after(self, position: int) -> list[Frame]:
        return self.frames[bisect_right(self.frames, position, key=lambda f: f.seq):]

    @property
    def ended(self) -> bool:
        return bool(self.frames) and self.frames[-1].terminal


class EventHub:
    def __init__(self, runs: RunService, loop: asyncio.AbstractEventLoop) -> None:
        self.runs, self.loop = runs, loop
        self.histories: OrderedDict[str, History] = OrderedDict()
        self.stopping = threading.Event()
        self.position = runs.recorder.max_notification_id()
        self.log = logger_for("run", "stream")
        threading.Thread(target=self._follow, name="event-hub", daemon=True).start()

    async def open(self, run_id: str, tenant_id: str | None = None) -> History:
        """The run's history, read from the store by the first caller and shared by all;
        an unknown run, or another tenant's, is not found."""
        run_id = str(parse_run_id(run_id))  # one key per run, whatever the case of its id
        history = self.histories.get(run_id)
        if history is None:
            history = self.histories[run_id] = History(self.loop.create_future())
            history.loader = self.loop.create_task(self._load(run_id, history))
        self.histories.move_to_end(run_id)
        await asyncio.shield(history.loaded)
        if not history.frames or (tenant_id is not None and history.tenant_id != tenant_id):
            raise RunNotFound(f"no run with id {run_id}")
        return history

    @asynccontextmanager
    async def listen(self, run_id: str, after: int) -> AsyncIterator[tuple[Listener, list[Frame], bool]]:
        """A stream's registration and its backlog (the history past `after`), taken at one instant:
        every frame from then on is queued for it. Also says whether the run has ended."""
        history = await self.open(run_id)  # in memory already (the handler opened it): no wait
        listener = Listener(after)
        history.listeners.add(listener)
        metrics.streams_open(self.open_streams())
        try:
            yield listener, history.after(after), history.ended
        finally:
            history.listeners.discard(listener)
            metrics.streams_open(self.open_streams())
            self._forget_idle()

    def open_streams(self) -> int:
        return sum(len(history.listeners) for history in self.histories.values())

    def stop(self) -> None:
        self.stopping.set()

    async def _load(self, run_id: str, history: History) -> None:
        try:
            events = await asyncio.to_thread(self.runs.run_events, run_id)
        except Exception as error:
            self._forget(run_id, history)
            history.loaded.set_exception(error)
            return
        for frame in [*map(encode, events), *history.early]:
            history.add(frame)
        history.early.clear()
        history.tenant_id = events[0].data.get("tenantId") if events else None
        if not events:
            self._forget(run_id, history)  # unknown ids are not kept
        history.loaded.set_result(None)
        self._forget_idle()

    def _forget(self, run_id: str, history: History) -> None:
        if self.histories.get(run_id) is history:
            del self.histories[run_id]

    def _forget_idle(self) -> None:
        """Keeps every run with a stream and the most recently opened idle ones."""
        idle = [run_id for run_id, h in self.histories.items() if not h.listeners and h.loaded.done()]
        for run_id in idle[:max(0, len(idle) - KEEP_IDLE_HISTORIES)]:
            del self.histories[run_id]

    def _follow(self) -> None:
        """Follow the store from the last position seen, a page at a time; resubscribe after a lost connection.
        Only the events of runs held here are decoded: the others cost this process next to nothing."""
        while not self.stopping.is_set():
            try:
                for page in follow_pages(self.runs.recorder, self.position, (), self.stopping):
                    self.position = page[-1].id
                    if frames := [frame for n in page if (frame := self._decode(n))]:
                        self.loop.call_soon_threadsafe(self._deliver_all, frames)
            except Exception as error:
                self.log.warning("subscription lost; resubscribing", extra={"error": str(error)[:300]})
                self.stopping.wait(RESUBSCRIBE_SECONDS)

    def _decode(self, notification: Any) -> tuple[str, Frame] | None:
        """The notification as its run's frame, if this process holds that run."""
        run_id = run_id_from(notification.originator_id)
        if run_id not in self.histories:
            return None
        domain_event = self.runs.mapper.to_domain_event(notification)
        return (run_id, encode(to_wire(domain_event))) if isinstance(domain_event, Run.Event) else None

    def _deliver_all(self, frames: list[tuple[str, Frame]]) -> None:
        for run_id, frame in frames:
            self._deliver(run_id, frame)

    def _deliver(self, run_id: str, frame: Frame) -> None:
        history = self.histories.get(run_id)
        if history is None:
            return
        if not history.loaded.done():
            history.early.append(frame)
        elif history.add(frame):
            for listener in history.listeners:
                if frame.seq > listener.position or frame.terminal:  # the end closes every stream
                    listener.queue.put_nowait(frame)
