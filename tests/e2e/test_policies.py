"""Policies over HTTP: a run names its policy, which the run and the runs table show; an unknown
one is a 400 that lists the installed ones; a plug-in installed before the service started
explores; and the llm policy asks the real local model (tests/fixtures/llm.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.service import PLUGIN_POLICY, read_stream, start, start_body, wait_for

LOGIN = {"username": "alice", "password": "secret"}
LLM_FIELDS = {"runId", "seq", "ts", "stepOrdinal", "purpose", "model", "promptTokens", "completionTokens",
              "latencyMs", "cached", "outcome", "reason", "actionId", "goalReached"}


def of_kind(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["event"] == name]


def listed(api: httpx.Client, run_id: str) -> dict[str, Any]:
    """The run's row in GET /runs, once the runs projection has it (it is eventually consistent)."""
    return wait_for(lambda: next((r for r in api.get("/runs", params={"limit": 50}).json()["runs"]
                                  if r["run_id"] == run_id), None), 10, f"{run_id} in GET /runs")


@pytest.mark.parametrize("policy", ["greedy", "DFS", "dfs "])
def test_an_unknown_policy_is_a_400_that_lists_the_installed_ones(api, appium_server, policy):
    answer = api.post("/run", json=start_body(appium_server, policy=policy))

    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["code"] == "invalid_argument" and "policy" in error["message"]
    problem = next(p["problem"] for p in error["details"] if p["field"] == "policy")
    for name in ("dfs", "random", "llm", PLUGIN_POLICY):
        assert name in problem


def test_a_policy_refused_with_another_bad_field_is_named_with_it(api, appium_server):
    answer = api.post("/run", json=start_body(appium_server, policy="greedy", maxSteps=0))

    assert answer.status_code == 400
    assert {p["field"] for p in answer.json()["details"]} == {"policy", "maxSteps"}


def test_a_run_without_a_policy_crawls_depth_first_and_says_so(api, appium_server):
    run_id = start(api, start_body(appium_server, maxSteps=1))

    assert api.get(f"/run/{run_id}").json()["policy"] == "dfs"
    assert listed(api, run_id)["policy"] == "dfs"
    assert of_kind(read_stream(api, run_id), "run.queued")[0]["policy"] == "dfs"


def test_a_plugin_policy_chooses_every_action_of_its_run(api, appium_server):
    run_id = start(api, start_body(appium_server, app="settings", policy=PLUGIN_POLICY, maxSteps=4))
    events = read_stream(api, run_id)

    assert events[-1]["event"] == "run.completed", events[-1]
    offered = [d["detail"]["actionIds"] for d in of_kind(events, "agent.node.finished")
               if d["nodeName"] == "EnumerateActions"]
    taken = [d["action"]["action_id"] for d in of_kind(events, "agent.action.performed")]
    assert len(taken) == 4 and taken == [ids[0] for ids in offered]  # the plug-in's rule: the first action
    assert api.get(f"/run/{run_id}").json()["policy"] == PLUGIN_POLICY
    assert listed(api, run_id)["policy"] == PLUGIN_POLICY


def test_a_plugin_policy_can_say_that_a_screen_reaches_the_goal(api, appium_server):
    """The goal names the first screen's activity, which no text on it shows: only the plug-in knows."""
    body = start_body(appium_server, policy=PLUGIN_POLICY, goal="activity:.ConsentActivity", maxSteps=5)
    events = read_stream(api, start(api, body))

    assert (events[-1]["event"], events[-1]["data"]["stopReason"]) == ("run.completed", "goal_reached")
    assert events[-1]["data"]["metrics"]["steps"] == 1


def test_an_llm_run_asks_the_real_model_and_counts_its_tokens(api, appium_server, llm_proxy):
    run_id = start(api, start_body(appium_server, policy="llm", inputs=LOGIN, maxSteps=6))
    events = read_stream(api, run_id)

    assert events[-1]["event"] == "run.completed", events[-1]
    calls = of_kind(events, "agent.llm.called")
    assert calls and all(set(call) == LLM_FIELDS for call in calls)
    sent = [call for call in calls if not call["cached"]]
    assert any(call["outcome"] == "chosen" and call["promptTokens"] > 0 for call in sent), calls
    metrics = events[-1]["data"]["metrics"]
    assert metrics["llmCalls"] == len(sent)
    assert metrics["promptTokens"] == sum(call["promptTokens"] for call in calls) > 0
    assert metrics["completionTokens"] == sum(call["completionTokens"] for call in calls) > 0
    taken = {d["stepOrdinal"]: d["action"]["action_id"] for d in of_kind(events, "agent.action.performed")}
    assert all(call["actionId"] == taken[call["stepOrdinal"]] for call in calls if call["purpose"] != "goal")
    assert api.get(f"/run/{run_id}").json()["policy"] == "llm"
