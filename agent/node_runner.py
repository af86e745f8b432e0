"""How the agent runs one node: `agent.node.started`, the work, `agent.node.finished`.

A node's work may return a `Stop` (the goal is reached, the budget spent): the node is
recorded with its stop reason and the `Stop` is handed back to the loop.

Cancellation and pause are honoured at every node boundary: each node first
reads the run's newest state (one small query), and a cancel or pause recorded
before it stops the run before the node does any work. The events themselves
are saved in batches by the RunWriter.
"""

from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

from adapters import telemetry as metrics
from agent.outcome import CANCELED, PAUSED, Interrupted, Stop
from agent.run_writer import RunWriter
from domain.application import RunService
from domain.run import Run

T = TypeVar("T")


class NodeRunner:
    def __init__(self, runs: RunService, run_id: str, worker_id: str) -> None:
        self.writer, self.worker_id = RunWriter(runs, run_id), worker_id
        self.last_step = 0  # of the latest node started: the Stop node comes after a reproduction's steps

    def __call__(self, name: str, step: int, work: Callable[[], T], detail: Callable[[T], dict] | None = None) -> T:
        with metrics.waiting():  # one store query: not the agent's own time
            request = self.writer.user_request()
        self.start(name, step)
        if request is not None:
            self.finish(name, step, "SKIPPED", reason=f"{request} requested")
            raise Interrupted(CANCELED if request == "cancel" else PAUSED)
        started = time.perf_counter()
        try:
            result = work()
        except Interrupted as interrupt:
            self.finish(name, step, "FAILURE", stopReason=interrupt.stop.stop_reason, durationMs=_ms(started))
            raise
        except Exception as error:  # every failure is recorded, then handled by the caller
            self.finish(name, step, "FAILURE", error=str(error), durationMs=_ms(started))
            raise
        if isinstance(result, Stop):  # reaching a goal or a budget ends the run, and the node succeeded
            outcome = "SUCCESS" if result.outcome == "completed" else "FAILURE"
            self.finish(name, step, outcome, stopReason=result.stop_reason, durationMs=_ms(started))
            return result
        extra = detail(result) if detail else {}
        self.finish(name, step, "SUCCESS", durationMs=_ms(started), **extra)
        return result

    def start(self, name: str, step: int) -> None:
        worker = self.worker_id
        self.last_step = max(self.last_step, step)
        self.writer.apply(lambda run: run.start_node(name, step, worker))

    def finish(self, name: str, step: int, outcome: str, **detail: Any) -> None:
        worker = self.worker_id
        self.writer.apply(lambda run: run.finish_node(name, step, outcome, detail, worker))

    def record(self, command: Callable[..., None], **fields: Any) -> None:
        """One fact of the run, by its command on the aggregate: `node.record(Run.record_screen, ...)`."""
        worker = self.worker_id
        self.writer.apply(lambda run: command(run, worker, **fields))

    def end_run(self, command: Callable[[Run], None]) -> None:
        self.writer.apply(command)
        self.flush()

    def flush(self) -> None:
        """Saves what the nodes recorded: once a step, before waits, and at the end."""
        self.writer.flush()

    def cancel_requested(self) -> bool:
        return self.writer.cancel_requested()


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
