"""A run's event stream: its history after a position (from the hub's memory, in one
chunk), then live, closing after the terminal event."""

from __future__ import annotations

from collections.abc import AsyncIterator

from api.hub import EventHub


async def run_stream(hub: EventHub, run_id: str, after: int) -> AsyncIterator[bytes]:
    """SSE frames; the caller opened the run through the hub first (404 before the stream starts)."""
    async with hub.listen(run_id, after) as (stream, backlog, ended):
        if backlog:
            stream.sent(backlog[-1].seq)
            yield b"".join(frame.data for frame in backlog)
            if backlog[-1].terminal:
                return
        elif ended:
            return  # resumed at or after the terminal event: nothing more will come
        while True:
            frame = await stream.queue.get()
            if frame.seq <= stream.position:
                if frame.terminal:
                    return  # resumed past the run's end (a bogus Last-Event-ID): close with it
                continue
            stream.sent(frame.seq)
            yield frame.data
            if frame.terminal:
                return
