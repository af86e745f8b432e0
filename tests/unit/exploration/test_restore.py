"""A run that continues elsewhere (resumed after a pause, or taken over from a lost worker)
rebuilds its policy from the run's events and covers the app in about as many steps as
one that never stopped.

`Agent` drives a policy over a FakeApp the way the device worker does and records, through
the Run aggregate's commands, the events the worker records (screens perceived, the action
ids EnumerateActions found, actions performed, new transitions): the Run's own event objects,
as the store gives them back to a run that continues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from domain.exploration import DepthFirstPolicy, ExplorationHistory, RandomPolicy
from domain.run import PAUSED, Run
from tests.unit.exploration.fakeapp import OUTSIDE, PKG, FakeApp
from tests.unit.exploration.test_policy import NOTES_APP, REACHABLE

GATED = {"tap:id/sign_in"}


def lease() -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=5)


def running_run(worker_id: str = "worker-1") -> Run:
    run = Run(id=uuid4(), app_config={"packageName": PKG}, goal=None, max_steps=1000, inputs={},
              tenant_id="local", project_id="default")
    run.start(worker_id, lease())
    return run


def replayed(events: Iterable[Run.Event]) -> Run:
    """The run as the repository rebuilds it from its events."""
    run = None
    for event in events:
        run = event.mutate(run)
    assert isinstance(run, Run)
    return run


@dataclass
class Agent:
    """One worker's leg of a run: it starts by relaunching the app, as setup does. A leg after the
    first continues the run the previous one left (paused, then resumed on this worker)."""

    app: FakeApp
    events: list[Run.Event]
    policy: DepthFirstPolicy = field(default_factory=lambda: DepthFirstPolicy(seed=7))
    step: int = 0

    def __post_init__(self) -> None:
        self.app.relaunch()
        self.worker = f"worker-{sum(isinstance(e, Run.Started) for e in self.events) + 1}"
        if self.events:
            self.run = replayed(self.events)
            if self.run.status != PAUSED:
                self.run.request_pause()
                self.run.confirm_pause()
            self.run.resume()
            self.run.start(self.worker, lease())
        else:
            self.run = running_run(self.worker)
        self.events.extend(self.run.collect_events())
        self.step = max((getattr(e, "step_ordinal", 0) for e in self.events), default=0)
        self.seen = {e.screen_id for e in self.events if isinstance(e, Run.ScreenDiscovered)}
        self.transitions = {(e.from_screen, e.action["action_id"], e.to_screen)
                            for e in self.events if isinstance(e, Run.TransitionDiscovered)}

    def explore(self, steps: int) -> bool:
        """Up to `steps` steps; True when the policy stopped by itself (explored)."""
        for _ in range(steps):
            self.step += 1
            screen, actions = self.app.screen(), self.app.actions()
            self.record(Run.record_screen, screen_id=screen.screen_id, activity=screen.activity,
                        package=screen.package, element_count=len(actions), artifacts={})
            if screen.screen_id not in self.seen:
                self.seen.add(screen.screen_id)
                self.record(Run.discover_screen, screen_id=screen.screen_id, activity=screen.activity)
            self.finish_node("EnumerateActions",
                             {"actions": len(actions), "actionIds": [a.action_id for a in actions]})
            action = self.policy.choose(screen, actions)
            if action is None:
                return True
            self.app.perform(action)
            self.record(Run.record_action, screen_id=screen.screen_id, action=action.to_dict())
            self.policy.observe(screen, action, self.app.screen())
            if self.app.current == OUTSIDE:  # RestartApp: the transition leads where the app came back
                self.app.relaunch()
            self.record_transition(screen.screen_id, action.action_id, self.app.current)
        return False

    def record(self, command: Callable[..., None], **fields: Any) -> None:
        """One fact of this step by its command on the run, as RunService.record does."""
        command(self.run, self.worker, step_ordinal=self.step, **fields)
        self.events.extend(self.run.collect_events())

    def finish_node(self, node_name: str, detail: dict[str, Any]) -> None:
        self.run.finish_node(node_name, self.step, "SUCCESS", detail, self.worker)
        self.events.extend(self.run.collect_events())

    def record_transition(self, from_id: str, action_id: str, to_id: str) -> None:
        if (from_id, action_id, to_id) not in self.transitions:
            self.transitions.add((from_id, action_id, to_id))
            self.record(Run.discover_transition, from_screen=from_id, action={"action_id": action_id},
                        to_screen=to_id)


def new_app() -> FakeApp:
    return FakeApp(NOTES_APP, "login", gated=GATED)


def uninterrupted() -> tuple[int, set[str]]:
    events: list[Run.Event] = []
    agent = Agent(new_app(), events)
    assert agent.explore(300)
    return agent.step, agent.seen


def with_pauses(every: int, restore: bool = True, most: int = 100) -> tuple[int, set[str], int]:
    """Pauses every `every` steps, at most `most` times; each leg is a new worker with a new
    policy (and a relaunched app). Returns the steps, the screens discovered and the pauses."""
    events: list[Run.Event] = []
    app = new_app()
    for pauses in range(most + 1):
        agent = Agent(app, events)
        if restore:
            agent.policy.restore(ExplorationHistory.from_events(events))
        if agent.explore(every if pauses < most else 300):
            return agent.step, agent.seen, pauses
    raise AssertionError("never explored")


# A relaunch starts at the login form again: the way back costs the form (3 steps) and the
# route on (up to 3); the crawl, which goes on from the login screen, may need it once more.
WAY_BACK = 6


def test_a_run_paused_once_anywhere_explores_everything_in_about_as_many_steps():
    steps, seen = uninterrupted()

    for pause_at in range(1, steps):
        resumed_steps, resumed_seen, pauses = with_pauses(every=pause_at, most=1)

        assert pauses == 1 and resumed_seen == seen == REACHABLE - {OUTSIDE}, pause_at
        assert resumed_steps <= steps + 2 * WAY_BACK, pause_at


def test_without_the_rebuild_a_resumed_run_would_explore_again_from_scratch():
    """What the rebuild saves: a policy started afresh redoes what the run had done."""
    steps, _ = uninterrupted()
    pause_points = range(1, steps)

    restored = sum(with_pauses(every=p, restore=True, most=1)[0] for p in pause_points) / len(pause_points)
    afresh = sum(with_pauses(every=p, restore=False, most=1)[0] for p in pause_points) / len(pause_points)

    assert restored <= 1.25 * steps  # on average about as many steps as without the pause
    assert afresh >= restored + steps / 4


@pytest.mark.parametrize("every", [9, 12, 17])
def test_repeated_pauses_cost_only_the_ways_back(every):
    steps, seen = uninterrupted()

    resumed_steps, resumed_seen, pauses = with_pauses(every=every)

    assert pauses >= 1 and resumed_seen == seen
    assert resumed_steps <= steps + 2 * WAY_BACK * pauses


def test_a_restored_policy_does_not_try_again_what_the_run_had_tried():
    events: list[Run.Event] = []
    app = new_app()
    first = Agent(app, events)
    first.explore(12)
    tried_before = {(e.screen_id, e.action["action_id"]) for e in events if isinstance(e, Run.ActionPerformed)}

    second = Agent(app, events)
    second.policy.restore(ExplorationHistory.from_events(events))
    assert second.policy._tried == first.policy._tried
    assert second.policy.graph.transitions >= {t for t in first.policy.graph.transitions if OUTSIDE not in t}
    first_choice = second.policy.choose(app.screen(), app.actions())
    assert first_choice is not None and (app.current, first_choice.action_id) not in tried_before


def test_history_reads_screens_offers_tries_and_transitions():
    run = running_run()
    run.start_node("Perceive", 1)
    run.record_screen(step_ordinal=1, screen_id="s1", activity=".A", package=PKG, element_count=2, artifacts={})
    run.discover_screen(step_ordinal=1, screen_id="s1", activity=".A")
    run.finish_node("Perceive", 1, "SUCCESS", {})
    run.start_node("EnumerateActions", 1)
    run.finish_node("EnumerateActions", 1, "SUCCESS", {"actions": 2, "actionIds": ["tap:a", "back"]})
    run.record_action(step_ordinal=1, screen_id="s1", action={"action_id": "tap:a"})
    run.discover_transition(step_ordinal=1, from_screen="s1", action={"action_id": "tap:a"}, to_screen="s2")
    run.start_node("Perceive", 2)
    run.record_screen(step_ordinal=2, screen_id="s2", activity=".B", package=PKG, element_count=1, artifacts={})
    run.finish_node("Perceive", 2, "SUCCESS", {})
    # recorded before EnumerateActions named its ids: s2 is enumerated again when visited
    run.start_node("EnumerateActions", 2)
    run.finish_node("EnumerateActions", 2, "SUCCESS", {"actions": 1})
    run.request_pause()
    run.confirm_pause()

    history = ExplorationHistory.from_events(run.collect_events())

    assert history.package_of == {"s1": PKG, "s2": PKG}
    assert history.discovered == {"s1": ".A"}
    assert history.offered == {"s1": {"tap:a", "back"}}
    assert history.tried == [("s1", "tap:a")]
    assert history.transitions == [("s1", "tap:a", "s2")]
    assert history.screens == {"s1", "s2"}
    assert history.last_progress_step == 1  # step 2 found nothing new

    policy = DepthFirstPolicy(seed=0)
    policy.restore(history)
    assert not policy.is_explored()  # s1's back is untried and s2 was never enumerated
    assert policy._frontier == {"s2"}


def test_a_restored_policy_that_had_explored_everything_stops_at_once():
    events: list[Run.Event] = []
    app = new_app()
    assert Agent(app, events).explore(300)

    again = Agent(app, events)
    again.policy.restore(ExplorationHistory.from_events(events))

    assert again.explore(30) and again.step <= max(getattr(e, "step_ordinal", 0) for e in events) + 10


def test_the_random_policy_has_nothing_to_restore():
    policy = RandomPolicy(seed=1)
    policy.restore(ExplorationHistory())
    assert not policy.is_explored()
