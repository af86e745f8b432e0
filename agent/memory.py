"""A warm run's memory (DESIGN.md "Memory across runs"): what it recalls of the app's map at its start, the
screens it counted as known without visiting, and, once it has explored, the crashes and ANRs of an older
version it did not meet, replayed: fixed, or findings of this run."""

from __future__ import annotations

from typing import Any, Protocol

from agent.context import RunContext
from agent.reproduction import DEFAULT_FREEZE_SECONDS, Expected, Reproduction
from domain.app_map import Recall
from domain.exploration import ExplorationPolicy
from domain.findings.signature import finding_id
from domain.run import Run


class AppMemory(Protocol):
    """The app's map as the agent reads it (storage/app_map_view.py: AppMemoryReader; in memory in tests)."""

    def recall(self, run_id: str) -> Recall: ...

    def older_findings(self, run_id: str) -> list[dict[str, Any]]: ...


def recall(memory: AppMemory, run_id: str, package: str, policy: ExplorationPolicy) -> tuple[Recall, dict[str, Any]]:
    """What the map knows for this run, handed to the policy; and the `agent.memory.recalled` event's fields."""
    known = memory.recall(run_id)
    remember = getattr(policy, "remember", None)
    if known.runs and remember is not None:
        remember(known.history, known.same_version)
    fields = {"runs": known.runs, "screens": len(known.screens), "same_version": known.same_version,
              "previous_version": None if known.same_version else known.version, "base_run_id": known.base_run_id,
              "cold": not known.runs, "note": known.note(package)}
    return known, fields


def known_from_memory(known: Recall, visited: set[str], package: str) -> int:
    """The app's screens of this version the map knew and the run did not visit: known without the device's
    time. On a new version nothing is known: what an older one showed is only where to look first."""
    if not known.same_version:
        return 0
    in_app = {sid for sid in known.screens if known.history.package_of.get(sid, package) == package}
    return len(in_app - visited)


class FixedCheck:
    """Each crash and ANR an older version had and this run did not meet, replayed along its older run's
    reproduction: not shown in any attempt, it is fixed (`agent.finding.fixed`); shown, it is a finding of this
    run with that reproduction. Runs after the run's own reproductions, on the same numbering of steps."""

    def __init__(self, context: RunContext, reproduction: Reproduction, older: list[dict[str, Any]]) -> None:
        self.context, self.reproduction, self.older = context, reproduction, older

    def run(self) -> None:
        met = set(self.context.journal.findings)
        for finding in self.older:
            if finding["signature"] not in met:
                self.context.node("CheckFixed", self.reproduction.step + 1, lambda f=finding: self.check(f),
                                  lambda result, f=finding: {"signature": f["signature"], **result})

    def check(self, finding: dict[str, Any]) -> dict[str, Any]:
        steps = finding["steps"]
        attempts = self.context.settings.reproduce_attempts
        expected = Expected(finding["kind"], finding["signature"], finding["activity"], DEFAULT_FREEZE_SECONDS)
        shown = self.reproduction.replay(f"older:{finding['run_id']}", steps, expected, attempts)
        if shown:
            self._still_happens(finding, attempts, shown)
        else:
            self.context.node.record(Run.record_fixed, signature=finding["signature"], kind=finding["kind"],
                                     title=finding["title"], last_version=finding["version"],
                                     last_run_id=finding["run_id"], attempts=attempts)
        return {"attempts": attempts, "reproduced": shown, "fixed": not shown}

    def _still_happens(self, finding: dict[str, Any], attempts: int, shown: int) -> None:
        context, trigger = self.context, finding["steps"][-1]
        fid = finding_id(context.run_id, finding["signature"])
        context.node.record(Run.detect_finding, finding_id=fid, kind=finding["kind"], title=finding["title"],
                            signature=finding["signature"], step_ordinal=self.reproduction.step,
                            screen_id=trigger["fromScreen"], activity=finding["activity"],
                            action_id=finding["action_id"],
                            details={"replayedFrom": finding["run_id"], "lastVersion": finding["version"]},
                            artifacts={})
        context.node.record(Run.record_reproduction, finding_id=fid, attempts=attempts, reproduced=shown,
                            steps=finding["steps"])
