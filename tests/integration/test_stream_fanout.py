"""One subscription per process feeds a thousand open streams from memory (PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio

from ulid import ULID

from api.hub import EventHub
from api.streams import run_stream
from domain.application import RunRequest, RunService

STREAMS = 1000


def event_names(chunk: bytes) -> list[str]:
    return [line[len("event: "):] for line in chunk.decode().splitlines() if line.startswith("event: ")]


def test_a_thousand_streams_share_one_subscription_and_leave_nothing_behind(pg_env):
    runs = RunService(env=pg_env)
    run_id = str(ULID.from_uuid(runs.request_run(RunRequest("/apps/a.json", "http://127.0.0.1:4723", "com.a.b", ".A")).id))

    async def scenario() -> tuple[int, list[list[str]], int]:
        hub = EventHub(runs, asyncio.get_running_loop())
        received: list[list[str]] = [[] for _ in range(STREAMS)]

        async def follow(index: int) -> None:
            await hub.open(run_id)
            async for chunk in run_stream(hub, run_id, after=0):
                received[index] += event_names(chunk)

        tasks = [asyncio.create_task(follow(i)) for i in range(STREAMS)]
        while hub.open_streams() < STREAMS or any(len(r) < 1 for r in received):
            await asyncio.sleep(0.01)
        opened = hub.open_streams()
        await asyncio.to_thread(runs.start_run, run_id, "w1", 30)  # saved in another thread, delivered live
        await asyncio.to_thread(runs.cancel_run, run_id)
        await asyncio.to_thread(runs.confirm_cancel, run_id, "w1")
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)  # every stream ends with the terminal event
        hub.stop()
        return opened, received, hub.open_streams()

    opened, received, left = asyncio.run(scenario())
    assert opened == STREAMS and left == 0
    expected = ["run.queued", "run.started", "run.cancel_requested", "run.canceled"]
    assert all(events == expected for events in received)
