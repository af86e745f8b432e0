"""What RunClient and AsyncRunClient do differently beyond awaiting (runservice_client/flavours.py), without the service."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from runservice_client import AsyncRunClient, RunClient
from runservice_client.flavours import AsyncParallel, SyncParallel


def test_the_threads_answer_in_the_items_order_and_report_each_as_it_ends():
    seen: list[int] = []

    def slow_first(n: int) -> int:
        time.sleep(0.2 if n == 0 else 0)
        return n * 10

    assert SyncParallel().map(slow_first, iter(range(5))) == [0, 10, 20, 30, 40]
    assert SyncParallel().each(slow_first, range(5), seen.append) == [0, 10, 20, 30, 40]
    assert sorted(seen) == [0, 10, 20, 30, 40] and seen[-1] == 0


def test_a_failing_thread_raises_at_once_without_waiting_for_the_others():
    release = threading.Event()

    def unknown_or_slow(n: int) -> int:
        if n == 0:
            raise LookupError("unknown run")
        release.wait(5)
        return n

    began = time.monotonic()
    with pytest.raises(LookupError):
        SyncParallel().each(unknown_or_slow, range(3), lambda result: None)
    release.set()
    assert time.monotonic() - began < 2


def test_the_tasks_answer_in_order_with_at_most_size_at_once():
    parallel = AsyncParallel()
    parallel._slots = asyncio.Semaphore(2)
    running, most, seen = 0, 0, []

    async def job(n: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01 * (5 - n))
        running -= 1
        return n * 10

    async def both() -> tuple[list[int], list[int]]:
        return await parallel.map(job, range(5)), await parallel.each(job, range(5), seen.append)

    assert asyncio.run(both()) == ([0, 10, 20, 30, 40], [0, 10, 20, 30, 40])
    assert most == 2 and sorted(seen) == [0, 10, 20, 30, 40]


def test_a_run_shows_its_graph_through_a_blocking_request():
    with RunClient("http://127.0.0.1:9") as client:
        run = client._run({"runId": "r1"})
        assert run._svg_source == client.graph_svg  # the client's own, already blocking

    async def shown() -> object:
        async with AsyncRunClient("http://127.0.0.1:9") as client:
            return client._run({"runId": "r1"})._svg_source

    source = asyncio.run(shown())
    assert callable(source) and not asyncio.iscoroutinefunction(source)


def test_both_clients_have_the_same_methods_and_signatures():
    import inspect

    public = [name for name in vars(AsyncRunClient) if not name.startswith("_")]
    assert public == [name for name in vars(RunClient) if not name.startswith("_")]
    for name in public:
        assert inspect.signature(getattr(RunClient, name)).parameters.keys() == \
            inspect.signature(getattr(AsyncRunClient, name)).parameters.keys()
