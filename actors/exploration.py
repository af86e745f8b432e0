"""One exploration step: Perceive, EnumerateActions, ChooseAction, Act, Verify,
DetectProgress, ShouldContinue (and RestartApp / RecoverFromError when needed)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from actors import metrics as telemetry  # `metrics` is the run's own figures here
from actors.appium import Device, DeviceError, DeviceUnavailable
from actors.nodes import RunStopped, cancelled
from domain.exploration import Action, Screen, enumerate_actions, goal_text, screen_shows
from domain.exploration.outline import outline
from domain.findings.dialogs import DISMISS, system_dialog

if TYPE_CHECKING:
    from actors.agent import AgentRun

MAX_CONSECUTIVE_ERRORS = 3
RETRY_BACKOFF_SECONDS = (0.2, 0.5, 1.0)


class ExplorationStep:
    def __init__(self, agent: "AgentRun") -> None:
        self.agent, self.node = agent, agent.node
        self.goal = goal_text(agent.goal) if agent.goal else None
        self.consecutive_errors = 0

    def run(self, step: int, screen: Screen) -> Screen:
        """Returns the screen the next step starts from."""
        started, waited = time.perf_counter(), telemetry.waited()
        try:
            after = self._step(step, screen)
            self.node.flush()
        except DeviceUnavailable as error:
            raise RunStopped("failed", "device_unavailable", str(error)) from None
        except DeviceError as error:
            failure = error  # `error` is unbound when the except block ends
            return self.node("RecoverFromError", step, lambda: self.recover(failure), _screen_detail)
        finally:
            telemetry.step_done(self.agent.device_caps.get("appium:udid", self.agent.worker_id), started, waited)
        self.consecutive_errors = 0
        return after

    def _step(self, step: int, screen: Screen) -> Screen:
        self.node("Perceive", step, lambda: self.perceive(step, screen), lambda d: d)
        actions = self.node("EnumerateActions", step, lambda: enumerate_actions(screen, self.agent.inputs),
                            _actions_detail)
        action = self.node("ChooseAction", step, lambda: self.choose(step, screen, actions), _action_detail)
        self.node("Act", step, lambda: self.act(step, screen, action))
        after = self.node("Verify", step, lambda: self.verify(step, screen, action), _screen_detail)
        self.node("DetectProgress", step, lambda: self.detect_progress(), lambda stalled: {"stalled": stalled})
        self.node("ShouldContinue", step, lambda: self.should_continue(step))
        return after

    def perceive(self, step: int, screen: Screen) -> dict[str, Any]:
        metrics = self.agent.metrics
        with telemetry.waiting():  # the store and Appium: not the agent's own time
            artifacts = {
                "pageSource": self.agent.artifacts.put(self.agent.observer.last_source.encode(), "application/xml"),
                "screenshot": self.agent.artifacts.put(self.agent.device.screenshot_png(), "image/png"),
            }
        self.node.record("screen_perceived", step_ordinal=step, screen_id=screen.screen_id,
                         activity=screen.activity, package=screen.package,
                         element_count=len(screen.elements), artifacts=artifacts, elements=outline(screen),
                         cleaned=screen.cleaned)
        new_screen = screen.screen_id not in metrics.screens
        if new_screen:
            metrics.screens.add(screen.screen_id)
            metrics.activities.add(screen.activity)
            self.node.record("screen_discovered", step_ordinal=step,
                             screen_id=screen.screen_id, activity=screen.activity)
            self.agent.findings.new_screen(step, screen, self.agent.observer.last_source, artifacts)
        if self.goal and (screen_shows(screen, self.goal) or (new_screen and self.policy_sees_goal(step, screen))):
            raise RunStopped("completed", "goal_reached")
        return {"screenId": screen.screen_id, **artifacts}

    def policy_sees_goal(self, step: int, screen: Screen) -> bool:
        """A policy may judge a new screen against the goal too (the llm policy asks its model)."""
        judge = getattr(self.agent.policy, "goal_reached", None)
        reached = judge(screen) is True if judge else False
        self.record_llm_calls(step, None)
        return reached

    def choose(self, step: int, screen: Screen, actions: tuple[Action, ...]) -> Action:
        action = self.agent.policy.choose(screen, actions)
        self.record_llm_calls(step, action.action_id if action else None)
        if action is None:
            raise RunStopped("completed", "explored")
        return action

    def record_llm_calls(self, step: int, action_id: str | None) -> None:
        """One `agent.llm.called` per use of the model since the last look (policies without one have none)."""
        take_calls = getattr(self.agent.policy, "take_calls", None)
        for call in take_calls() if take_calls else ():
            self.agent.metrics.count_llm_call(call.cached, call.reason, call.prompt_tokens, call.completion_tokens)
            self.node.record("llm_called", step_ordinal=step, purpose=call.purpose, model=call.model,
                             prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens,
                             latency_ms=call.latency_ms, cached=call.cached, outcome=call.outcome,
                             reason=call.reason, action_id=action_id, goal_reached=call.goal_reached)

    def act(self, step: int, screen: Screen, action: Action) -> None:
        if not perform(self.agent.device, action):
            self.agent.policy.reached_end(screen, action)  # spares the scroll that would find it out
        self.node.record("action_performed", step_ordinal=step, screen_id=screen.screen_id,
                         action=public(action))

    def verify(self, step: int, before: Screen, action: Action) -> Screen:
        observer = self.agent.observer
        before_source = observer.last_source
        after = self.agent.findings.after_action(step, before, before_source, action, observer.wait_idle())
        self.agent.policy.observe(before, action, after)
        if not after.in_app(observer.package):
            dialog = system_dialog(after)
            after = self.node("RestartApp", step, lambda: self.restart_app(dialog), _screen_detail)
        self.agent.journal.acted(before.screen_id, action.to_dict(), after.screen_id)
        self._record_transition(step, before, action, after)
        return after

    def restart_app(self, dialog: str | None = None) -> Screen:
        """The app crashed or left the foreground: close Android's crash or ANR dialog if one shows (a
        dialog left open would cover the relaunched app on a device), bring the app back and look again."""
        agent = self.agent
        agent.metrics.restarts += 1
        if dialog is not None:
            agent.device.tap(DISMISS)
        agent.device.activate_app(agent.app["packageName"])
        screen = agent.observer.wait_idle()
        if not screen.in_app(agent.observer.package):
            raise RunStopped("failed", "app_launch_failed", "the app did not come back to the foreground")
        agent.journal.launched(screen.screen_id)
        return screen

    def _record_transition(self, step: int, before: Screen, action: Action, after: Screen) -> None:
        key = (before.screen_id, action.action_id, after.screen_id)
        if key in self.agent.metrics.transitions:
            self.agent.progress.record(new_screen=False, new_transition=False)
            return
        new_screen = after.screen_id not in self.agent.metrics.screens
        self.agent.metrics.transitions.add(key)
        self.agent.progress.record(new_screen=new_screen, new_transition=True)
        self.node.record("transition_discovered", step_ordinal=step, from_screen=before.screen_id,
                         action=public(action), to_screen=after.screen_id)

    def detect_progress(self) -> bool:
        if self.agent.progress.stalled:
            raise RunStopped("completed", "no_progress")
        return False

    def should_continue(self, step: int) -> None:
        agent = self.agent
        if step >= agent.max_steps:
            raise RunStopped("completed", "max_steps")
        if time.monotonic() - agent.metrics.started > agent.settings.run_timeout_seconds:
            raise RunStopped("completed", "timeout")

    def recover(self, error: DeviceError) -> Screen:
        """Retry perception with backoff; the run fails after repeated errors (a retry that fails too
        counts as one). Cancel interrupts the wait."""
        while True:
            self.agent.metrics.errors += 1
            self.consecutive_errors += 1
            if self.consecutive_errors > MAX_CONSECUTIVE_ERRORS:
                raise RunStopped("failed", "device_error", str(error))
            self.node.flush()  # what happened so far is visible while the agent waits
            self._interruptible_sleep(RETRY_BACKOFF_SECONDS[self.consecutive_errors - 1])
            try:
                screen = self.agent.observer.wait_idle()
                return screen if screen.in_app(self.agent.observer.package) else self.restart_app()
            except DeviceUnavailable as lost:
                raise RunStopped("failed", "device_unavailable", str(lost)) from None
            except DeviceError as again:
                error = again

    def _interruptible_sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.node.cancel_requested():
                raise cancelled()
            time.sleep(min(0.05, deadline - time.monotonic()))


def perform(device: Device, action: Action) -> bool:
    """Does `action` on the device; False only for a scroll that reached the end of its view."""
    if action.kind == "back":
        device.back()
    elif action.kind == "type":
        device.type_text(action.target, action.text or "")
    elif action.kind == "long_press":
        device.long_press(action.target)
    elif action.kind == "scroll":
        return device.scroll(action.target, action.direction or "down")
    else:
        device.tap(action.target)
    return True


def _screen_detail(screen: Screen) -> dict[str, Any]:
    return {"screenId": screen.screen_id, "activity": screen.activity}


def public(action: Action) -> dict[str, Any]:
    """The action as events show it: typed text stays out (it may be a password from `inputs`);
    the label already masks password fields."""
    return {key: value for key, value in action.to_dict().items() if key != "text"}


def _actions_detail(actions: tuple[Action, ...]) -> dict[str, Any]:
    """The ids let a run that continues elsewhere know what this screen offered (ExplorationHistory)."""
    return {"actions": len(actions), "actionIds": [action.action_id for action in actions]}


def _action_detail(action: Action) -> dict[str, Any]:
    return {"action": public(action)}
