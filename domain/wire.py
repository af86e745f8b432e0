"""How a stored run event is shown to clients: the SSE contract's event name and data.

Computed only from the stored event, so a replay is identical to what was sent live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


from domain.run import Run, run_id_from

EVENT_NAMES: dict[type, str] = {
    Run.Requested: "run.queued",
    Run.Started: "run.started",
    Run.NodeStarted: "agent.node.started",
    Run.NodeFinished: "agent.node.finished",
    Run.CancelRequested: "run.cancel_requested",
    Run.PauseRequested: "run.pause_requested",
    Run.Paused: "run.paused",
    Run.Resumed: "run.resumed",
    Run.Completed: "run.completed",
    Run.Failed: "run.failed",
    Run.Canceled: "run.canceled",
    Run.ScreenPerceived: "agent.screen.perceived",
    Run.ActionPerformed: "agent.action.performed",
    Run.ScreenDiscovered: "graph.screen.discovered",
    Run.TransitionDiscovered: "graph.transition.discovered",
    Run.LlmCalled: "agent.llm.called",
    Run.SystemDialogAnswered: "agent.system.dialog",
    Run.AppLeft: "agent.app.left",
    Run.DeviceRecovered: "agent.device.recovered",
    Run.FindingDetected: "agent.finding.detected",
    Run.FindingRecurred: "agent.finding.recurred",
    Run.FindingReproduced: "agent.finding.reproduced",
    Run.MemoryRecalled: "agent.memory.recalled",
    Run.FindingFixed: "agent.finding.fixed",
}
TERMINAL_NAMES = frozenset({"run.completed", "run.failed", "run.canceled"})
# Fields kept inside the store: inputs may hold credentials; app_config (and an APK's manifest), the run's
# permissions answer, avoid patterns, extra capabilities, memory and app version are served by /run/{id}, as the
# run's configuration.
PRIVATE_FIELDS = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp", "inputs", "app_config", "manifest",
     "permissions", "avoid", "capabilities", "memory", "app_version"}
)


@dataclass(frozen=True)
class WireEvent:
    seq: int
    name: str
    data: dict[str, Any]

    @property
    def is_terminal(self) -> bool:
        return self.name in TERMINAL_NAMES


def iso(ts: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a Z, as in DESIGN.md's example."""
    utc = ts.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def to_wire(domain_event: Any) -> WireEvent:
    name = EVENT_NAMES[type(domain_event)]
    seq = domain_event.originator_version
    data: dict[str, Any] = {
        "runId": run_id_from(domain_event.originator_id),
        "seq": seq,
        "ts": iso(domain_event.timestamp),
    }
    for key, value in vars(domain_event).items():
        if key not in PRIVATE_FIELDS:
            data[camel(key)] = iso(value) if isinstance(value, datetime) else value
    return WireEvent(seq, name, data)
