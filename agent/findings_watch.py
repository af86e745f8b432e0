"""What broke, seen by the agent: crashes and ANRs after each action (Android's dialogs and logcat,
read every step), accessibility problems on each new screen. The rules are domain/findings'; here
the device is read and the events recorded (DESIGN.md "Findings")."""

from __future__ import annotations

import time
from typing import Any

from adapters.device import DeviceError
from agent.context import RunContext
from domain.exploration import Action, Screen
from domain.findings.accessibility import accessibility_issues
from domain.findings.dialogs import system_dialog
from domain.findings.logcat import LogcatCrash, read_logcat
from domain.findings.signature import accessibility_signature, crash_title, finding_id, signature
from domain.run import Run

DEFAULT_DENSITY = 420  # a Pixel's: when the driver does not say, sizes in dp are read as on one
# A tap that changed nothing at all may have frozen the app: the first time an action does so on a screen,
# the agent watches this long for the screen to change (or an ANR dialog) before going on. Without it, a
# frozen app ignores the next actions too, which the crawl then takes for actions that do nothing.
FREEZE_WATCH_SECONDS = 3.0
WATCHED_KINDS = frozenset({"tap", "long_press"})


class FindingsWatch:
    def __init__(self, context: RunContext) -> None:
        self.context, self.node, self.journal = context, context.node, context.journal
        self.package = context.package
        self.frozen: tuple[Screen, Action, int, float] | None = None  # the action after which nothing changed
        self.logcat_error: str | None = None
        self.watched: set[tuple[str, str]] = set()  # (screen, action) pairs whose stillness was watched
        self.since_freeze: list[tuple[Screen, Action]] = []  # the actions taken after the frozen one
        self.unseen: list[tuple[Screen, Action]] = []  # what a crash or ANR showed the app never saw
        self.last: tuple[Screen, Action] | None = None  # the latest action, for what shows by itself after it

    def read_logcat(self) -> list[LogcatCrash]:
        """The app's crash and ANR blocks logged since the last read. A server that cannot read logcat (no
        adb_shell or log permission, a dropped session) does not fail the run: findings go on from the
        dialogs alone, and say why they have no stack."""
        try:
            messages = self.context.device.logcat()
        except DeviceError as error:
            self.logcat_error = f"logcat could not be read: {error}"
            return []
        self.logcat_error = None
        return read_logcat(messages, self.package)

    def after_action(self, step: int, before: Screen, before_source: str, action: Action, after: Screen) -> Screen:
        """Called once the screen after `action` is idle, before the app is restarted; returns the screen
        to go on from (a tap that changed nothing is watched a while: the app may have frozen)."""
        self._track_freeze(step, before, before_source, action)
        self.last = (before, action)
        after = self._settled(before, before_source, action, after)
        kinds = self._problems(step, after, before, action)
        if kinds or self.context.observer.last_source != before_source:
            self.frozen, self.since_freeze = None, []  # it answered (late, maybe), or its freeze is reported
        return after

    def by_itself(self, step: int, screen: Screen) -> None:
        """A crash or ANR that showed while the agent did nothing: set off by the latest action (or the one
        the app froze after); the actions taken since the freeze began were never seen."""
        if self.last is not None:
            self._problems(step, screen, *self.last)
        self.frozen, self.since_freeze = None, []

    def take_unseen(self) -> list[tuple[Screen, Action]]:
        unseen, self.unseen = self.unseen, []
        return unseen

    def _problems(self, step: int, after: Screen, before: Screen, action: Action) -> set[str]:
        crashes = self.read_logcat()
        dialog = system_dialog(after)
        kinds = {crash.kind for crash in crashes} | ({dialog} if dialog else set())
        for kind in ("crash", "anr"):
            if kind in kinds:
                report = next((c for c in crashes if c.kind == kind), None)
                self._problem(step, kind, report, before, action)
        if kinds & {"crash", "anr"} and self.frozen is not None:
            # Taken while the app was frozen, or cut short by what the frozen action set off: never seen. A
            # crash is the latest action's own (its finding names it), an ANR the frozen action's.
            seen = (before.screen_id, action.action_id) if "anr" not in kinds else None
            self.unseen = [(s, a) for s, a in self.since_freeze if (s.screen_id, a.action_id) != seen]
        return kinds

    def _settled(self, before: Screen, before_source: str, action: Action, after: Screen) -> Screen:
        """`after`, or what shows once a tap that left the page source exactly as it was has had time to
        show a freeze (an ANR dialog) or its late effect."""
        key = (before.screen_id, action.action_id)
        if not _may_freeze(action) or self.context.observer.last_source != before_source or key in self.watched:
            return after
        self.watched.add(key)
        return self.context.observer.wait_change(before_source, FREEZE_WATCH_SECONDS) or after

    def _track_freeze(self, step: int, before: Screen, before_source: str, action: Action) -> None:
        """An ANR's trigger is the action after which the screen stopped changing: the first of the
        actions in a row that left the page source exactly as it was."""
        if self.frozen is None and _may_freeze(action) and self.context.observer.last_source == before_source:
            self.frozen, self.since_freeze = (before, action, step, time.monotonic()), []
        elif self.frozen is not None and self.frozen[2] != step:
            self.since_freeze.append((before, action))

    def _problem(self, step: int, kind: str, report: LogcatCrash | None, before: Screen, action: Action) -> None:
        frozen_for = None
        if kind == "anr" and self.frozen is not None:
            before, action, _, since = self.frozen
            frozen_for = round(time.monotonic() - since, 1)
        sig = signature(kind, self.package, report, before.activity, action.action_id)
        fid = finding_id(self.context.run_id, sig)
        if not self.journal.met(sig, fid, kind, (before.screen_id, action.action_id), before.activity, frozen_for):
            self.node.record(Run.record_recurrence, finding_id=fid, step_ordinal=step)
            return
        details = _details(report, self.logcat_error, frozen_for)
        self.node.record(Run.detect_finding, finding_id=fid, kind=kind, signature=sig, step_ordinal=step,
                         title=crash_title(kind, self.package, report, before.activity, action.label),
                         screen_id=before.screen_id, activity=before.activity, action_id=action.action_id,
                         details=details, artifacts=self._evidence(report))

    def _evidence(self, report: LogcatCrash | None) -> dict[str, str]:
        """What showed after the action (the dialog), and the logcat excerpt when there is one."""
        artifacts = self.context.artifacts
        evidence = {"screenshot": artifacts.put(self.context.device.screenshot_png(), "image/png"),
                    "pageSource": artifacts.put(self.context.observer.last_source.encode(), "application/xml")}
        if report is not None:
            evidence["logcat"] = artifacts.put(report.excerpt.encode(), "text/plain")
        return evidence

    def new_screen(self, step: int, screen: Screen, source: str, artifacts: dict[str, str]) -> None:
        """The accessibility rules on a screen met for the first time (only the app's own are checked)."""
        density = self.context.device.screen_density() or DEFAULT_DENSITY
        for issue in accessibility_issues(screen, density, page_source=source, package=self.package):
            sig = accessibility_signature(issue.rule, screen.screen_id, issue.action_id)
            fid = finding_id(self.context.run_id, sig)
            if not self.journal.met(sig, fid, "accessibility", (screen.screen_id, issue.action_id), screen.activity):
                continue
            self.node.record(Run.detect_finding, finding_id=fid, kind="accessibility", signature=sig,
                             title=f"{issue.rule}: {issue.label or issue.action_id}", step_ordinal=step,
                             screen_id=screen.screen_id, activity=screen.activity, action_id=issue.action_id,
                             details={"rule": issue.rule, "detail": issue.detail, "bounds": list(issue.bounds),
                                      "label": issue.label, "density": density},
                             artifacts=artifacts)


def _may_freeze(action: Action) -> bool:
    """A tap or long press the app said it handles. A tap on a view that does not say it is clickable (a
    label, mostly) is expected to change nothing: watching each of them would cost seconds a step."""
    return action.kind in WATCHED_KINDS and action.declared


def _details(report: LogcatCrash | None, logcat_error: str | None, frozen_for: float | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if report is not None:
        details.update(exception=report.exception, message=report.message, frames=list(report.frames))
    elif logcat_error:
        details["logcatError"] = logcat_error
    else:
        details["logcatError"] = "logcat showed no crash block for the app"
    if frozen_for is not None:
        details["freezeSeconds"] = frozen_for
    return details
