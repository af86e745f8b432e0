"""Stream opening under a crowd: N viewers open one live run's stream at the same moment.

Each viewer is an asyncio task with its own connection; all start together, and
each notes when its first event arrives and when it has the whole history (the
run's last event so far). Viewers keep their streams open until every viewer has
its history, so the server holds all of them at once (as a crowd watching a run
would), then all close. Baselines measured in the same run: one viewer alone, and
the same crowd sending a no-op `GET /ping` at once (what Ray Serve's proxy and
replica cost per request, whatever the route does).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx

VIEWER_TIMEOUT_SECONDS = 120.0


async def _viewer(client: httpx.AsyncClient, url: str, last_seq: int, go: asyncio.Event, done: asyncio.Event,
                  out: dict[str, Any]) -> None:
    await go.wait()
    began = time.perf_counter()
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                out["error"] = f"HTTP {response.status_code}"
                return
            lines = response.aiter_lines()
            async for line in lines:
                if line.startswith("id: "):
                    out.setdefault("first", time.perf_counter() - began)
                    if int(line[4:]) >= last_seq:
                        out["history"] = time.perf_counter() - began
                        break
            if "history" not in out:
                out["error"] = "stream closed before the history was sent"
                return
            out["holding"] = True
            reading = asyncio.create_task(_drain(lines))  # keep-alives, until the others have their history
            await asyncio.wait([reading, asyncio.create_task(done.wait())], return_when=asyncio.FIRST_COMPLETED)
            if reading.done():
                out["error"] = "stream closed early"
            reading.cancel()
    except httpx.HTTPError as error:
        out["error"] = type(error).__name__


async def _drain(lines: Any) -> None:
    async for _ in lines:
        pass


async def _crowd(api: str, run_id: str, last_seq: int, viewers: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(VIEWER_TIMEOUT_SECONDS)
    outs: list[dict[str, Any]] = [{} for _ in range(viewers)]
    go, done = asyncio.Event(), asyncio.Event()
    async with httpx.AsyncClient(base_url=api, limits=limits, timeout=timeout) as client:
        url = f"/run/{run_id}/stream"
        tasks = [asyncio.create_task(_viewer(client, url, last_seq, go, done, out)) for out in outs]
        await asyncio.sleep(0.2)  # every task is waiting on `go`
        began = time.perf_counter()
        go.set()
        deadline = began + VIEWER_TIMEOUT_SECONDS
        while not all("error" in o or "history" in o for o in outs) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        held = sum(1 for o in outs if o.get("holding"))
        server_open = (await client.get("/streams")).json()["open"]
        done.set()
        await asyncio.wait(tasks, timeout=30)
    first = sorted(o["first"] for o in outs if "first" in o)
    history = sorted(o["history"] for o in outs if "history" in o)
    errors = Counter(o.get("error", "no history in time") for o in outs if "error" in o or "history" not in o)
    return {"viewers": viewers, "served": len(history), "errors": dict(errors), "held_at_once": held,
            "server_open_streams": server_open,
            "first_p50": _median(first), "first_max": max(first, default=float("nan")),
            "history_p50": _median(history), "history_max": max(history, default=float("nan"))}


async def _ping_crowd(api: str, viewers: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=api, limits=limits, timeout=httpx.Timeout(VIEWER_TIMEOUT_SECONDS)) as client:
        go = asyncio.Event()

        async def ping() -> float | str:
            await go.wait()
            began = time.perf_counter()
            try:
                status = (await client.get("/ping")).status_code
            except httpx.HTTPError as error:
                return type(error).__name__
            return time.perf_counter() - began if status == 200 else f"HTTP {status}"

        tasks = [asyncio.create_task(ping()) for _ in range(viewers)]
        await asyncio.sleep(0.2)
        go.set()
        results = await asyncio.gather(*tasks)
    times = sorted(r for r in results if isinstance(r, float))
    return {"ping_p50": _median(times), "ping_max": max(times, default=float("nan")),
            "ping_errors": len(results) - len(times)}


def _median(values: list[float]) -> float:
    return values[len(values) // 2] if values else float("nan")


def stream_opening(api: str, run_id: str, last_seq: int, crowds: list[int]) -> list[dict[str, Any]]:
    """One crowd after another (1 = the baseline), on the same live run."""
    return [{**asyncio.run(_crowd(api, run_id, last_seq, viewers)), **asyncio.run(_ping_crowd(api, viewers))}
            for viewers in crowds]
