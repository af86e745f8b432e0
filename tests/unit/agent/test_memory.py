"""A warm run's agent (DESIGN.md "Memory across runs") on a fake device, with the app's map in memory: what it
recalls and says, the screens it knew without visiting, and an older version's crash replayed at its end:
fixed, or a finding of this run."""

from __future__ import annotations

from typing import Any

import agent.reproduction
from domain.app_map import Recall
from domain.exploration import ExplorationHistory
from tests.unit.agent import Finished, assert_one_terminal, crashy_app
from tests.unit.fakes import El, FakeDevice, Page, fake_run, label


class MapInMemory:
    """The agent's AppMemory over a recall and older findings given by the test."""

    def __init__(self, recall: Recall, older: list[dict[str, Any]] | None = None) -> None:
        self.recalled, self.older = recall, older or []
        self.asked: list[str] = []

    def recall(self, run_id: str) -> Recall:
        self.asked.append(run_id)
        return self.recalled

    def older_findings(self, run_id: str) -> list[dict[str, Any]]:
        return self.older


def fixed_app() -> FakeDevice:
    """crashy_app's next version: Sync now shows a toast instead of crashing."""
    return FakeDevice({
        "home": Page(".HomeActivity", (El("sync", "Sync now"), El("next", "Next")), back="home"),
        "next": Page(".NextActivity", (label("text", "After the crash"),), back="home"),
    }, {("home", "next"): "next"}, start="home")


def first_version() -> tuple[Finished, dict[str, Any]]:
    """crashy_app explored cold: its events, and its crash as the map keeps it (app_findings' row)."""
    run = fake_run(crashy_app(), max_steps=20)
    run.execute()
    finished = Finished.of(run)
    [crash] = [d for d in finished.named("agent.finding.detected") if d["kind"] == "crash"]
    [reproduced] = [d for d in finished.named("agent.finding.reproduced") if d["findingId"] == crash["findingId"]]
    older = {"signature": crash["signature"], "kind": "crash", "title": crash["title"], "activity": crash["activity"],
             "action_id": crash["actionId"], "steps": reproduced["steps"], "version": "1", "run_id": run.run_id}
    return finished, older


def new_version_recall() -> Recall:
    return Recall(runs=1, version="1", same_version=False, history=ExplorationHistory())


def test_a_cold_run_asks_no_memory_and_reports_none():
    memory = MapInMemory(new_version_recall())
    run = fake_run(crashy_app(), max_steps=20)
    run.execute(memory=memory)
    finished = Finished.of(run)
    assert memory.asked == [] and not finished.named("agent.memory.recalled")
    assert "knownFromMemory" not in finished.metrics


def test_a_warm_run_of_an_explored_version_knows_its_screens_without_visiting_them():
    first, _ = first_version()
    history = ExplorationHistory.from_events(first.run.api.domain_events(first.run.run_id))
    run = fake_run(crashy_app(), max_steps=20, memory="warm")
    run.execute(memory=MapInMemory(Recall(runs=1, version="1", same_version=True, history=history)))
    finished = Finished.of(run)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    assert finished.metrics["steps"] == 1 < first.metrics["steps"]
    assert finished.metrics["knownFromMemory"] == first.metrics["screensDiscovered"] - 1  # all but home, visited
    [recalled] = finished.named("agent.memory.recalled")
    assert (recalled["runs"], recalled["sameVersion"], recalled["cold"]) == (1, True, False)


def test_a_warm_run_with_nothing_to_recall_runs_cold_and_says_so():
    run = fake_run(crashy_app(), max_steps=20, memory="warm")
    run.execute(memory=MapInMemory(Recall()))
    finished = Finished.of(run)
    [recalled] = finished.named("agent.memory.recalled")
    assert (recalled["runs"], recalled["cold"]) == (0, True) and "starts cold" in recalled["note"]
    assert finished.metrics["knownFromMemory"] == 0
    assert finished.metrics["screensDiscovered"] == 2  # explored as a cold run


def test_an_older_crash_that_no_longer_happens_is_reported_fixed(monkeypatch):
    monkeypatch.setattr(agent.reproduction, "CRASH_WAIT_SECONDS", 0.0)  # the fake's dialog shows at once, or never
    _, older = first_version()
    run = fake_run(fixed_app(), max_steps=20, memory="warm")
    run.execute(memory=MapInMemory(new_version_recall(), [older]))
    finished = Finished.of(run)
    [fixed] = finished.named("agent.finding.fixed")
    assert (fixed["signature"], fixed["lastVersion"], fixed["lastRunId"]) == (
        older["signature"], "1", older["run_id"])
    assert finished.final.fixed == [{"signature": older["signature"], "kind": "crash", "title": older["title"],
                                     "lastVersion": "1", "lastRunId": older["run_id"]}]
    assert not finished.named("agent.finding.detected")
    [check] = [c for c in finished.calls() if c.name == "CheckFixed"]
    assert (check.detail["fixed"], check.detail["reproduced"]) == (True, 0)


def test_an_older_crash_this_run_did_not_meet_but_that_still_happens_is_a_finding_of_this_run():
    _, older = first_version()
    # This version still crashes, but the run never taps Sync now while exploring (it avoids it)
    run = fake_run(crashy_app(), max_steps=20, memory="warm", avoid=("id/sync",))
    run.execute(memory=MapInMemory(new_version_recall(), [older]))
    finished = Finished.of(run)
    assert not finished.named("agent.finding.fixed")
    [found] = finished.named("agent.finding.detected")
    assert (found["signature"], found["details"]["replayedFrom"]) == (older["signature"], older["run_id"])
    [reproduction] = finished.named("agent.finding.reproduced")
    assert (reproduction["findingId"], reproduction["reproduced"]) == (found["findingId"], 2)


def test_an_older_crash_met_again_is_not_replayed():
    _, older = first_version()
    run = fake_run(crashy_app(), max_steps=20, memory="warm")
    run.execute(memory=MapInMemory(new_version_recall(), [older]))
    finished = Finished.of(run)
    assert not [c for c in finished.calls() if c.name == "CheckFixed"]
    assert not finished.named("agent.finding.fixed")
