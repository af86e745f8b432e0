"""The service's metrics for operators, through `ray.util.metrics`: the one home of their names.

Every Ray node exports them in Prometheus format on its metrics port (Ray prefixes `ray_`),
and Ray's dashboards and a Prometheus pointed at Ray's service-discovery file show them.
Each process records its own series; call sites are one-liners.

The agent's own time in a step is the step's wall time less what it waited for: Appium calls,
event-store appends and the other store round trips (cancel checks, artifacts), summed per
thread, since a device actor runs one run per thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from types import SimpleNamespace

from ray.util.metrics import Counter, Gauge, Histogram

SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]
FINE_SECONDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0]

_waited = threading.local()


@cache
def _m() -> SimpleNamespace:
    """Created on first use, in the process that records them (an actor or a replica)."""
    return SimpleNamespace(
        runs_started=Counter("runservice_runs_started", "Runs a device started (takeovers included)"),
        runs_finished=Counter("runservice_runs_finished", "Runs a device ended, by status and stop reason",
                              tag_keys=("status", "stop_reason")),
        queue_depth=Gauge("runservice_queue_depth", "Runs waiting for a device"),
        devices_busy=Gauge("runservice_devices_busy", "Devices holding a run (leases held)"),
        steps=Counter("runservice_steps", "Exploration steps, by device", tag_keys=("device",)),
        step_seconds=Histogram("runservice_step_seconds", "Wall time of one exploration step", SECONDS),
        step_agent_seconds=Histogram("runservice_step_agent_seconds",
                                     "The agent's own time in a step (less Appium and store waits)", FINE_SECONDS),
        appium_seconds=Histogram("runservice_appium_seconds", "One Appium call", SECONDS),
        append_seconds=Histogram("runservice_event_append_seconds", "One save of a run's pending events", SECONDS),
        streams_open=Gauge("runservice_streams_open", "SSE streams open on an API replica"),
    )


def run_started() -> None:
    _m().runs_started.inc()


def run_finished(status: str, stop_reason: str | None) -> None:
    _m().runs_finished.inc(tags={"status": status, "stop_reason": stop_reason or ""})


def queue_depth(pending: int, leased: int) -> None:
    _m().queue_depth.set(pending)
    _m().devices_busy.set(leased)


def streams_open(count: int) -> None:
    _m().streams_open.set(count)


def step_done(device: str, started: float, waited_before: float) -> None:
    """A step that began at `started` (perf_counter) when this thread had waited `waited_before`."""
    seconds = time.perf_counter() - started
    _m().steps.inc(tags={"device": device})
    _m().step_seconds.observe(seconds)
    _m().step_agent_seconds.observe(max(0.0, seconds - (waited() - waited_before)))


def waited() -> float:
    """Seconds this thread has spent waiting on Appium and the store so far."""
    return getattr(_waited, "seconds", 0.0)


@contextmanager
def waiting(histogram: str | None = None) -> Iterator[None]:
    """Times a wait on something outside the agent: `appium`, `append`, or None (another store call)."""
    started, depth = time.perf_counter(), getattr(_waited, "depth", 0)
    _waited.depth = depth + 1
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        _waited.depth = depth
        if depth == 0:  # a wait inside a wait counts once
            _waited.seconds = waited() + seconds
        if histogram:
            getattr(_m(), f"{histogram}_seconds").observe(seconds)
