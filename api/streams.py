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
    with hub.listen(run_id) as live:
        history = await asyncio.to_thread(runs.run_events, run_id, after)
        last = after
        for event in history:
            yield to_sse(event)
            last = event.seq
            if event.is_terminal:
                return
        if await asyncio.to_thread(_ended_by, runs, run_id, last):
            return  # resumed at or after the terminal event: nothing more will come
        while True:
            event = await live.get()
            if event.seq <= last:
                continue  # already sent from history
            yield to_sse(event)
            last = event.seq
            if event.is_terminal:
                return


def _ended_by(runs: RunService, run_id: str, seq: int) -> bool:
    run = runs.get_run(run_id)
    return run.is_finished and run.version <= seq
