import pytest

from domain.exploration import DepthFirstPolicy, ExplorationPolicy, RandomPolicy, Screen
from domain.exploration.graph import MAX_MISSES
from domain.exploration.policy import MAX_BACK_FALLBACKS
from tests.unit.exploration.fakeapp import OUTSIDE, FakeApp, explore

NOTES_APP = {
    "login": {"type:id/username": "login", "type:id/password": "login", "tap:id/sign_in": "home",
              "back": OUTSIDE},
    "home": {"tap:id/settings": "settings", "tap:id/notes": "notes", "tap:id/sync": OUTSIDE, "back": "login"},
    "settings": {"toggle:id/dark": "settings", "tap:id/about": "about", "tap:id/licenses": "licenses",
                 "back": "home"},
    "about": {"back": "settings"},
    "licenses": {"tap:id/oss": "oss", "back": "settings"},
    "oss": {"back": "licenses"},
    "notes": {"tap:id/new": "editor", "tap:Note@0": "editor", "back": "home"},
    "editor": {"type:id/body": "editor", "tap:id/save": "notes", "back": "notes"},
    "unreachable": {"tap:id/x": "home"},
}
REACHABLE = set(NOTES_APP) - {"unreachable"} | {OUTSIDE}


def crawl(seed: int = 7, app: dict = NOTES_APP, start: str = "login", max_steps: int = 300):
    policy = DepthFirstPolicy(seed=seed)
    visited, taken, stopped = explore(policy, FakeApp(app, start, gated={"tap:id/sign_in"}), max_steps)
    return policy, visited, taken, stopped


def test_depth_first_visits_every_reachable_screen_then_stops():
    policy, visited, taken, stopped = crawl()
    assert stopped, "the policy must stop by itself with None"
    assert set(visited) == REACHABLE
    assert policy.is_explored()
    tried = {step.split(">")[1] for step in taken}
    every_action = {aid for name, moves in NOTES_APP.items() if name != "unreachable" for aid in moves}
    assert every_action <= tried | {"back"}
    assert len(taken) < 60  # systematic: far fewer steps than the cap


def test_fields_are_filled_before_the_form_is_submitted():
    _, _, taken, _ = crawl()
    assert taken[:3] == ["login>type:id/username", "login>type:id/password", "login>tap:id/sign_in"]


def test_submitting_again_on_a_later_visit_refills_the_form():
    # back from home returns to an empty login form; the route back to home re-types first.
    _, visited, taken, stopped = crawl()
    assert stopped and "home" in visited
    sign_ins = [i for i, step in enumerate(taken) if step == "login>tap:id/sign_in"]
    assert len(sign_ins) >= 2
    for i in sign_ins:
        assert taken[i - 2 : i] == ["login>type:id/username", "login>type:id/password"]


def test_same_seed_same_walk_and_seed_only_breaks_ties():
    assert crawl(seed=3)[2] == crawl(seed=3)[2]
    assert set(crawl(seed=3)[1]) == set(crawl(seed=99)[1]) == REACHABLE


def test_an_action_leaving_the_app_does_not_make_the_outside_a_screen_to_explore():
    policy, visited, taken, stopped = crawl()
    assert "home>tap:id/sync" in taken
    assert stopped and policy.is_explored()
    assert not any(step.startswith(f"{OUTSIDE}>") for step in taken)


def test_a_transition_that_keeps_changing_does_not_loop_forever():
    class Flaky(FakeApp):
        """The hub's only way on alternates between two screens: a, b, a, b..."""
        flips = 0

        def perform(self, action):
            super().perform(action)
            if action.action_id == "tap:id/go":
                self.flips += 1
                self.current = "a" if self.flips % 2 else "b"

    # a's first tap leaves it half explored, so the crawl has to come back through "go".
    app = {"hub": {"tap:id/go": "a", "back": OUTSIDE},
           "a": {"tap:id/home": "hub", "tap:id/deep": "d", "back": "hub"},
           "b": {"tap:id/y": "c", "back": "hub"}, "c": {"back": "b"}, "d": {"back": "a"}}
    policy = DepthFirstPolicy(seed=1)
    visited, taken, stopped = explore(policy, Flaky(app, "hub"), max_steps=500)
    assert stopped and len(taken) < 100
    assert {"hub", "a", "b", "c", "d"} <= set(visited)
    assert taken.count("hub>tap:id/go") <= 1 + MAX_MISSES + MAX_BACK_FALLBACKS


def test_a_screen_reachable_only_by_chance_is_given_up_on():
    class OnceOnly(FakeApp):
        """The way to "rare" works once; afterwards the tap does nothing."""
        rare_seen = False

        def perform(self, action):
            super().perform(action)
            if self.current == "rare" and self.rare_seen:
                self.current = "hub"
            self.rare_seen = self.rare_seen or self.current == "rare"

    app = {"hub": {"tap:id/rare": "rare", "tap:id/other": "other", "back": OUTSIDE},
           "rare": {"tap:id/leave": "hub", "tap:id/deep": "deep", "back": "hub"},
           "other": {"back": "hub"}, "deep": {"back": "rare"}}
    policy = DepthFirstPolicy(seed=1)
    visited, taken, stopped = explore(policy, OnceOnly(app, "hub"), max_steps=500)
    assert stopped and policy.is_explored() and len(taken) < 60
    assert "other" in visited and "deep" not in visited
    assert taken.count("hub>tap:id/rare") <= 1 + MAX_MISSES


def test_is_explored_is_false_until_the_work_is_done():
    policy = DepthFirstPolicy(seed=0)
    assert not policy.is_explored()
    app = FakeApp(NOTES_APP, "login", gated={"tap:id/sign_in"})
    explore(policy, app, max_steps=5)
    assert not policy.is_explored()


def test_an_exhausted_single_screen_app_stops_after_trying_everything():
    app = {"only": {"tap:id/a": "only", "toggle:id/b": "only", "back": OUTSIDE}}
    policy, visited, taken, stopped = crawl(app=app, start="only")
    assert stopped and policy.is_explored()
    # Taps first: they lead somewhere; switches last, even after leaving: they rarely do.
    assert taken[:3] == ["only>tap:id/a", "only>back", "only>toggle:id/b"]


def test_observed_transitions_form_the_graph():
    policy, _, _, _ = crawl()
    transitions = policy.graph.transitions
    assert ("login", "tap:id/sign_in", "home") in transitions
    assert ("login", "tap:id/sign_in", "login") not in transitions  # fields were always filled first
    assert ("home", "tap:id/sync", OUTSIDE) in transitions


def test_random_policy_is_reproducible_for_a_seed():
    def walk(seed):
        policy = RandomPolicy(seed=seed)
        app = FakeApp(NOTES_APP, "login", gated={"tap:id/sign_in"})
        _, taken, stopped = explore(policy, app, max_steps=60)
        assert not stopped and not policy.is_explored()
        return taken

    assert walk(5) == walk(5)
    assert walk(5) != walk(6)


def test_random_policy_returns_none_without_actions():
    screen = Screen(screen_id="x", activity=".X", package="p", elements=())
    assert RandomPolicy(seed=1).choose(screen, ()) is None


@pytest.mark.parametrize("policy", [DepthFirstPolicy(seed=1), RandomPolicy(seed=1)])
def test_policies_implement_the_protocol(policy):
    assert isinstance(policy, ExplorationPolicy)
