"""The Reproduce node: once exploration has ended, each crash and ANR is replayed from a fresh launch
along the shortest known path to its trigger, REPRODUCE_ATTEMPTS times in one session (DESIGN.md
"Findings"). Outside maxSteps; its actions are `agent.action.performed` events with `reproducing`,
and it records nothing else of exploration's (no screens, no transitions, no metrics)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from adapters.device import DeviceError, SessionLost
from agent.context import RunContext
from agent.findings_watch import FindingsWatch
from agent.outcome import cancelled
from agent.recovery import SessionRecovery
from agent.route import RouteFollower
from domain.findings.dialogs import DISMISS, system_dialog
from domain.findings.reproduction import reproduction_steps
from domain.findings.signature import signature
from domain.run import Run

REPRODUCIBLE = ("crash", "anr")
ANR_MARGIN_SECONDS = 5.0  # an ANR attempt waits for the dialog up to its freeze plus this
DEFAULT_FREEZE_SECONDS = 5.0
CRASH_WAIT_SECONDS = 1.0  # a crash dialog shows at once; a moment for it to be drawn
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Expected:
    """What a replay must show to reproduce a finding: its kind, signature, the trigger screen's activity, and
    how long an ANR froze the app."""

    kind: str
    signature: str
    activity: str
    freeze_seconds: float = DEFAULT_FREEZE_SECONDS


class Reproduction:
    def __init__(self, context: RunContext, findings: FindingsWatch) -> None:
        self.context, self.node, self.journal, self.findings = context, context.node, context.journal, findings
        self.package = context.package
        self.step = context.figures.steps  # its ordinals follow the last exploration step
        self.follower, self.recovery = RouteFollower(context), SessionRecovery(context)
        self.session_gone = False  # MAX_FAILED_RECOVERIES new sessions in a row failed: nothing more is replayed

    def run(self) -> None:
        for finding_id, kind in list(self.journal.kinds.items()):
            if kind in REPRODUCIBLE:
                steps = self.steps_for(finding_id)
                self.node("Reproduce", self.step + 1, lambda: self.reproduce(finding_id, steps),
                          lambda result: {"findingId": finding_id, **result})

    def steps_for(self, finding_id: str) -> list[dict[str, Any]] | None:
        journal = self.journal
        screen_id, action_id = journal.triggers[finding_id]
        action = journal.actions.get((screen_id, action_id))
        if journal.start is None or action is None:
            return None
        by_id = {aid: a for (_, aid), a in journal.actions.items()}
        route = reproduction_steps(journal.transitions, journal.start, (screen_id, action), {}, by_id)
        if route is None:
            return None
        # Then with what was done on each screen of that route on the visit that left it the same way.
        legs = [(step["fromScreen"], step["actionId"], step["toScreen"]) for step in route]
        return reproduction_steps(journal.transitions, journal.start, (screen_id, action),
                                  journal.visit_actions(legs), by_id, self.context.inputs)

    def reproduce(self, finding_id: str, steps: list[dict[str, Any]] | None) -> dict[str, int]:
        attempts = self.context.settings.reproduce_attempts if steps else 0
        reproduced = self.replay(finding_id, steps, self.expected(finding_id), attempts) if steps else 0
        self.node.record(Run.record_reproduction, finding_id=finding_id, attempts=attempts, reproduced=reproduced,
                         steps=steps or [])
        return {"attempts": attempts, "reproduced": reproduced}

    def expected(self, finding_id: str) -> Expected:
        journal = self.journal
        signature_of = next(sig for sig, fid in journal.findings.items() if fid == finding_id)
        return Expected(journal.kinds[finding_id], signature_of, journal.activities[finding_id],
                        journal.freezes.get(finding_id, DEFAULT_FREEZE_SECONDS))

    def replay(self, reproducing: str, steps: list[dict[str, Any]], expected: Expected, attempts: int) -> int:
        """How many of `attempts` replays of `steps` showed `expected` (the actions say `reproducing`)."""
        return sum(not self.session_gone and self._attempt(reproducing, steps, expected) for _ in range(attempts))

    def _attempt(self, finding_id: str, steps: list[dict[str, Any]], expected: Expected) -> bool:
        """One replay from a fresh launch: True when the same signature showed again. Each step once the screen
        settled, past the permission dialogs (answered as the run did) and a dialog the run did not know."""
        try:
            self.context.device.terminate_app(self.package)
            screen = self.follower.launch(self.step)
            self.findings.read_logcat()  # what came before this attempt is not its evidence
            for step in steps:
                if self.node.cancel_requested():
                    raise cancelled()
                self.step += 1
                screen = self.follower.take(self.step, step, screen)
                self.node.record(Run.record_action, step_ordinal=self.step, screen_id=step["fromScreen"],
                                 action=_public(step), reproducing=finding_id)
            return self._showed(expected, steps[-1])
        except SessionLost as lost:
            # A new session for the next attempt (the run's capabilities again); this one did not reproduce it.
            self.session_gone = not self.recovery.reopen_only(self.step, lost)
            return False
        except DeviceError:
            return False  # the attempt could not be replayed: it did not reproduce the finding

    def _showed(self, expected: Expected, trigger: dict[str, Any]) -> bool:
        """Waits for a crash or ANR dialog or logcat block, then dismisses the dialog; compares signatures."""
        kind = expected.kind
        wait = expected.freeze_seconds + ANR_MARGIN_SECONDS if kind == "anr" else CRASH_WAIT_SECONDS
        deadline = time.monotonic() + wait
        reports: list[Any] = []
        while True:
            reports += self.findings.read_logcat()
            screen = self.context.observer.screen()
            dialog = system_dialog(screen)
            if dialog is not None or any(r.kind == kind for r in reports) or time.monotonic() >= deadline:
                break
            if self.node.cancel_requested():
                raise cancelled()
            time.sleep(POLL_SECONDS)
        if dialog is not None:
            self.context.device.tap(DISMISS)
        report = next((r for r in reports if r.kind == kind), None)
        if dialog != kind and report is None:
            return False
        return signature(kind, self.package, report, expected.activity, trigger["actionId"]) == expected.signature


def _public(step: dict[str, Any]) -> dict[str, Any]:
    """As exploration's action events show an action (no typed text: inputs may be secrets)."""
    action = {"kind": step["kind"], "target": step.get("target"), "label": step.get("label", ""),
              "action_id": step["actionId"]}
    extras = {key: step[key] for key in ("direction", "declared") if key in step and step[key] is not None}
    return {**action, **extras}
