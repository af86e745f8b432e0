"""What the client hands back: events of a run's stream, and runs that show themselves in Jupyter."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

TERMINAL_EVENTS = frozenset({"run.completed", "run.failed", "run.canceled"})
FINISHED_STATUSES = frozenset({"completed", "failed", "canceled"})
LLM_CALLED = "agent.llm.called"


@dataclass(frozen=True)
class RunEvent:
    """One event of a run's SSE stream: `seq` is its id (1, 2, 3... without gaps)."""

    seq: int
    name: str
    data: dict[str, Any]

    @property
    def is_terminal(self) -> bool:
        return self.name in TERMINAL_EVENTS

    @classmethod
    def from_sse(cls, sse: Any) -> RunEvent:
        return cls(int(sse.id), sse.event, json.loads(sse.data))


class Run(dict):
    """A run as the service answered it (its camelCase JSON, so `run["status"]` works), plus
    `metrics` once it finished, attributes for the usual fields, and HTML for Jupyter."""

    def __init__(self, data: dict[str, Any], svg_source: Callable[[str], str] | None = None) -> None:
        super().__init__(data)
        self._svg_source = svg_source  # fetches graph.svg when a notebook shows the run

    @property
    def id(self) -> str:
        return self["runId"]

    @property
    def status(self) -> str | None:
        return self.get("status")

    @property
    def stop_reason(self) -> str | None:
        return self.get("stopReason")

    @property
    def policy(self) -> str | None:
        """What chose the run's actions ("dfs", "random", "llm" or a plug-in); None in start's answer."""
        return self.get("policy")

    @property
    def metrics(self) -> dict[str, Any]:
        return self.get("metrics") or {}

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def _repr_html_(self) -> str:
        e = html.escape
        head = f"<b>Run</b> <code>{e(self.id)}</code>: <b>{e(str(self.status))}</b>"
        if self.stop_reason:
            head += f", stop reason <b>{e(self.stop_reason)}</b>"
        if self.policy:
            head += f", policy <b>{e(self.policy)}</b>"
        cells = "".join(f"<tr><th style='text-align:left'>{e(k)}</th><td>{e(str(v))}</td></tr>"
                        for k, v in self.metrics.items())
        table = f"<table>{cells}</table>" if cells else ""
        return f"<div><p>{head}</p>{table}{self._graph_html()}</div>"

    def _graph_html(self) -> str:
        if self._svg_source is None:
            return ""
        try:
            svg = self._svg_source(self.id)
        except Exception as error:  # a notebook cell must still show the run
            return f"<p><i>screen graph unavailable: {html.escape(str(error))}</i></p>"
        # The service draws the picture itself (graph.svg), so it is inlined as it came.
        return f"<div style='max-width:100%;overflow:auto'>{svg}</div>"


def finished_run(state: dict[str, Any], terminal: RunEvent | None) -> dict[str, Any]:
    """A run's state with what only its terminal event carries: metrics, and the error of a failed run."""
    if terminal is None:
        return state
    extra = {"metrics": terminal.data.get("metrics") or {}}
    if "error" in terminal.data:
        extra["error"] = terminal.data["error"]
    return {**state, **extra}


def llm_usage(events: Iterable[RunEvent]) -> dict[str, Any]:
    """What a run's `agent.llm.called` events add up to: the requests sent to the model (a cached answer
    or a spent budget sends none), its tokens, how often its answer was used, and the fallbacks to the
    depth-first choice by reason (timeout, http_error, refused, invalid_answer, budget)."""
    calls = [event.data for event in events if event.name == LLM_CALLED]
    sent = [call for call in calls if was_sent(call)]
    latency = sum(call.get("latencyMs") or 0 for call in sent)
    return {
        "calls": len(calls),
        "requests": len(sent),
        "cached": sum(1 for call in calls if call.get("cached")),
        "chosen": sum(1 for call in calls if call.get("outcome") == "chosen"),
        "fallbacks": dict(sorted(Counter(call.get("reason") or "unknown" for call in calls
                                         if call.get("outcome") == "fallback").items())),
        "promptTokens": sum(call.get("promptTokens") or 0 for call in calls),
        "completionTokens": sum(call.get("completionTokens") or 0 for call in calls),
        "meanLatencyMs": round(latency / len(sent)) if sent else None,
        "purposes": dict(sorted(Counter(call.get("purpose") for call in calls).items())),
        "models": sorted({call["model"] for call in calls if call.get("model")}),
    }


def was_sent(call: dict[str, Any]) -> bool:
    """An `agent.llm.called` event's data that stands for a request to the model."""
    return not call.get("cached") and call.get("reason") != "budget"
