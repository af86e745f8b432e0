"""The llm policy in the agent, run directly (no Ray) against the real local model behind a proxy
that a test pauses, cuts or turns into an HTML server: every fault falls back to the depth-first
choice with its reason, and the run goes on. The real Appium simulator and PostgreSQL, as in
test_agent.py."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from agent.agent_run import AgentRun
from config.settings import Settings
from domain.application import RunService
from storage.artifacts import ArtifactStore
from tests.fixtures.appium import sample_app
from tests.integration.test_agent import LOGIN, NOTES, SIMULATOR_CAPS, WORKER, Finished, Harness

SETTINGS_APP = ("com.example.settings", ".SettingsActivity")
TIMEOUT_SECONDS = 2.0  # a paused model costs this much per call
# A real answer takes 1-3 s (up to ~95 generated tokens: llm_questions.WHITESPACE_TOKENS), more on a busy machine.
ANSWER_SECONDS = 30.0


@pytest.fixture
def h(pg_env: dict[str, str], database_url: str, appium_server: str) -> Any:
    harness = Harness(RunService(env=pg_env), ArtifactStore(database_url), database_url, pg_env, appium_server)
    yield harness
    harness.artifacts.close()
    harness.runs.close()


def agent(h: Harness, run_id: str, llm_url: str, policy: str = "llm", **settings: Any) -> AgentRun:
    worker_settings = Settings(database_url=h.database_url, llm_base_url=llm_url,
                               llm_timeout_seconds=settings.pop("timeout", ANSWER_SECONDS), **settings
                               ).worker_settings()
    return AgentRun(h.runs, h.artifacts, worker_settings, run_id, dict(SIMULATOR_CAPS), worker_id=WORKER,
                    policy=policy)


def explore(h: Harness, llm_url: str, app: tuple[str, str] = SETTINGS_APP, policy: str = "llm",
            max_steps: int = 4, goal: str | None = None, **settings: Any) -> Finished:
    apk = sample_app("notes" if app == NOTES else "settings")
    run_id = h.request(apk, app, max_steps=max_steps, goal=goal, inputs=LOGIN if app == NOTES else None)
    agent(h, run_id, llm_url, policy, **settings).execute()
    return h.finished(run_id)


def llm_calls(finished: Finished) -> list[dict[str, Any]]:
    return finished.named("agent.llm.called")


def assert_fell_back_as_dfs(h: Harness, llm_url: str, finished: Finished, reason: str) -> None:
    calls = llm_calls(finished)
    assert calls and {(c["outcome"], c["reason"]) for c in calls} == {("fallback", reason)}, calls
    assert finished.terminal.name == "run.completed", finished.terminal
    assert finished.metrics["promptTokens"] == 0
    dfs = explore(h, llm_url, policy="dfs")
    assert finished.actions() == dfs.actions()  # every choice was the depth-first one


def test_the_model_ranks_and_chooses_for_real(h, llm_proxy):
    finished = explore(h, llm_proxy.url, app=NOTES, max_steps=6)

    calls = llm_calls(finished)
    sent = [c for c in calls if not c["cached"]]
    assert {c["purpose"] for c in calls} <= {"rank", "choose"} and "rank" in {c["purpose"] for c in calls}
    assert any(c["outcome"] == "chosen" for c in sent), calls
    assert all(c["promptTokens"] > 0 and c["latencyMs"] > 0 and c["model"] for c in sent)
    assert finished.metrics["llmCalls"] == len(sent)
    assert finished.metrics["completionTokens"] == sum(c["completionTokens"] for c in calls) > 0


def test_a_model_that_answers_too_slowly_falls_back_on_timeout(h, llm_proxy):
    with llm_proxy.paused():
        finished = explore(h, llm_proxy.url, timeout=TIMEOUT_SECONDS)

    assert_fell_back_as_dfs(h, llm_proxy.url, finished, "timeout")
    assert all(c["latencyMs"] >= TIMEOUT_SECONDS * 1000 for c in llm_calls(finished))


def test_a_model_server_that_is_gone_falls_back_on_http_error(h, llm_proxy):
    with llm_proxy.cut():
        finished = explore(h, llm_proxy.url)

    assert_fell_back_as_dfs(h, llm_proxy.url, finished, "http_error")


def test_a_server_answering_html_falls_back_on_invalid_answer(h, llm_proxy):
    with llm_proxy.html():
        finished = explore(h, llm_proxy.url)

    assert_fell_back_as_dfs(h, llm_proxy.url, finished, "invalid_answer")


def test_the_model_server_stopping_mid_run_does_not_stop_the_run(h, llm_proxy):
    run_id = h.request(sample_app("notes"), NOTES, max_steps=8, inputs=LOGIN)
    run = threading.Thread(target=agent(h, run_id, llm_proxy.url).execute)
    with llm_proxy.cut_when(lambda: any(e.name == "agent.llm.called" for e in h.runs.run_events(run_id))):
        run.start()
        run.join(timeout=120)
    assert not run.is_alive()

    finished = h.finished(run_id)
    reasons = [c["reason"] for c in llm_calls(finished) if not c["cached"]]
    assert finished.terminal.name == "run.completed", finished.terminal
    assert reasons[0] is None and "http_error" in reasons, reasons  # answered, then gone


def test_a_spent_budget_sends_no_more_requests(h, llm_proxy):
    finished = explore(h, llm_proxy.url, app=NOTES, max_steps=6, llm_max_calls_per_run=1)

    sent = [c for c in llm_calls(finished) if c["reason"] != "budget"]
    budget = [c for c in llm_calls(finished) if c["reason"] == "budget"]
    assert len([c for c in sent if not c["cached"]]) == 1 and budget, llm_calls(finished)
    assert all(c["promptTokens"] == 0 and c["outcome"] == "fallback" for c in budget)
    assert finished.metrics["llmCalls"] == 1


def test_with_a_goal_the_model_judges_each_new_screen(h, llm_proxy):
    finished = explore(h, llm_proxy.url, goal="Find where to change the wallpaper", max_steps=3)

    goals = [c for c in llm_calls(finished) if c["purpose"] == "goal"]
    screens = finished.named("graph.screen.discovered")
    assert len(goals) == len(screens) or finished.run.stop_reason == "goal_reached", (goals, screens)
    assert all(c["actionId"] is None for c in goals)
    answered = [c for c in goals if c["outcome"] == "chosen"]
    assert answered and all(isinstance(c["goalReached"], bool) for c in answered), goals
