"""What RunClient and AsyncRunClient do differently beyond awaiting, written both ways by hand: how they do
several things at once (start_many, wait_all), and what fetches a run's graph when a notebook shows the run.
client.py is async_client.py through unasync, which turns each async name here into its blocking twin
(AsyncParallel into SyncParallel, async_svg_source into svg_source)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, TypeVar

import httpx
import tenacity

from runservice_client import calls
from runservice_client.errors import RunServiceError

T = TypeVar("T")
R = TypeVar("R")

# Threads that start or follow runs at once in RunClient's start_many / wait_all (one HTTP connection each).
PARALLEL = 16


class SyncParallel:
    """RunClient's: up to PARALLEL threads at once."""

    size = PARALLEL

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """fn on every item at once; the results in the items' order."""
        with ThreadPoolExecutor(self.size) as pool:
            return list(pool.map(fn, list(items)))

    def each(self, fn: Callable[[T], R], items: Iterable[T], done: Callable[[R], Any]) -> list[R]:
        """fn on every item at once, `done` on each result as it comes; the results in the items' order."""
        items = list(items)
        results: dict[int, R] = {}
        pool = ThreadPoolExecutor(self.size)
        try:
            calls = {pool.submit(fn, item): index for index, item in enumerate(items)}
            for call in as_completed(calls):
                results[calls[call]] = call.result()
                done(results[calls[call]])
        finally:  # an error (an unknown run id) raises at once, not after every other call ended
            pool.shutdown(wait=False, cancel_futures=True)
        return [results[index] for index in range(len(items))]


class AsyncParallel:
    """AsyncRunClient's: up to twice PARALLEL tasks at once, across all of the client's calls."""

    size = PARALLEL * 2

    def __init__(self) -> None:
        self._slots = asyncio.Semaphore(self.size)  # streams followed at once by wait_all

    async def map(self, fn: Callable[[T], Awaitable[R]], items: Iterable[T]) -> list[R]:
        return await self.each(fn, items, lambda result: None)

    async def each(self, fn: Callable[[T], Awaitable[R]], items: Iterable[T], done: Callable[[R], Any]) -> list[R]:
        async def one(item: T) -> R:
            async with self._slots:
                result = await fn(item)
            done(result)
            return result
        return list(await asyncio.gather(*(one(item) for item in items)))


def svg_source(client: Any) -> Callable[[str], str]:
    """RunClient's graph_svg, which blocks already."""
    return client.graph_svg


def async_svg_source(client: Any) -> Callable[[str], str]:
    """Jupyter renders a run synchronously, inside the running loop: a short blocking request, retried as the
    clients' own are (this module is below both clients: it cannot borrow RunClient)."""
    def graph_svg(run_id: str) -> str:
        call = calls.graph_svg(run_id)
        with httpx.Client(base_url=client.base_url, headers=calls.auth_headers(client.api_key),
                          timeout=client.timeout) as http:
            def once() -> httpx.Response:
                response = http.request(call.method, call.path)
                if response.status_code >= 400:
                    raise RunServiceError.from_response(response)
                return response
            try:
                return calls.decode(call, tenacity.Retrying(**calls.retry_options(client.retries))(once))
            except httpx.TransportError as error:
                raise RunServiceError.unreachable(client.base_url, error) from None
    return graph_svg
