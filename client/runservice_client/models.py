"""What the client hands back: events of a run's stream, and runs that show themselves in Jupyter."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from runservice_client.memory import FindingHistory, version_label

TERMINAL_EVENTS = frozenset({"run.completed", "run.failed", "run.canceled"})
FINISHED_STATUSES = frozenset({"completed", "failed", "canceled"})
LLM_CALLED = "agent.llm.called"
FINDING_DETECTED = "agent.finding.detected"
FINDING_KINDS = ("crash", "anr", "accessibility")
TESTED_KINDS = frozenset({"crash", "anr"})  # the kinds with a test.py (an accessibility finding has none)
NEW = "new"  # in fail_on: only the findings no earlier run of the app met
FAIL_ON = (*FINDING_KINDS, NEW)


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
    def permissions(self) -> str | None:
        """How the agent answers permission dialogs ("grant" or "deny"); None in start's answer."""
        return self.get("permissions")

    @property
    def avoid(self) -> list[str]:
        """The patterns of elements the run never acts on ("id/<name>", "text:<regex>"); [] in start's answer."""
        return list(self.get("avoid") or ())

    @property
    def capabilities(self) -> dict[str, Any]:
        """The extra Appium capabilities of the run's session ({"appium:udid": ...}); {} in start's answer."""
        return dict(self.get("capabilities") or {})

    @property
    def memory(self) -> str:
        """ "warm" when the run began from what earlier runs of its app found, else "cold" (also where the answer
        does not say: start's answer, a service from before memory)."""
        return self.get("memory") or "cold"

    @property
    def version(self) -> dict[str, Any] | None:
        """The app's version ({"versionCode": 13, "versionName": "3.3.0"}, either may be None); None when unknown."""
        app = self.get("app")
        return (app.get("version") if isinstance(app, dict) else None) or self.get("version") or None

    @property
    def version_label(self) -> str | None:
        """The app's version as a person reads it: "3.3.0 (13)"; None when unknown."""
        return version_label(self.version)

    @property
    def fixed(self) -> list[dict[str, Any]]:
        """The crashes and ANRs an older version had that this warm run replayed and did not meet, each
        {"signature", "kind", "title", "lastVersion", "lastRunId"}; [] otherwise."""
        return list(self.get("fixed") or ())

    @property
    def drift(self) -> dict[str, Any] | None:
        """A warm run on a new version: how its screen graph differs from the latest run of the previous version
        (client.diff's shape, with "base" and "head" run ids); None otherwise."""
        return self.get("drift") or None

    @property
    def metrics(self) -> dict[str, Any]:
        return self.get("metrics") or {}

    @property
    def known_from_memory(self) -> int | None:
        """A finished warm run: the screens it knew from earlier runs (metrics' knownFromMemory); None otherwise."""
        return self.metrics.get("knownFromMemory")

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
        if self.version_label:
            head += f", version <b>{e(self.version_label)}</b>"
        if self.memory != "cold":
            head += f", memory <b>{e(self.memory)}</b>"
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


class Finding(dict):
    """A finding of a run as GET /run/{id}/findings answers it (its camelCase JSON, so `finding["details"]`
    works), with attributes for the usual fields and HTML for Jupyter."""

    @property
    def id(self) -> str:
        return self["findingId"]

    @property
    def kind(self) -> str:
        """"crash", "anr" or "accessibility"."""
        return self["kind"]

    @property
    def title(self) -> str:
        return self.get("title") or self.kind

    @property
    def occurrences(self) -> int:
        return self.get("occurrences") or 0

    @property
    def first_step(self) -> int | None:
        return self.get("firstStep")

    @property
    def details(self) -> dict[str, Any]:
        """A crash's or ANR's `exception`, `message` and `frames` (or `logcatError`, and an ANR's
        `freezeSeconds`); an accessibility finding's `rule`, `detail`, `bounds` and `label`."""
        return self.get("details") or {}

    @property
    def exception(self) -> str | None:
        return self.details.get("exception")

    @property
    def frames(self) -> list[str]:
        return list(self.details.get("frames") or [])

    @property
    def artifacts(self) -> dict[str, str]:
        """Artifact ids (client.artifact(run_id, id)): `screenshot`, `pageSource`, and a crash's `logcat`."""
        return self.get("artifacts") or {}

    @property
    def reproduction(self) -> dict[str, Any] | None:
        """`{"steps", "attempts", "reproduced"}` once the run replayed it; None before, and for accessibility."""
        return self.get("reproduction")

    @property
    def reproduced(self) -> str | None:
        """ "2 of 2": the attempts that made it happen again, of those made; None when not replayed."""
        r = self.reproduction
        return f"{r.get('reproduced', 0)} of {r.get('attempts', 0)}" if r else None

    @property
    def history(self) -> FindingHistory | None:
        """Whether an earlier run of the app met it ("new", or "known" since a version and run); None from a
        service from before finding history."""
        return FindingHistory.of(self.get("history"))

    @property
    def is_new(self) -> bool:
        """No earlier run of the app met it. True also when the service does not say (no history): nothing shows
        it was met before, so `fail_on` "new" fails on it rather than letting it pass."""
        return self.history is None or self.history.is_new

    @property
    def has_test(self) -> bool:
        """Whether client.finding_test answers for it: a crash or ANR with a known path to it."""
        return self.kind in TESTED_KINDS and bool((self.reproduction or {}).get("steps"))

    def _repr_html_(self) -> str:
        e = html.escape
        head = f"<b>{e(self.kind)}</b> {e(self.title)}"
        facts = [f"{self.occurrences}\u00d7", f"first at step {self.first_step}", self.get("activity") or ""]
        if self.reproduced:
            facts.append(f"reproduced {self.reproduced}")
        if self.history:
            facts.append(self.history.label)
        body = ""
        if self.exception:
            cause = ": ".join(str(p) for p in (self.exception, self.details.get("message")) if p)
            stack = "".join(f"\n    at {e(frame)}" for frame in self.frames)
            body += f"<pre style='white-space:pre-wrap'>{e(cause)}{stack}</pre>"
        elif self.details.get("rule"):
            body += f"<p>{e(str(self.details.get('detail') or ''))} {e(str(self.details.get('bounds') or ''))}</p>"
        steps = (self.reproduction or {}).get("steps") or []
        if steps:
            body += "<ol>" + "".join(f"<li>{e(str(s.get('label') or s.get('actionId')))}</li>" for s in steps) + "</ol>"
        return f"<div><p>{head} <i>{e(' · '.join(f for f in facts if f))}</i></p>{body}</div>"


class Findings(list):
    """A run's findings in the order they were first met; a table in Jupyter (`pd.DataFrame(findings)` works)."""

    def by_kind(self) -> dict[str, int]:
        """How many findings of each kind, in FINDING_KINDS order (kinds with none left out)."""
        counts = Counter(finding.kind for finding in self)
        return {kind: counts[kind] for kind in (*FINDING_KINDS, *sorted(set(counts) - set(FINDING_KINDS)))
                if counts[kind]}

    def failing(self, fail_on: str | Iterable[str] | None) -> Findings:
        """The findings that `fail_on` (see fail_on_kinds) names: those of its kinds, and with "new" only those no
        earlier run met ("new" alone: new ones of any kind; "crash,new": new crashes); none for no kinds."""
        wanted = fail_on_kinds(fail_on)
        if not wanted:
            return Findings()
        kinds, only_new = set(wanted) - {NEW}, NEW in wanted
        return Findings(f for f in self if (not kinds or f.kind in kinds) and (f.is_new or not only_new))

    def _repr_html_(self) -> str:
        e = html.escape
        if not self:
            return "<p><i>no findings</i></p>"
        remembered = any(f.history for f in self)  # a service from before finding history says nothing of it
        names = ("kind", "title", "exception", "occurrences", "reproduced", "first step", *(("history",) * remembered))
        head = "".join(f"<th style='text-align:left'>{name}</th>" for name in names)
        rows = "".join(f"<tr><td>{e(f.kind)}</td><td>{e(f.title)}</td><td>{e(f.exception or '')}</td>"
                       f"<td>{f.occurrences}</td><td>{e(f.reproduced or '')}</td><td>{f.first_step}</td>"
                       + (f"<td>{e(f.history.label if f.history else NEW)}</td>" if remembered else "") + "</tr>"
                       for f in self)
        return f"<table><tr>{head}</tr>{rows}</table>"


def fail_on_kinds(fail_on: str | Iterable[str] | None) -> tuple[str, ...]:
    """`fail_on` as a tuple of FAIL_ON names: "crash,new" (comma-separated, as `--fail-on` takes it) or an iterable
    of names; () for None. ValueError names an unknown one."""
    if fail_on is None:
        return ()
    names = fail_on.split(",") if isinstance(fail_on, str) else list(fail_on)
    kinds = tuple(name.strip() for name in names)
    if unknown := [kind for kind in kinds if kind not in FAIL_ON]:
        raise ValueError(f"unknown finding kind {unknown[0]!r}: expected some of {', '.join(FAIL_ON)}")
    return kinds


def findings_of(answer: dict[str, Any]) -> Findings:
    return Findings(Finding(finding) for finding in answer.get("findings") or [])


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
