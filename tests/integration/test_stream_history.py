"""The hub reads a run's history once for all its viewers and joins it to the live events
without gaps or duplicates, however the two interleave (PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from ulid import ULID

from api.hub import EventHub
from api.streams import run_stream
from domain.application import RunRequest, RunService
from domain.run import RunNotFound
from tests.fixtures.service import wait_for

VIEWERS = 50


def frames(chunks: list[bytes]) -> list[tuple[int, str]]:
    """(id, event) of every SSE frame in the chunks a stream yielded."""
    out, seq = [], None
    for line in b"".join(chunks).decode().splitlines():
        if line.startswith("id: "):
            seq = int(line[4:])
        elif line.startswith("event: "):
            out.append((seq, line[7:]))
    return out


def new_run(runs: RunService, tenant_id: str = "local") -> str:
    request = RunRequest("/apps/a.json", "http://127.0.0.1:4723", "com.a.b", ".A", tenant_id=tenant_id)
    return str(ULID.from_uuid(runs.request_run(request).id))


def with_hub(runs: RunService, scenario: Callable[[EventHub], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        hub = EventHub(runs, asyncio.get_running_loop())
        try:
            return await asyncio.wait_for(scenario(hub), timeout=60)
        finally:
            hub.stop()
    return asyncio.run(main())


async def read(hub: EventHub, run_id: str, after: int = 0) -> list[bytes]:
    await hub.open(run_id)
    return [chunk async for chunk in run_stream(hub, run_id, after)]


def test_viewers_opening_while_events_are_saved_each_get_every_event_once_in_order(runs):
    run_id = new_run(runs)
    runs.start_run(run_id, "w1", 30)
    steps = 40

    async def scenario(hub: EventHub) -> list[list[tuple[int, str]]]:
        written = asyncio.Condition()
        steps_written = [0]

        async def write() -> None:
            for step in range(1, steps + 1):
                await asyncio.to_thread(runs.start_node, run_id, "Perceive", step)
                async with written:
                    steps_written[0] = step
                    written.notify_all()
            await asyncio.to_thread(runs.complete_run, run_id, "max_steps", {})

        async def view(arrive_after: int) -> list[tuple[int, str]]:
            async with written:  # viewers arrive at different moments of the run
                await written.wait_for(lambda: steps_written[0] >= arrive_after)
            return frames(await read(hub, run_id))

        results = await asyncio.gather(write(), *[view(i % steps) for i in range(VIEWERS)])
        return results[1:]

    seen = with_hub(runs, scenario)
    expected = [(seq, name) for seq, name in enumerate(
        ["run.queued", "run.started", *["agent.node.started"] * steps, "run.completed"], start=1)]
    assert all(viewer == expected for viewer in seen)


def test_history_is_read_once_for_many_viewers_and_resumes_after_a_position(runs, monkeypatch):
    run_id = new_run(runs)
    runs.start_run(run_id, "w1", 30)
    reads = []
    real = runs.run_events
    monkeypatch.setattr(runs, "run_events", lambda *a: reads.append(a) or real(*a))

    async def scenario(hub: EventHub) -> tuple[list[list[bytes]], list[bytes], list[bytes]]:
        opened = await asyncio.gather(*[hub.open(run_id) for _ in range(VIEWERS)])
        assert all(history is opened[0] for history in opened)
        await asyncio.to_thread(runs.cancel_run, run_id)
        await asyncio.to_thread(runs.confirm_cancel, run_id, "w1")
        everything = await read(hub, run_id)
        tail = await read(hub, run_id, after=2)
        past_end = await read(hub, run_id, after=4)
        return everything, tail, past_end

    everything, tail, past_end = with_hub(runs, scenario)
    assert len(reads) == 1
    assert [seq for seq, _ in frames(everything)] == [1, 2, 3, 4]
    assert frames(tail) == [(3, "run.cancel_requested"), (4, "run.canceled")]
    assert past_end == []


def test_unknown_and_other_tenants_runs_are_not_found_and_not_kept(runs):
    mine = new_run(runs, tenant_id="acme")

    async def scenario(hub: EventHub) -> int:
        for run_id, tenant in ((str(ULID()), "acme"), (mine, "globex")):
            with pytest.raises(RunNotFound):
                await hub.open(run_id, tenant)
        await hub.open(mine.lower(), "acme")  # any case of the id names the same run
        return len(hub.histories)

    assert with_hub(runs, scenario) == 1


def test_an_event_saved_while_the_history_is_read_reaches_the_stream(runs, monkeypatch):
    run_id = new_run(runs)
    runs.start_run(run_id, "w1", 30)
    real = runs.run_events
    hubs: list[EventHub] = []

    def read_then_write(*args: Any) -> list:
        history = real(*args)
        saved = runs.start_node(run_id, "Perceive", 1)  # committed after the read, before the read returns
        last = runs.recorder.max_notification_id()
        wait_for(lambda: hubs[0].position >= last, 10, "the subscription to hand the event to the loop")
        assert saved.version == 3
        return history

    monkeypatch.setattr(runs, "run_events", read_then_write)

    async def scenario(hub: EventHub) -> list[tuple[int, str]]:
        hubs.append(hub)
        await hub.open(run_id)
        await asyncio.to_thread(runs.complete_run, run_id, "max_steps", {})
        return frames([chunk async for chunk in run_stream(hub, run_id, 0)])

    assert [seq for seq, _ in with_hub(runs, scenario)] == [1, 2, 3, 4]
