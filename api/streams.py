"""A run's event stream: replay its history after a position, then follow it live,
and close after the terminal event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from sse_starlette import ServerSentEvent

from api.hub import EventHub
from domain.application import RunService
from domain.wire import WireEvent


def to_sse(event: WireEvent) -> ServerSentEvent:
    return ServerSentEvent(id=str(event.seq), event=event.name, data=json.dumps(event.data, separators=(",", ":")))


async def run_stream(runs: RunService, hub: EventHub, run_id: str, after: int) -> AsyncIterator[ServerSentEvent]:
    with hub.listen(run_id, after) as stream:
        for event in await asyncio.to_thread(runs.run_events, run_id, after):
            stream.sent(event.seq)
            yield to_sse(event)
            if event.is_terminal:
                return
        if await asyncio.to_thread(_ended_by, runs, run_id, stream.position):
            return  # resumed at or after the terminal event: nothing more will come
        while True:
            event = await stream.queue.get()
            if event.seq <= stream.position:
                if event.is_terminal:
                    return  # resumed past the run's end (a bogus Last-Event-ID): close with it
                continue  # queued before the history covered it
            stream.sent(event.seq)
            yield to_sse(event)
            if event.is_terminal:
                return


def _ended_by(runs: RunService, run_id: str, seq: int) -> bool:
    run = runs.get_run(run_id)
    return run.is_finished and run.version <= seq
