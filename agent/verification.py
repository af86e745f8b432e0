"""Verify: where an action led. The screen once idle, past the permission dialogs it brought up; the
findings it showed; another app it opened (an exit, left by going back) or a crash or the launcher (the
app is launched again); the transition it is in the graph."""

from __future__ import annotations

from typing import Any

from agent.context import RunContext
from agent.findings_watch import FindingsWatch
from agent.outcome import Stop
from agent.route import WAIT
from domain.exploration import Action, Screen
from domain.exploration.system import other_app
from domain.findings.dialogs import DISMISS, system_dialog
from domain.run import Run


class Verification:
    def __init__(self, context: RunContext, findings: FindingsWatch) -> None:
        self.context, self.node, self.findings = context, context.node, findings

    def __call__(self, step: int, before: Screen, action: Action) -> Screen | Stop:
        observer = self.context.observer
        before_source = observer.last_source
        after, answered = self.context.surroundings.look(step)
        # A dialog that came is the app's answer to the action: no freeze to watch for (nor a source to compare).
        after = self.findings.after_action(step, before, "" if answered else before_source, action, after)
        self.context.policy.observe(before, action, after)
        unseen = self.untry(self.findings.take_unseen())
        if (before.screen_id, action.action_id) in unseen:  # taken while the app was frozen: not its effect
            return self._after_unseen(step, after)
        if other_app(after, observer.package) is not None:  # no edge of the graph: it is recorded as an exit
            back = self.left_app(step, before, action, after)
            if not isinstance(back, Stop):
                self.context.journal.acted(before.screen_id, action.to_dict(), back.screen_id)
            return back
        if not after.in_app(observer.package):  # a crash dialog, the launcher: the app is launched again
            dialog = system_dialog(after)
            after = self.node("RestartApp", step, lambda: self.restart_app(step, dialog), screen_detail)
            if isinstance(after, Stop):
                return after
        self.context.journal.acted(before.screen_id, action.to_dict(), after.screen_id)
        self._record_transition(step, before, action, after)
        return after

    def by_itself(self, step: int, screen: Screen) -> Screen | Stop:
        """`screen`, or what it became by itself since it was taken (one page-source read when it did not):
        a transition `by: "time"`, never the effect of an action; a crash or ANR it showed is a finding."""
        changed = self.context.observer.changed(screen.screen_id)
        if changed is None:
            return screen
        if not changed.in_app(self.context.package):
            changed, _ = self.context.surroundings.look(step)  # a permission dialog the app asked for by itself
        if not changed.in_app(self.context.package):
            self.findings.by_itself(step, changed)
            self.untry(self.findings.take_unseen())
            return self.node("RestartApp", step, lambda: self.restart_app(step, system_dialog(changed)),
                             screen_detail)
        if changed.screen_id != screen.screen_id:
            self.context.journal.acted(screen.screen_id, WAIT, changed.screen_id)
            self._record_transition(step, screen, WAIT, changed, by="time")
        return changed

    def untry(self, unseen: list[tuple[Screen, Action]]) -> set[tuple[str, str]]:
        """Actions the app never saw (taken while it was frozen) go back to the policy as untried; a plug-in
        policy without `unseen` just goes on."""
        tell = getattr(self.context.policy, "unseen", None)
        for screen, action in unseen:
            if tell is not None:
                tell(screen, action)
        return {(screen.screen_id, action.action_id) for screen, action in unseen}

    def _after_unseen(self, step: int, after: Screen) -> Screen | Stop:
        """No transition for an action the app never saw; the app is brought back if the freeze ended it."""
        self.context.progress.record(new_screen=False, new_transition=False)
        if after.in_app(self.context.observer.package):
            return after
        return self.node("RestartApp", step, lambda: self.restart_app(step, system_dialog(after)), screen_detail)

    def left_app(self, step: int, before: Screen, action: Action, other: Screen) -> Screen | Stop:
        """The action opened another app: recorded as leaving the app (once per way out), then back to the app."""
        figures = self.context.figures
        figures.app_left += 1
        self.node.record(Run.record_app_left, step_ordinal=step, package=other.package, activity=other.activity,
                         action_id=action.action_id)
        exit_key = (before.screen_id, action.action_id)
        self.context.progress.record(new_screen=False, new_transition=exit_key not in figures.exits)
        if exit_key not in figures.exits:
            figures.exits.add(exit_key)
            self.node.record(Run.discover_transition, step_ordinal=step, from_screen=before.screen_id,
                             action=public(action), to_screen=None, left_to=other.package)
        return self.node("ReturnToApp", step, lambda: self.context.surroundings.return_to_app(step), screen_detail)

    def restart_app(self, step: int, dialog: str | None = None) -> Screen | Stop:
        """The app crashed or left the foreground: close Android's crash or ANR dialog if one shows (a
        dialog left open would cover the relaunched app on a device), bring the app back and look again."""
        context = self.context
        context.figures.restarts += 1
        if dialog is not None:
            context.device.tap(DISMISS)
        context.device.activate_app(context.package)
        screen, _ = context.surroundings.look(step)
        if not screen.in_app(context.observer.package):
            return Stop.failed("app_launch_failed", "the app did not come back to the foreground")
        context.journal.launched(screen.screen_id)
        return screen

    def _record_transition(self, step: int, before: Screen, action: Action | dict[str, Any], after: Screen,
                           by: str | None = None) -> None:
        shown = public(action) if isinstance(action, Action) else dict(action)
        key = (before.screen_id, shown["action_id"], after.screen_id)
        figures, progress = self.context.figures, self.context.progress
        if key in figures.transitions:
            if by is None:  # a step's progress is its action's: a known change by itself adds no step to it
                progress.record(new_screen=False, new_transition=False)
            return
        new_screen = after.screen_id not in figures.screens
        figures.transitions.add(key)
        progress.record(new_screen=new_screen, new_transition=True)
        self.node.record(Run.discover_transition, step_ordinal=step, from_screen=before.screen_id,
                         action=shown, to_screen=after.screen_id, **({"by": by} if by else {}))


def screen_detail(screen: Screen) -> dict[str, Any]:
    return {"screenId": screen.screen_id, "activity": screen.activity}


def public(action: Action) -> dict[str, Any]:
    """The action as events show it: typed text stays out (it may be a password from `inputs`);
    the label already masks password fields."""
    return {key: value for key, value in action.to_dict().items() if key != "text"}
