"""RunWriter: the worker's own copy of the run it holds, saved in batches.

Each event is applied to the copy at once (the aggregate's rules still decide),
and the pending events are saved together, about once a step, instead of one
load and one save per event. A save that conflicts means someone else wrote to
the run meanwhile (a user's cancel, or another worker that took the run over):
the writer reloads the run and applies its pending commands again, so the
aggregate decides on the newest state (LeaseLost, RunAlreadyFinished).
"""

from __future__ import annotations

from typing import Callable

from eventsourcing.persistence import IntegrityError

from adapters import telemetry as metrics
from domain.application import RunService
from domain.run import Run

Command = Callable[[Run], None]
MAX_CONFLICTS = 8


class RunWriter:
    def __init__(self, runs: RunService, run_id: str) -> None:
        self.runs, self.run_id = runs, run_id
        self.run = runs.get_run(run_id)
        self.saved_version = self.run.version
        self.pending: list[Command] = []

    def apply(self, command: Command) -> None:
        command(self.run)
        self.pending.append(command)

    def flush(self) -> None:
        for _ in range(MAX_CONFLICTS):
            try:
                with metrics.waiting("append"):
                    self.runs.save(self.run)
            except IntegrityError:
                self.run = self.runs.get_run(self.run_id)
                for command in self.pending:
                    command(self.run)
            else:
                self.pending.clear()
                self.saved_version = self.run.version
                return
        raise IntegrityError(f"run {self.run_id}: {MAX_CONFLICTS} conflicting saves in a row")

    def cancel_requested(self) -> bool:
        return self.user_request() == "cancel"

    def user_request(self) -> str | None:
        """"cancel" or "pause" when a user asked for one. Those are written by the API, not by
        this worker: look for them among the events stored since this writer's last save (one
        small indexed query, usually empty). A cancel wins; a resume withdraws a pause."""
        if self.run.cancel_requested_at is not None:
            return "cancel"
        pause = self.run.pause_requested
        for event in self.runs.events_after(self.run_id, self.saved_version):
            if isinstance(event, Run.CancelRequested):
                return "cancel"
            if isinstance(event, (Run.PauseRequested, Run.Resumed)):
                pause = isinstance(event, Run.PauseRequested)
        return "pause" if pause else None
