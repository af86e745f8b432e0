"""Screens that change by themselves (DESIGN.md "Time and faults"): perception waits for a screen to settle
and to finish loading; a change that came while the agent waited is a transition `by: "time"`, never the
effect of the last action; a screen that never changes costs one page-source read a step more, no more."""

from __future__ import annotations

from tests.unit.agent import Finished, assert_one_terminal, small_app
from tests.unit.fakes import El, FakeDevice, Page, fake_run, label, spinner


def explore(device: FakeDevice, **options) -> Finished:
    run = fake_run(device, **options)
    run.execute()
    return Finished.of(run)


def perceive_steps(finished: Finished) -> list[int]:
    return [e.data["stepOrdinal"] for e in finished.events
            if e.name == "agent.node.started" and e.data["nodeName"] == "Perceive"]


def timed_app() -> FakeDevice:
    """A splash that becomes home by itself; home's Refresh shows a stale feed that becomes the new one by
    itself, a read after the agent took it."""
    return FakeDevice({
        "splash": Page(".SplashActivity", (label("logo", "News"),), after=(2, "home")),
        "home": Page(".HomeActivity", (El("refresh", "Refresh"),), back="home"),
        "stale": Page(".FeedActivity", (label("old", "Yesterday"),), back="home", after=(2, "fresh")),
        "fresh": Page(".FeedActivity", (label("new", "Today"), El("story", "Story")), back="home"),
        "story": Page(".StoryActivity", (label("text", "A story"),), back="fresh"),
    }, {("home", "refresh"): "stale", ("fresh", "story"): "story"}, start="splash")


def test_a_screen_that_changed_by_itself_is_a_transition_by_time_not_the_last_actions_effect():
    finished = explore(timed_app(), max_steps=12)

    screens = {activity: sid for sid, activity in finished.discovered().items()}
    by_time = [t for t in finished.named("graph.transition.discovered") if t.get("by") == "time"]
    splash = finished.calls()[3].detail["screenId"]  # WaitIdle took the splash
    home = next(p["screenId"] for p in finished.named("agent.screen.perceived"))
    assert [(t["stepOrdinal"], t["fromScreen"], t["toScreen"], t["action"]["kind"]) for t in by_time][0] == (
        1, splash, home, "wait")
    stale_to_fresh = [t for t in by_time if t["fromScreen"] != splash]
    assert len(stale_to_fresh) == 1 and stale_to_fresh[0]["action"] == {"kind": "wait", "action_id": "wait",
                                                                     "label": "wait"}
    stale, fresh = stale_to_fresh[0]["fromScreen"], stale_to_fresh[0]["toScreen"]
    assert stale != fresh and fresh in screens.values()
    by_action = {(t["fromScreen"], t["action"]["action_id"], t["toScreen"])
                 for t in finished.named("graph.transition.discovered") if t.get("by") is None}
    assert any(to == stale for _, _, to in by_action)  # Refresh led to the stale feed ...
    assert not any(frm == home and to == fresh for frm, _, to in by_action)  # ... never to the fresh one
    assert ".StoryActivity" in screens  # what came by itself is explored
    assert perceive_steps(finished) == list(range(1, finished.metrics["steps"] + 1))
    assert splash not in {p["screenId"] for p in finished.named("agent.screen.perceived")}


def test_a_loading_screen_is_waited_for_before_anything_is_enumerated():
    device = FakeDevice({
        "home": Page(".HomeActivity", (El("feed", "Feed"),), back="home"),
        "loading": Page(".FeedActivity", (spinner(),), after=(3, "feed")),
        "feed": Page(".FeedActivity", (label("title", "Today"),), back="home"),
    }, {("home", "feed"): "loading"}, start="home")
    finished = explore(device, max_steps=6)

    perceived = {p["screenId"] for p in finished.named("agent.screen.perceived")}
    assert len(perceived) == 2 and len(finished.discovered()) == 2  # home and the loaded feed, never the spinner
    home, feed = (finished.named("agent.screen.perceived")[0]["screenId"],
                  next(s for s in perceived if s != finished.named("agent.screen.perceived")[0]["screenId"]))
    assert (home, "tap:id/feed", feed) in finished.transitions()
    assert not [t for t in finished.named("graph.transition.discovered") if t.get("by") == "time"]
    assert finished.metrics["waitSeconds"] > 0


def test_a_screen_that_loads_forever_is_taken_as_it_is_after_loading_seconds():
    device = FakeDevice({
        "home": Page(".HomeActivity", (El("feed", "Feed"),), back="home"),
        "loading": Page(".FeedActivity", (spinner(),), back="home"),
    }, {("home", "feed"): "loading"}, start="home")
    finished = explore(device, max_steps=4, loading_seconds=0.3)

    assert_one_terminal(finished, "run.completed", "completed", "max_steps")
    assert len(finished.discovered()) == 2  # the spinner is a screen once the wait is over
    assert 0.3 <= finished.metrics["waitSeconds"] < 2.0  # waited for once, not at every look


def test_a_screen_that_never_changes_costs_at_most_one_more_page_source_read_a_step():
    device = small_app()
    finished = explore(device, max_steps=10)

    steps = finished.metrics["steps"]
    assert steps >= 5
    assert finished.terminal.data["stopReason"] == "explored"  # the last step took no action: no look after it
    # WaitIdle's two reads; then per step one to see whether the screen changed by itself before it is taken,
    # and the two of the look after the action (without the check: 2 + 2 * (steps - 1)).
    assert device.calls["page_source"] == 2 + 3 * (steps - 1) + 1
    assert finished.metrics["waitSeconds"] == 0


def test_a_screen_whose_texts_moved_on_by_themselves_is_taken_as_it_is_without_a_transition():
    device = FakeDevice({
        "home": Page(".HomeActivity", (label("banner", ""), El("feed", "Feed")), back="home",
                     after=(2, "breaking")),
        "breaking": Page(".HomeActivity", (label("banner", "Breaking news"), El("feed", "Feed")), back="home"),
        "feed": Page(".FeedActivity", (label("title", "Today"),), back="home"),
    }, {("home", "feed"): "feed", ("breaking", "feed"): "feed"}, start="home")
    finished = explore(device, max_steps=6)

    assert not [t for t in finished.named("graph.transition.discovered") if t.get("by") == "time"]
    assert len(finished.discovered()) == 2  # the banner is text: the same home screen
    assert finished.metrics["waitSeconds"] == 0  # nothing to wait for: it is still the screen it was
    assert perceive_steps(finished) == list(range(1, finished.metrics["steps"] + 1))
