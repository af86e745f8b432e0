"""Actions the app never saw (DESIGN.md "Time and faults"): a tap taken while the app was frozen, cut short
by the ANR another action set off, stays untried and is taken again later; the finding names the action
that froze the app. Plug-in policies without `unseen` keep working."""

from __future__ import annotations

import pytest

import agent.findings_watch
from domain.exploration import DepthFirstPolicy
from tests.unit.agent import Finished, assert_one_terminal
from tests.unit.fakes import El, FakeDevice, Freeze, Page, fake_run, label


@pytest.fixture(autouse=True)
def short_freeze_watch(monkeypatch):
    monkeypatch.setattr(agent.findings_watch, "FREEZE_WATCH_SECONDS", 0.1)  # how long, not whether


def frozen_app() -> FakeDevice:
    """Home: Refresh freezes the app (the next tap brings up the ANR dialog instead of being delivered);
    Articles opens the only way to the article screen."""
    return FakeDevice({
        "home": Page(".HomeActivity", (El("refresh", "Refresh"), El("articles", "Articles")), back="home"),
        "articles": Page(".ArticlesActivity", (El("article", "An article"),), back="home"),
        "article": Page(".ArticleActivity", (label("text", "The article"),), back="articles"),
    }, {("home", "refresh"): Freeze(), ("home", "articles"): "articles", ("articles", "article"): "article"},
        start="home")


def test_a_tap_the_frozen_app_never_saw_is_taken_again_and_finds_its_screen():
    run = fake_run(frozen_app(), max_steps=30, reproduce_attempts=0)  # the ANR is not replayed here
    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    (anr,) = [f for f in finished.named("agent.finding.detected") if f["kind"] == "anr"]
    assert anr["actionId"] == "tap:id/refresh"  # the action that froze the app, not the one cut short
    assert finished.actions().count("tap:id/articles") == 2  # cut short once, then taken again
    assert sorted(finished.discovered().values()) == [".ArticleActivity", ".ArticlesActivity", ".HomeActivity"]
    home = finished.screen_of(".HomeActivity")
    articles = [t for t in finished.transitions() if t[:2] == (home, "tap:id/articles")]
    assert articles == [(home, "tap:id/articles", finished.screen_of(".ArticlesActivity"))]  # never the relaunch


def test_a_plug_in_policy_without_unseen_keeps_working(monkeypatch):
    class PlugIn:  # the ExplorationPolicy protocol only: no `unseen`
        def __init__(self) -> None:
            self.dfs = DepthFirstPolicy(seed=0)

        def choose(self, screen, actions):
            return self.dfs.choose(screen, actions)

        def observe(self, screen, action, after):
            self.dfs.observe(screen, action, after)

        def reached_end(self, screen, action):
            self.dfs.reached_end(screen, action)

        def is_explored(self):
            return self.dfs.is_explored()

        def restore(self, history):
            self.dfs.restore(history)

    monkeypatch.setattr("agent.agent_run.build_policy", lambda *args, **kwargs: PlugIn())
    run = fake_run(frozen_app(), max_steps=30, reproduce_attempts=0)  # the ANR is not replayed here
    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    assert finished.actions().count("tap:id/articles") == 1  # it does not know: the tap stays tried
    assert [f["kind"] for f in finished.named("agent.finding.detected") if f["kind"] == "anr"] == ["anr"]
