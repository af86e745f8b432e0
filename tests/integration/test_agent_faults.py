"""Time and faults on the simulator (DESIGN.md "Time and faults"; apps/news.json and `appium:simFaults`):
runs whose UiAutomator2 server dies at several points, whose page sources are slow, whose session hangs.
Each run ends `completed` or `device_unavailable` (never `internal_error`, never hung), and its steps have
no gap and no repeat."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from ulid import ULID

from agent.agent_run import AgentRun
from config.settings import Settings
from domain.application import RunRequest
from tests.fixtures.appium import sample_app
from tests.integration.test_agent import SIMULATOR_CAPS, WORKER, Finished, h  # noqa: F401 - h is the harness

NEWS = ("com.example.news", ".SplashActivity")
RUN_DEADLINE_SECONDS = 240.0  # a run that is not over by then hangs
# Runs about exploring through faults do not replay news's 6 s ANR afterwards (20 s a run): only the
# reproduction test does.
EXPLORING_ONLY = {"reproduce_attempts": 0}


def run_news(h: Any, faults: dict[str, Any] | None, *, max_steps: int = 30, **settings: Any) -> Finished:
    """A run of news with `faults` as its `appium:simFaults`, executed in a thread that must end in time."""
    caps = {"appium:simFaults": faults} if faults else {}
    run = h.runs.request_run(RunRequest(apk_path=sample_app("news"), appium_server_url=h.appium_server,
                                        package_name=NEWS[0], app_activity=NEWS[1], max_steps=max_steps,
                                        capabilities=caps))
    run_id = str(ULID.from_uuid(run.id))
    h.runs.start_run(run_id, WORKER, 600)
    worker = Settings(database_url=h.database_url, **settings).worker_settings()
    agent = AgentRun(h.runs, h.artifacts, worker, run_id, dict(SIMULATOR_CAPS), worker_id=WORKER)
    thread = threading.Thread(target=agent.execute, daemon=True)
    thread.start()
    thread.join(RUN_DEADLINE_SECONDS)
    assert not thread.is_alive(), "the run hangs"
    return h.finished(run_id)


def assert_ended_without_gaps(finished: Finished) -> None:
    terminal = finished.terminal
    assert terminal.name in ("run.completed", "run.failed"), terminal
    if terminal.name == "run.failed":
        assert terminal.data["stopReason"] == "device_unavailable", terminal.data
    perceive = [c.step for c in finished.calls() if c.name == "Perceive"]
    assert perceive == list(range(1, len(perceive) + 1)), perceive  # no step lost, none twice
    if terminal.name == "run.completed":
        assert finished.metrics["steps"] == perceive[-1]


def test_news_without_faults_waits_for_the_splash_and_the_feed(h: Any) -> None:
    finished = run_news(h, None, **EXPLORING_ONLY)

    assert_ended_without_gaps(finished)
    activities = set(finished.discovered().values())
    assert ".SplashActivity" not in activities  # loading: waited for, never a screen to explore
    assert {".HomeActivity", ".FeedActivity", ".ArticleActivity"} <= activities
    feeds = [sid for sid, act in finished.discovered().items() if act == ".FeedActivity"]
    assert len(feeds) == 1  # the loaded feed only, not its spinner
    assert finished.metrics["waitSeconds"] > 1.0 and finished.metrics["recoveries"] == 0


def test_a_server_that_dies_in_every_setup_ends_the_run_device_unavailable(h: Any) -> None:
    finished = run_news(h, {"serverCrashAfter": 6}, max_steps=25)  # fewer commands than a launch takes

    assert_ended_without_gaps(finished)
    assert finished.terminal.name == "run.failed"
    assert [c.name for c in finished.calls()].count("EnsureDevice") == 3
    assert "Instrumentation process is not running" in finished.terminal.data["error"]


@pytest.mark.parametrize("crash_after", [45, 80, 140])
def test_a_server_that_dies_is_recovered_from_and_the_steps_go_on(h: Any, crash_after: int) -> None:
    finished = run_news(h, {"serverCrashAfter": crash_after}, max_steps=25, **EXPLORING_ONLY)

    assert_ended_without_gaps(finished)
    recovered = finished.named("agent.device.recovered")
    assert recovered and {r["cause"] for r in recovered} == {"server_crashed"}
    lost_in = {c.step: c.name for c in finished.calls() if c.outcome == "FAILURE" and c.name != "Stop"}
    assert {r["stepOrdinal"] for r in recovered if r["stepOrdinal"] <= 25} <= set(lost_in)
    if finished.terminal.name == "run.completed":
        assert finished.metrics["recoveries"] == len([r for r in recovered if r["stepOrdinal"] <= 25])
        assert len(finished.discovered()) >= 3  # it went on exploring after each new session


def test_a_server_that_dies_while_reproducing_the_anr_is_replaced_for_the_next_replay(h: Any) -> None:
    # A replay of the 6 s ANR polls for its dialog (hundreds of commands): two of them cannot fit in 400
    # commands, so a session dies while reproducing, whenever the last one began.
    finished = run_news(h, {"serverCrashAfter": 400}, max_steps=40)

    assert_ended_without_gaps(finished)
    anr = [f for f in finished.named("agent.finding.detected") if f["kind"] == "anr"]
    assert [f["actionId"] for f in anr] == ["tap:id/download_all"]
    (reproduced,) = finished.named("agent.finding.reproduced")
    assert reproduced["attempts"] == 2
    steps = finished.metrics["steps"]
    assert [r for r in finished.named("agent.device.recovered") if r["stepOrdinal"] > steps]  # while replaying


def test_slow_page_sources_are_capped_by_the_idle_timeout_set_at_session_start(h: Any) -> None:
    # 8 s per third read unless waitForIdleTimeout (500 ms) caps it; the client's timeout is 5 s.
    finished = run_news(h, {"slowSource": {"every": 3, "ms": 8000}}, max_steps=15, appium_timeout_seconds=5.0,
                        **EXPLORING_ONLY)

    assert_ended_without_gaps(finished)
    assert finished.terminal.name == "run.completed"
    assert finished.metrics["recoveries"] == 0  # no read ran into the client's timeout


def test_a_hung_session_times_out_and_counts_as_lost(h: Any) -> None:
    finished = run_news(h, {"hangAfter": 60}, max_steps=15, appium_timeout_seconds=2.0, **EXPLORING_ONLY)

    assert_ended_without_gaps(finished)
    recovered = finished.named("agent.device.recovered")
    assert recovered and recovered[0]["cause"] == "timeout"
