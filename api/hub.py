"""One event-store subscription per process, fanned out in memory to every open stream.

A stream registers for its run before reading the run's history from the store,
so an event saved meanwhile arrives both ways; a stream is handed only events
past what it has sent (its position): no gaps, no duplicates, and no work for
streams that have nothing new to send.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from eventsourcing.projection import ApplicationSubscription

from config.logging import logger_for
from domain.application import RunService
from domain.projections import run_id_of
from domain.wire import WireEvent, to_wire

RESUBSCRIBE_SECONDS = 0.5


@dataclass(eq=False)
class Listener:
    """One open stream: what it has sent so far, and the events waiting to be sent."""

    position: int
    queue: asyncio.Queue[WireEvent] = field(default_factory=asyncio.Queue)

    def sent(self, seq: int) -> None:
        self.position = seq


class EventHub:
    def __init__(self, runs: RunService, loop: asyncio.AbstractEventLoop) -> None:
        self.runs, self.loop = runs, loop
        self.streams: dict[str, set[Listener]] = defaultdict(set)
        self.stopping = threading.Event()
        self.position = runs.recorder.max_notification_id()
        self.log = logger_for("run", "stream")
        threading.Thread(target=self._follow, name="event-hub", daemon=True).start()

    @contextmanager
    def listen(self, run_id: str, after: int) -> Iterator[Listener]:
        listener = Listener(after)
        self.streams[run_id].add(listener)
        try:
            yield listener
        finally:
            self.streams[run_id].discard(listener)
            if not self.streams[run_id]:
                del self.streams[run_id]

    def open_streams(self) -> int:
        return sum(len(queues) for queues in self.streams.values())

    def stop(self) -> None:
        self.stopping.set()

    def _follow(self) -> None:
        """Follow the store from the last position seen; resubscribe after a lost connection."""
        while not self.stopping.is_set():
            try:
                with ApplicationSubscription(self.runs, gt=self.position) as subscription:
                    for domain_event, tracking in subscription:
                        self.position = tracking.notification_id
                        if run_id_of(domain_event) in self.streams:
                            self.loop.call_soon_threadsafe(self._deliver, to_wire(domain_event))
                        if self.stopping.is_set():
                            return
            except Exception as error:  # noqa: BLE001 - the database restarts; streams must not die with it
                self.log.warning("subscription lost; resubscribing", extra={"error": str(error)[:300]})
                self.stopping.wait(RESUBSCRIBE_SECONDS)

    def _deliver(self, event: WireEvent) -> None:
        for listener in self.streams.get(event.data["runId"], ()):
            if event.seq > listener.position or event.is_terminal:  # the end closes every stream
                listener.queue.put_nowait(event)
