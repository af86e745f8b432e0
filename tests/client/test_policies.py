"""Policies through the client: the policy a run is started with is sent (or left to the service's default),
shown on the run, its events and the runs table; a run's events so far without waiting for its end; and
what its calls to a language model add up to."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from runservice_client import AsyncRunClient, RunClient, RunEvent, llm_usage
from tests.client.conftest import run_spec
from tests.client.servers import Handler, scripted_server
from tests.client.test_retries import RUN, SPEC, STARTED, event
from tests.fixtures.service import PLUGIN_POLICY, wait_for


def recording_bodies(bodies: list[dict[str, Any]]) -> Any:
    def respond(handler: Handler, count: int) -> None:
        bodies.append(json.loads(handler.body))
        handler.send_json(201, STARTED)
    return respond


def test_both_clients_send_the_policy_asked_for_and_leave_the_default_to_the_service():
    async def start_async(url: str) -> None:
        async with AsyncRunClient(url) as client:
            await client.start(**SPEC, policy="first")

    bodies: list[dict[str, Any]] = []
    with scripted_server(recording_bodies(bodies)) as (url, _):
        with RunClient(url) as client:
            client.start(**SPEC, policy="llm")
            client.start(**SPEC)
            client.start_many([{**SPEC, "policy": "random"}])
        asyncio.run(start_async(url))

    assert [body.get("policy") for body in bodies] == ["llm", None, "random", "first"]
    assert "policy" not in bodies[1]  # not sent at all: the service's default (dfs) applies
    assert {body["packageName"] for body in bodies} == {SPEC["package_name"]}  # the rest of the body as before


def running_with_three_events(handler: Handler, count: int) -> None:
    """A live run: three events so far, then its stream only keeps alive, as the service's does."""
    if handler.path.startswith(f"/run/{RUN}/stream"):
        after = int(handler.headers["Last-Event-ID"])
        so_far = [event(1, "run.queued"), event(2, "run.started"), event(3)][after:]
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.end_headers()
        try:
            handler.wfile.write("".join(f"id: {seq}\nevent: {name}\ndata: {json.dumps(data)}\n\n"
                                        for seq, name, data in so_far).encode())
            while True:  # until the client hangs up
                handler.wfile.write(b": keep-alive\n\n")
                handler.wfile.flush()
                time.sleep(0.2)  # the keep-alive interval of this server
        except OSError:
            handler.close_connection = True
    else:
        handler.send_json(200, {"runId": RUN, "status": "running", "lastEventSeq": 3})


def test_history_answers_a_live_runs_events_so_far_without_waiting_for_its_end():
    async def seqs_async(url: str) -> list[int]:
        async with AsyncRunClient(url) as client:
            return [e.seq for e in await client.history(RUN)]

    with scripted_server(running_with_three_events) as (url, _):
        with RunClient(url, timeout=5) as client:
            assert [e.seq for e in client.history(RUN)] == [1, 2, 3]
            assert client.llm_usage(RUN)["calls"] == 0
        assert asyncio.run(seqs_async(url)) == [1, 2, 3]


def llm_called(seq: int, purpose: str, outcome: str = "chosen", reason: str | None = None, cached: bool = False,
               tokens: tuple[int, int] = (0, 0), latency_ms: float = 0.0) -> RunEvent:
    return RunEvent(seq, "agent.llm.called", {
        "runId": RUN, "seq": seq, "stepOrdinal": 1, "purpose": purpose, "model": "gemma" if not cached else "",
        "promptTokens": tokens[0], "completionTokens": tokens[1], "latencyMs": latency_ms, "cached": cached,
        "outcome": outcome, "reason": reason, "actionId": "a1", "goalReached": None})


def test_llm_usage_counts_requests_tokens_and_fallbacks_by_reason():
    events = [
        RunEvent(1, "run.queued", {"policy": "llm"}),
        llm_called(2, "rank", tokens=(120, 6), latency_ms=1000.0),
        llm_called(3, "choose", "fallback", "timeout", tokens=(0, 0), latency_ms=6000.0),
        llm_called(4, "rank", cached=True),  # no request sent
        llm_called(5, "goal", "fallback", "invalid_answer", latency_ms=20.0),
        llm_called(6, "choose", "fallback", "budget"),  # the budget was spent: no request sent either
        llm_called(7, "choose", "fallback", "timeout", latency_ms=6000.0),
        RunEvent(8, "run.completed", {"metrics": {"llmCalls": 4}}),
    ]

    assert llm_usage(events) == {
        "calls": 6, "requests": 4, "cached": 1, "chosen": 2,
        "fallbacks": {"budget": 1, "invalid_answer": 1, "timeout": 2},
        "promptTokens": 120, "completionTokens": 6, "meanLatencyMs": round(13020 / 4),
        "purposes": {"choose": 3, "goal": 1, "rank": 2}, "models": ["gemma"],
    }
    assert llm_usage(events[:1])["calls"] == 0 and llm_usage([])["meanLatencyMs"] is None


def listed_row(client: RunClient, run_id: str) -> dict[str, Any]:
    """The run's row of the runs table, once the projection (a moment behind the events) has it."""
    return wait_for(lambda: next((row for row in client.runs(limit=50) if row["run_id"] == run_id), None), 30,
                    f"{run_id} in the runs table")


def test_a_run_started_with_a_policy_shows_it_on_the_run_its_events_and_the_runs_table(client, appium_server):
    chosen = client.start(**run_spec(appium_server, "settings", max_steps=2), policy="random")
    default = client.start(**run_spec(appium_server, "settings", max_steps=1))

    finished = client.wait(chosen.id, progress=False)
    assert finished.status == "completed" and finished.policy == "random"
    assert client.get(chosen.id).policy == "random" and "policy <b>random</b>" in finished._repr_html_()
    queued = next(iter(client.events(chosen.id)))
    assert (queued.name, queued.data["policy"]) == ("run.queued", "random")
    assert client.wait(default.id, progress=False).policy == "dfs"  # none asked: the service's default
    assert listed_row(client, chosen.id)["policy"] == "random"
    assert listed_row(client, default.id)["policy"] == "dfs"
    assert client.llm_usage(chosen.id)["calls"] == 0  # random asks no model


def test_the_async_client_starts_a_plugin_policy_and_reads_its_history(service, appium_server):
    async def scenario() -> tuple[Any, list[RunEvent], list[RunEvent], dict[str, Any]]:
        async with AsyncRunClient(service.api_url) as client:
            run = await client.start(**run_spec(appium_server, "settings", max_steps=3), policy=PLUGIN_POLICY)
            finished = await client.wait(run.id, progress=False)
            followed = [e async for e in client.events(run.id)]
            return finished, followed, await client.history(run.id), await client.llm_usage(run.id)

    finished, followed, history, usage = asyncio.run(scenario())
    assert (finished.status, finished.policy, finished.metrics["steps"]) == ("completed", PLUGIN_POLICY, 3)
    assert history == followed and history[-1].name == "run.completed"  # an ended run: its whole history
    assert usage["calls"] == 0 and usage["requests"] == 0


def test_history_of_a_live_run_on_the_service_returns_while_it_goes_on(client, appium_server):
    # The biggest sample app, with a budget it does not reach in the time this takes.
    run = client.start(**run_spec(appium_server, "settings", max_steps=500))
    try:
        for seen in client.events(run.id):
            if seen.seq >= 5:
                break
        history = client.history(run.id)
        assert [e.seq for e in history] == list(range(1, len(history) + 1)) and len(history) >= 5
        assert not any(e.is_terminal for e in history)  # answered before the end: nothing waited for it
    finally:
        client.cancel(run.id)
    assert client.wait(run.id, progress=False).status == "canceled"
