"""report.xml: a run's findings as JUnit XML, for CI (DESIGN.md "Findings").

Shapes assumed (camelCase, as GET /run/{id} and GET /run/{id}/findings serve them):

    run = {"runId", "app": {"packageName", ...}, "status", "stopReason", "metrics": {name: number, ...}}
    finding = {"findingId", "kind": "crash" | "anr" | "accessibility", "title", "signature", "firstStep",
               "occurrences", "screenId", "activity", "details", "reproduction": {"steps", "attempts", "reproduced"},
               "history": {"status": "new"} | {"status": "known", "firstVersion", "firstRunId"} (optional)}
        a crash's or ANR's details: {"exception", "message", "frames", ...};
        an accessibility finding's: {"rule", "actionId", "label", "bounds", "detail"} (the rule may
        instead be named in its signature or title)

One testsuite; a failing testcase per crash or ANR; a testcase per accessibility rule, the
four always (failing with their elements when they have findings); a passing `exploration`
testcase with the metrics, which are also the suite's properties. A finding with a history (DESIGN.md
"Memory across runs") says whether it is new: a crash's or ANR's testcase is in class
`runservice.<kind>.new` or `runservice.<kind>.known`, and its text and an element's line say since when.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from junitparser import Failure, JUnitXml, TestCase, TestSuite

RULES = ("SpeakableTextPresentCheck", "TouchTargetSizeCheck", "DuplicateClickableBoundsCheck",
         "EditableContentDescCheck")
# XML 1.0 cannot hold most control characters, even escaped; a label or message may.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
Finding = Mapping[str, Any]


def junit_report(run: Mapping[str, Any], findings: Sequence[Finding]) -> str:
    """The XML text: one suite named after the app and the run."""
    package = (run.get("app") or {}).get("packageName", "")
    suite = TestSuite(_xml(f"{package} {run.get('runId', '')}".strip()))
    for name, value in _run_facts(run):  # first: the schema puts properties before testcases
        suite.add_property(_xml(name), _xml(str(value)))
    suite.add_testcases([_problem_case(f) for f in findings if f.get("kind") in ("crash", "anr")])
    suite.add_testcases(_rule_cases([f for f in findings if f.get("kind") == "accessibility"]))
    suite.add_testcase(_exploration_case(run))
    report = JUnitXml()
    report.add_testsuite(suite)
    report.update_statistics()
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + report.tostring().decode("utf-8")


def _run_facts(run: Mapping[str, Any]) -> list[tuple[str, Any]]:
    facts = [(name, run.get(name)) for name in ("runId", "status", "stopReason")]
    facts += [("packageName", (run.get("app") or {}).get("packageName"))]
    facts += [(f"metrics.{name}", value) for name, value in sorted((run.get("metrics") or {}).items())]
    return [(name, value) for name, value in facts if value is not None]


def _problem_case(finding: Finding) -> TestCase:
    """A crash or ANR: failing, with its stack, how to make it happen and how often it did."""
    details = finding.get("details") or {}
    status = (finding.get("history") or {}).get("status")
    classname = f"runservice.{finding['kind']}" + (f".{status}" if status else "")
    case = TestCase(_xml(finding.get("title") or finding["kind"]), classname=classname)
    cause = ": ".join(str(part) for part in (details.get("exception"), details.get("message")) if part)
    failure = Failure(_xml(cause or finding.get("title") or finding["kind"]),
                      _xml(details.get("exception") or finding["kind"]))
    failure.text = _xml(_problem_text(finding, details))
    case.result = [failure]
    return case


def _problem_text(finding: Finding, details: Mapping[str, Any]) -> str:
    reproduction = finding.get("reproduction") or {}
    lines = [f"{name}: {finding[name]}" for name in ("findingId", "signature", "screenId", "activity",
                                                    "firstStep", "occurrences") if finding.get(name) is not None]
    if finding.get("history"):
        lines.append(f"history: {history_text(finding['history'])}")
    lines += ["", "frames:", *(f"    at {frame}" for frame in details.get("frames") or ())]
    lines += ["", "reproduction:", *_step_lines(reproduction.get("steps")), _result(reproduction)]
    return "\n".join(lines)


def _step_lines(steps: Sequence[Mapping[str, Any]] | None) -> list[str]:
    if not steps:
        return ["    no known path leads to it"]
    return [f"    {number}. {step.get('label') or step.get('actionId')} ({step.get('actionId')})"
            f" on {step.get('fromScreen')}" for number, step in enumerate(steps, 1)]


def _result(reproduction: Mapping[str, Any]) -> str:
    if not reproduction.get("attempts"):
        return "not replayed"
    return f"reproduced {reproduction.get('reproduced') or 0} of {reproduction['attempts']} attempts"


def _rule_cases(findings: list[Finding]) -> list[TestCase]:
    """The four rules always, then any other rule a finding names, each failing with its elements."""
    by_rule: dict[str, list[Finding]] = {rule: [] for rule in RULES}
    for finding in findings:
        by_rule.setdefault(rule_of(finding), []).append(finding)
    return [_rule_case(rule, hits) for rule, hits in by_rule.items()]


def rule_of(finding: Finding) -> str:
    """An accessibility finding's rule: from its details, else the rule its signature or title names."""
    rule = (finding.get("details") or {}).get("rule")
    if rule:
        return str(rule)
    named = f"{finding.get('signature', '')} {finding.get('title', '')}"
    return next((known for known in RULES if known in named), "AccessibilityCheck")


def _rule_case(rule: str, findings: list[Finding]) -> TestCase:
    case = TestCase(_xml(rule), classname="runservice.accessibility")
    if findings:
        failure = Failure(_xml(f"{len(findings)} element(s) fail {rule}"), "accessibility")
        failure.text = _xml("\n".join(_element_line(finding) for finding in findings))
        case.result = [failure]
    return case


def _element_line(finding: Finding) -> str:
    details = finding.get("details") or {}
    label = details.get("label") or finding.get("title")
    named = (("action", details.get("actionId")), ("bounds", details.get("bounds")),
             ("screen", finding.get("screenId")), ("activity", finding.get("activity")))
    facts = [f"{name}={value}" for name, value in named if value is not None]
    if finding.get("history"):
        facts.append(f"history={history_text(finding['history'])}")
    detail = f": {details['detail']}" if details.get("detail") else ""
    return f"{label} [{', '.join(facts)}]{detail}"


def history_text(history: Mapping[str, Any]) -> str:
    """"new", or "known since version 12 (run 01J...)"."""
    if history.get("status") != "known":
        return "new"
    return f"known since version {history.get('firstVersion')} (run {history.get('firstRunId')})"


def _exploration_case(run: Mapping[str, Any]) -> TestCase:
    metrics = run.get("metrics") or {}
    duration = metrics.get("durationMs")
    seconds = duration / 1000 if isinstance(duration, (int, float)) else None
    case = TestCase("exploration", classname="runservice.exploration", time=seconds)
    case.system_out = _xml("\n".join(f"{name}: {value}" for name, value in _run_facts(run)))
    return case


def _xml(text: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(text))
