"""Read models as pure functions of run events: what each event changes in a row.

The Postgres views in `storage/` apply these changes together with the
tracking record, so rows depend on nothing but the events: dropping the tables
and replaying rebuilds them identically.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.run import CANCELED, COMPLETED, FAILED, PAUSED, QUEUED, RUNNING, Run, run_id_from

APP_CONFIG_NAMESPACE = uuid.UUID("6f1c1c8e-3f5e-4a59-9a35-6a8f4f2f0c11")
TERMINAL_STATUS = {Run.Completed: COMPLETED, Run.Failed: FAILED, Run.Canceled: CANCELED}


@dataclass(frozen=True)
class RowChange:
    """Columns to set, and counters to add to, in one run's row."""

    run_id: str
    set: dict[str, Any] = field(default_factory=dict)
    add: dict[str, int] = field(default_factory=dict)


def app_config_id(app_config: dict[str, str]) -> str:
    """A natural key: the same app on the same server is one configuration."""
    return _app_config_id(json.dumps(app_config, sort_keys=True))


@lru_cache(maxsize=1024)  # most runs name an app seen before: the uuid5 was 9% of the runs projection's CPU
def _app_config_id(canonical_json: str) -> str:
    return str(uuid.uuid5(APP_CONFIG_NAMESPACE, canonical_json))


def run_id_of(domain_event: Any) -> str:
    return run_id_from(domain_event.originator_id)


# Nodes that come once exploring has ended: reproducing its findings (and, on a warm run, an older version's),
# then stopping.
AFTER_EXPLORING = frozenset({"Reproduce", "CheckFixed", "Stop"})


def run_row_change(e: Any) -> RowChange:
    common = {"updated_at": e.timestamp, "last_event_seq": e.originator_version}
    return RowChange(run_id_of(e), {**common, **_columns(e)}, _counters(e))


def _columns(e: Any) -> dict[str, Any]:
    kind = type(e)
    if kind is Run.Requested:
        return {
            "tenant_id": e.tenant_id, "project_id": e.project_id,
            "app_config_id": app_config_id(e.app_config), "status": QUEUED,
            "created_at": e.timestamp, "goal": e.goal, "max_steps": e.max_steps,
            "policy": getattr(e, "policy", "dfs"),  # a run requested before policies had none: dfs
            **_memory_columns(e),
        }
    if kind is Run.Started:
        return {
            "status": RUNNING, "processing_by": e.worker_id, "lease_expires_at": e.lease_expires_at,
            "heartbeat_at": e.timestamp, "started_at": e.timestamp, "attempt": e.attempt,
        }
    if kind in (Run.NodeStarted, Run.NodeFinished):
        if e.node_name in AFTER_EXPLORING:  # numbered after the last step, outside maxSteps: not steps taken
            return {"heartbeat_at": e.timestamp}
        return {"heartbeat_at": e.timestamp, "steps_taken": e.step_ordinal}
    if kind is Run.CancelRequested:
        return {"cancel_requested_at": e.timestamp}
    if kind is Run.Paused:  # the device is freed: no holder, no lease
        return {"status": PAUSED, "processing_by": None, "lease_expires_at": None}
    if kind is Run.Resumed:
        return {"status": e.status}
    if kind in TERMINAL_STATUS:
        return {"status": TERMINAL_STATUS[kind], "stop_reason": e.stop_reason,
                "finished_at": e.timestamp, "lease_expires_at": None}
    return {}


def _memory_columns(e: Any) -> dict[str, Any]:
    """Warm or cold, and the app's version: only when set, so older runs' rows stay as they were."""
    version = getattr(e, "app_version", None) or {}
    columns = {"memory": "warm"} if getattr(e, "memory", "cold") == "warm" else {}
    if version:
        columns.update(version_code=version.get("versionCode"), version_name=version.get("versionName"))
    return columns


def _counters(e: Any) -> dict[str, int]:
    if isinstance(e, Run.ScreenDiscovered):
        return {"screens_discovered": 1}
    if isinstance(e, Run.TransitionDiscovered) and e.to_screen is not None:  # an exit is no edge of the graph
        return {"transitions_discovered": 1}
    if isinstance(e, Run.FindingDetected):  # met again, a finding recurs: it is counted once
        return {"findings": 1}
    return {}


class RunsProjection(Projection[Any]):
    """Keeps the runs table: every run event changes its run's row."""

    name = "runs_projection"

    def process_page(self, page: Sequence[tuple[Any, Tracking]]) -> None:
        """Events in log order, each with its position: their row changes and the last position, together.
        Events of other aggregates (idempotency keys) change no row."""
        changes = [(run_row_change(e), e.app_config if isinstance(e, Run.Requested) else None)
                   for e, _ in page if isinstance(e, Run.Event)]
        self.view.apply(changes, page[-1][1])

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_page([(domain_event, tracking)])
