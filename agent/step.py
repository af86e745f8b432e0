"""One exploration step: Perceive, EnumerateActions, ChooseAction, Act, Verify,
DetectProgress, ShouldContinue (and RestartApp / RecoverFromError when needed)."""

from __future__ import annotations

import time
from typing import Any

from adapters import telemetry
from adapters.device import DeviceError, DeviceUnavailable, SessionLost, perform
from agent.context import RunContext
from agent.findings_watch import FindingsWatch
from agent.outcome import Stop, cancelled
from agent.recovery import SessionRecovery
from agent.verification import Verification, public, screen_detail
from domain.exploration import Action, Screen, goal_text, screen_shows
from domain.exploration.labels import screen_labels
from domain.exploration.offer import Offer, offer
from domain.exploration.outline import outline
from domain.run import Run

MAX_CONSECUTIVE_ERRORS = 3
RETRY_BACKOFF_SECONDS = (0.2, 0.5, 1.0)


class ExplorationStep:
    def __init__(self, context: RunContext, findings: FindingsWatch) -> None:
        self.context, self.node, self.findings = context, context.node, findings
        self.goal = goal_text(context.goal) if context.goal else None
        self.consecutive_errors = 0
        self.step = 0  # the step under way
        self.taking: list[tuple[Screen, Action]] = []  # the action chosen in it, until it is verified
        self.verification = Verification(context, findings)
        self.recovery = SessionRecovery(context)

    def run_step(self, step: int, screen: Screen) -> Screen | Stop:
        """Returns the screen the next step starts from, or how the run stops here. A lost session is
        replaced and the run goes on with the next step: none is counted twice or skipped."""
        started, waited = time.perf_counter(), telemetry.waited()
        self.step, self.taking = step, []
        try:
            after = self._recovering(step, screen)
        except SessionLost as error:
            lost = error
            self.verification.untry(self.taking)  # its effect was never seen: the app may not have had it
            after = self.node("RecoverSession", step, lambda: self.recovery(step, screen, lost), screen_detail)
        finally:
            telemetry.step_done(self.context.udid, started, waited)
        return after

    def _recovering(self, step: int, screen: Screen) -> Screen | Stop:
        try:
            after = self._step(step, screen)
            self.node.flush()
        except SessionLost:
            raise
        except DeviceUnavailable as error:
            return Stop.failed("device_unavailable", str(error))
        except DeviceError as error:
            failure = error  # `error` is unbound when the except block ends
            return self.node("RecoverFromError", step, lambda: self.recover(failure), screen_detail)
        self.consecutive_errors = 0
        self.recovery.step_done()
        return after

    def _step(self, step: int, screen: Screen) -> Screen | Stop:
        perceived = self.node("Perceive", step, lambda: self.perceive(step, screen), lambda taken: taken[1])
        if isinstance(perceived, Stop):
            return perceived
        screen = perceived[0]
        offered = self.node("EnumerateActions", step, lambda: self.enumerate(screen), _offer_detail)
        action = self.node("ChooseAction", step, lambda: self.choose(step, screen, offered.actions), _action_detail)
        if isinstance(action, Stop):
            return action
        self.node("Act", step, lambda: self.act(step, screen, action), lambda hidden: {"keyboardHidden": True} if hidden else {})
        after = self.node("Verify", step, lambda: self.verification(step, screen, action), screen_detail)
        self.taking = []
        if isinstance(after, Stop):
            return after
        stalled = self.node("DetectProgress", step, self.detect_progress, lambda stalled: {"stalled": stalled})
        if isinstance(stalled, Stop):
            return stalled
        go_on = self.node("ShouldContinue", step, lambda: self.should_continue(step))
        return go_on if isinstance(go_on, Stop) else after

    def perceive(self, step: int, screen: Screen) -> tuple[Screen, dict[str, Any]] | Stop:
        """The screen as it is now (it may have changed by itself since it was taken), recorded."""
        figures, context = self.context.figures, self.context
        screen = self.verification.by_itself(step, screen)
        if isinstance(screen, Stop):
            return screen
        with telemetry.waiting():  # the store and Appium: not the agent's own time
            artifacts = {
                "pageSource": context.artifacts.put(context.observer.last_source.encode(), "application/xml"),
                "screenshot": context.artifacts.put(context.device.screenshot_png(), "image/png"),
            }
        self.node.record(Run.record_screen, step_ordinal=step, screen_id=screen.screen_id,
                         activity=screen.activity, package=screen.package,
                         element_count=len(screen.elements), artifacts=artifacts, elements=outline(screen),
                         cleaned=screen.cleaned)
        new_screen = screen.screen_id not in figures.screens
        if new_screen:
            figures.screens.add(screen.screen_id)
            figures.activities.add(screen.activity)
            self.node.record(Run.discover_screen, step_ordinal=step, screen_id=screen.screen_id,
                             activity=screen.activity, labels=screen_labels(screen))
            self.findings.new_screen(step, screen, context.observer.last_source, artifacts)
        if self.goal and (screen_shows(screen, self.goal) or (new_screen and self.policy_sees_goal(step, screen))):
            return Stop.completed("goal_reached")
        return screen, {"screenId": screen.screen_id, **artifacts}

    def policy_sees_goal(self, step: int, screen: Screen) -> bool:
        """A policy may judge a new screen against the goal too (the llm policy asks its model)."""
        judge = getattr(self.context.policy, "goal_reached", None)
        reached = judge(screen) is True if judge else False
        self.record_llm_calls(step, None)
        return reached

    def enumerate(self, screen: Screen) -> Offer:
        """What the screen offers less what the run keeps its hands off (its avoid patterns, guesses at a
        password); a password field without an input is what makes the run's `login_required`."""
        offered = offer(screen, self.context.inputs, self.context.avoid)
        self.context.figures.login_required |= offered.login_wall
        return offered

    def choose(self, step: int, screen: Screen, actions: tuple[Action, ...]) -> Action | Stop:
        action = self.context.policy.choose(screen, actions)
        self.taking = [(screen, action)] if action else []
        self.record_llm_calls(step, action.action_id if action else None)
        return Stop.completed("explored") if action is None else action

    def record_llm_calls(self, step: int, action_id: str | None) -> None:
        """One `agent.llm.called` per use of the model since the last look (policies without one have none)."""
        take_calls = getattr(self.context.policy, "take_calls", None)
        for call in take_calls() if take_calls else ():
            self.context.figures.count_llm_call(call.cached, call.reason, call.prompt_tokens, call.completion_tokens)
            self.node.record(Run.record_llm_call, step_ordinal=step, purpose=call.purpose, model=call.model,
                             prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens,
                             latency_ms=call.latency_ms, cached=call.cached, outcome=call.outcome,
                             reason=call.reason, action_id=action_id, goal_reached=call.goal_reached)

    def act(self, step: int, screen: Screen, action: Action) -> bool:
        """Performs the action; True when the keyboard it brought up was hidden."""
        if not perform(self.context.device, action):
            self.context.policy.reached_end(screen, action)  # spares the scroll that would find it out
        self.node.record(Run.record_action, step_ordinal=step, screen_id=screen.screen_id,
                         action=public(action))
        return self.context.surroundings.hide_keyboard(action)

    def detect_progress(self) -> bool | Stop:
        return Stop.completed("no_progress") if self.context.progress.stalled else False

    def should_continue(self, step: int) -> Stop | None:
        context = self.context
        if step >= context.max_steps:
            return Stop.completed("max_steps")
        if time.monotonic() - context.figures.started > context.settings.run_timeout_seconds:
            return Stop.completed("timeout")
        return None

    def recover(self, error: DeviceError) -> Screen | Stop:
        """Retry perception with backoff; the run fails after repeated errors (a retry that fails too
        counts as one). Cancel interrupts the wait."""
        observer = self.context.observer
        while True:
            self.context.figures.errors += 1
            self.consecutive_errors += 1
            if self.consecutive_errors > MAX_CONSECUTIVE_ERRORS:
                return Stop.failed("device_error", str(error))
            self.node.flush()  # what happened so far is visible while the agent waits
            self._interruptible_sleep(RETRY_BACKOFF_SECONDS[self.consecutive_errors - 1])
            try:
                screen = observer.wait_idle()  # a permission dialog is answered once the app is relaunched
                return screen if screen.in_app(observer.package) else self.verification.restart_app(self.step)
            except SessionLost:
                raise  # only a new session helps: run_step recovers it
            except DeviceUnavailable as lost:
                return Stop.failed("device_unavailable", str(lost))
            except DeviceError as again:
                error = again

    def _interruptible_sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.node.cancel_requested():
                raise cancelled()
            time.sleep(min(0.05, deadline - time.monotonic()))


def _offer_detail(offered: Offer) -> dict[str, Any]:
    """The ids let a run that continues elsewhere know what this screen offered (ExplorationHistory)."""
    return {"actions": len(offered.actions), "actionIds": [action.action_id for action in offered.actions],
            "avoided": offered.avoided}


def _action_detail(action: Action) -> dict[str, Any]:
    return {"action": public(action)}
