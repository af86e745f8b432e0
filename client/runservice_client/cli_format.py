"""How the command line shows events, runs, lists of runs and findings, and an app's map to a person."""

from __future__ import annotations

import json
from typing import Any

from runservice_client.memory import AppMap, version_label
from runservice_client.models import Finding, Run, RunEvent

# The fields worth a glance on an event line, in this order; the rest is in `watch --json`.
EVENT_FIELDS = ("nodeName", "outcomeStatus", "activity", "screenId", "toScreen", "attempt", "policy",
                "purpose", "outcome", "reason", "promptTokens", "completionTokens", "latencyMs", "cached",
                "goalReached", "stopReason", "error", "metrics")
TABLE = (("RUN", "run_id"), ("STATUS", "status"), ("STOP REASON", "stop_reason"), ("POLICY", "policy"),
         ("STEPS", None), ("SCREENS", "screens_discovered"), ("FINDINGS", "findings"), ("CREATED", "created_at"))
FINDINGS_TABLE = ("FINDING", "KIND", "TITLE", "OCCURRENCES", "REPRODUCED", "FIRST STEP")
HISTORY = "HISTORY"  # a column only when the service says (one from before finding history does not)
DRIFT = ("screens", "transitions", "activities")  # a drift's <name>Added and <name>Removed lists
TITLE_CHARS = 72  # a crash's title carries its exception's message: the rest is in `findings --json`


def event_line(event: RunEvent) -> str:
    data = event.data
    time = str(data.get("ts", ""))[11:23]  # HH:MM:SS.mmm of the ISO timestamp
    step = f"step {data['stepOrdinal']}" if data.get("stepOrdinal") else ""
    fields = " ".join(f"{name}={compact(data[name])}" for name in EVENT_FIELDS
                      if data.get(name) is not None and data[name] is not False)  # "cached=False" says nothing
    return f"{event.seq:>5} {time} {event.name:<28} {step:<8} {fields}".rstrip()


def compact(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items())
    return str(value)


def run_lines(run: Run, llm: dict[str, Any] | None = None) -> list[str]:
    lines = [f"{key}: {shown(value)}" for key, value in run.items()
             if key not in ("metrics", "fixed") and value is not None and not isinstance(value, dict)]
    lines += [f"app.{key}: {version_label(value) or 'unknown'}" if key == "version" else f"app.{key}: {value}"
              for key, value in (run.get("app") or {}).items()]
    lines += capabilities_lines(run.get("capabilities"))
    lines += memory_lines(run)
    lines += [f"metrics.{key}: {value}" for key, value in run.metrics.items()]
    if llm and (llm["calls"] or run.policy == "llm"):
        lines += llm_lines(llm)
    return lines


def capabilities_lines(capabilities: dict[str, Any] | None) -> list[str]:
    """The extra capabilities of the run's session, a line each with its value as JSON (as `start --capability`
    takes it): `capabilities.appium:udid: "emulator-5554"`; `capabilities: {}` for none; nothing when not known
    (start's answer)."""
    if capabilities is None:
        return []
    if not capabilities:
        return ["capabilities: {}"]
    return [f"capabilities.{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in capabilities.items()]


def memory_lines(run: Run) -> list[str]:
    """What a warm run made of earlier runs: each crash or ANR an older version had that it did not meet, a line
    each (`fixed.SIGNATURE: crash TITLE (last in 12, run RUN)`), and its drift from the previous version."""
    lines = [f"fixed.{f.get('signature')}: {f.get('kind')} {' '.join(str(f.get('title')).split())} "
             f"(last in {f.get('lastVersion')}, run {f.get('lastRunId')})" for f in run.fixed]
    if drift := run.drift:
        changes = ", ".join(f"{name} +{len(drift.get(name + 'Added') or ())} -{len(drift.get(name + 'Removed') or ())}"
                            for name in DRIFT)
        changed = len(drift.get("screensChanged") or ())
        lines.append(f"drift: from run {drift.get('base')}: {changes}, screens changed {changed}")
    return lines


def shown(value: Any) -> str:
    """A field's value on its `key: value` line; a list (the run's avoid patterns, whose regexes may hold commas
    and spaces) as JSON: `avoid: ["id/sign_out", "text:delete.*"]`."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list) else str(value)


def llm_lines(llm: dict[str, Any]) -> list[str]:
    """The model calls of a run (models.llm_usage), a line each, like the metrics."""
    fallbacks = sum(llm["fallbacks"].values())
    by_reason = ", ".join(f"{reason} {count}" for reason, count in llm["fallbacks"].items())
    return [f"llm.requests: {llm['requests']}", f"llm.cached: {llm['cached']}",
            f"llm.promptTokens: {llm['promptTokens']}", f"llm.completionTokens: {llm['completionTokens']}",
            f"llm.chosen: {llm['chosen']}", f"llm.fallbacks: {fallbacks}" + (f" ({by_reason})" if by_reason else ""),
            *([f"llm.meanLatencyMs: {llm['meanLatencyMs']}"] if llm["meanLatencyMs"] is not None else []),
            *([f"llm.models: {', '.join(llm['models'])}"] if llm["models"] else [])]


def runs_table(rows: list[dict[str, Any]]) -> str:
    return table([head for head, _ in TABLE], [[cell(row, key) for _, key in TABLE] for row in rows])


def findings_table(findings: list[Finding]) -> str:
    """One line per finding; REPRODUCED is "2/2" (made to happen again in both attempts), "-" when not replayed;
    HISTORY (when the service says) "NEW", or "known since 12" when an earlier run met it first in version 12."""
    def reproduced(finding: Finding) -> str:
        r = finding.reproduction
        return f"{r.get('reproduced', 0)}/{r.get('attempts', 0)}" if r else "-"

    remembered = any(f.history for f in findings)

    def history(finding: Finding) -> list[str]:
        if not remembered:
            return []
        return ["NEW" if finding.is_new or finding.history is None else finding.history.label]

    return table([*FINDINGS_TABLE, *([HISTORY] if remembered else [])],
                 [[f.id, f.kind, short(f.title), str(f.occurrences), reproduced(f),
                   "-" if f.first_step is None else str(f.first_step), *history(f)] for f in findings])


def short(title: str) -> str:
    text = " ".join(title.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def app_map_lines(app_map: AppMap) -> list[str]:
    """An app's map for a person: a head line, its versions (oldest first) with their runs and the screens they
    saw, and its findings with the first and last version that met them (the whole map is `app map --json`)."""
    screens = app_map.screens_per_version()
    head = f"{app_map.package}: " + ", ".join(
        f"{len(items)} {name}{'' if len(items) == 1 else 's'}"
        for name, items in (("version", app_map.versions), ("screen", app_map.screens),
                            ("action", app_map.actions), ("finding", app_map.findings)))
    versions = table(["VERSION", "NAME", "RUNS", "SCREENS", "FIRST RUN", "LAST RUN"],
                     [[v["version"], str(v.get("versionName") or "-"), str(v.get("runs", 0)),
                       str(screens.get(v["version"], 0)), str(v.get("firstRunId")), str(v.get("lastRunId"))]
                      for v in app_map.versions])
    lines = [head, "", versions]
    if app_map.findings:
        lines += ["", table(["KIND", "TITLE", "FIRST", "LAST", "RUNS"],
                            [[str(f.get("kind")), short(str(f.get("title") or f.get("kind"))),
                              str(f.get("firstVersion")), str(f.get("lastVersion")), str(f.get("runs", 0))]
                             for f in app_map.findings])]
    return lines


def findings_line(counts: dict[str, int]) -> str:
    """ "findings: crash 1, accessibility 2" (models.Findings.by_kind), or "findings: none"."""
    return "findings: " + (", ".join(f"{kind} {n}" for kind, n in counts.items()) or "none")


def table(heads: list[str], cells: list[list[str]]) -> str:
    """Columns two spaces apart, each as wide as its widest cell."""
    widths = [max([len(head), *(len(line[i]) for line in cells)]) for i, head in enumerate(heads)]
    lines = ("  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)) for line in [heads, *cells])
    return "\n".join(line.rstrip() for line in lines)


def cell(row: dict[str, Any], key: str | None) -> str:
    if key is None:
        return f"{row.get('steps_taken', 0)}/{row.get('max_steps', '?')}"
    value = row.get(key)
    if key == "created_at" and value:
        return str(value)[:19].replace("T", " ")
    return "-" if value is None else str(value)
