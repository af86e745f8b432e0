"""Faults injected for real into the running service: nothing accepted is lost or done twice."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import httpx
import ray
from ulid import ULID

from tests.fixtures.service import read_stream, start_body, wait_for

TERMINAL = {"run.completed", "run.failed", "run.canceled"}


def worker_running(service, run_id: str):
    for worker in service.workers:
        if ray.get(worker.status.remote())["currentRun"] == run_id:
            return worker
    return None


def test_a_run_whose_device_actor_dies_is_taken_over_and_finishes_once(api, service, appium_server):
    run_id = api.post("/run", json=start_body(appium_server, app="shop", maxSteps=40)).json()["runId"]
    worker = wait_for(lambda: worker_running(service, run_id), 30, "a worker to run it")
    wait_for(lambda: api.get(f"/run/{run_id}").json()["lastEventSeq"] > 20, 30, "some steps")

    ray.kill(worker, no_restart=False)  # the process dies mid-run; Ray starts a new incarnation

    events = read_stream(api, run_id)
    starts = [e["data"] for e in events if e["event"] == "run.started"]
    assert [s["attempt"] for s in starts] == [1, 2] and starts[0]["workerId"] != starts[1]["workerId"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert sum(e["event"] in TERMINAL for e in events) == 1 and events[-1]["event"] == "run.completed"
    second_start = next(i for i, e in enumerate(events) if e["event"] == "run.started" and e["data"]["attempt"] == 2)
    first_steps = node_steps(events[:second_start])
    resumed_steps = node_steps(events[second_start:])  # setup again at the step it stopped at, then on
    assert resumed_steps and min(resumed_steps) == max(first_steps) < max(resumed_steps)  # the step count goes on
    assert resumed_steps == sorted(resumed_steps)


def node_steps(events: list[dict]) -> list[int]:
    return [e["data"]["stepOrdinal"] for e in events if e["event"] == "agent.node.started"]


def test_runs_table_shows_the_live_lease_of_a_running_run(api, service, appium_server):
    run_id = api.post("/run", json=start_body(appium_server, app="shop", maxSteps=60)).json()["runId"]
    row = wait_for(lambda: next((r for r in api.get("/runs", params={"status": "running"}).json()["runs"]
                                 if r["run_id"] == run_id), None), 30, "the run to show as running")
    first_heartbeat = row["heartbeat_at"]
    assert row["processing_by"].startswith("device-") and row["lease_expires_at"] > row["heartbeat_at"]
    later = wait_for(lambda: next((r for r in api.get("/runs").json()["runs"] if r["run_id"] == run_id
                                   and r["heartbeat_at"] > first_heartbeat), None), 30, "a newer heartbeat")
    assert later["processing_by"] == row["processing_by"]
    api.post(f"/run/{run_id}/cancel")  # if it has not ended by itself meanwhile
    assert read_stream(api, run_id)[-1]["event"] in TERMINAL


def test_postgres_restart_answers_503_then_recovers_without_losing_or_duplicating(api, service, appium_server,
                                                                                  embedded_postgres):
    assert embedded_postgres is not None, "this test restarts the embedded PostgreSQL: run it without DATABASE_URL"
    accepted = [api.post("/run", json=start_body(appium_server, maxSteps=8)).json()["runId"] for _ in range(4)]
    wait_for(lambda: any(worker_running(service, r) for r in accepted), 30, "a run to be running")

    embedded_postgres.stop(mode="fast")
    try:
        started = time.monotonic()
        health = api.get("/health")
        assert health.status_code == 503 and health.json()["database"] == "disconnected"
        refused = api.post("/run", json=start_body(appium_server))
        assert refused.status_code == 503 and refused.json()["code"] == "unavailable"
        assert "Traceback" not in refused.text and time.monotonic() - started < 30
    finally:
        embedded_postgres.start()

    wait_for(lambda: api.get("/health").status_code == 200, 30, "/health to recover")
    accepted.append(api.post("/run", json=start_body(appium_server, maxSteps=2)).json()["runId"])
    # every reader reconnects too: the views' and the artifacts' connection pools
    assert api.get("/runs").status_code == 200 and api.get(f"/run/{accepted[0]}/graph").status_code == 200
    for run_id in accepted:
        events = read_stream(api, run_id)
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        assert sum(e["event"] in TERMINAL for e in events) == 1
        assert events[-1]["event"] == "run.completed", events[-1]


def run_all(api, appium_server, count: int, **fields) -> list[str]:
    return [api.post("/run", json=start_body(appium_server, **fields)).json()["runId"] for _ in range(count)]


def assert_each_ran_once(api, run_ids: list[str]) -> None:
    for run_id in run_ids:
        events = read_stream(api, run_id)
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        assert [e["event"] for e in events].count("run.started") == 1, run_id
        assert sum(e["event"] in TERMINAL for e in events) == 1 and events[-1]["event"] == "run.completed"


def test_the_queue_actor_dies_and_no_job_is_lost(api, service, appium_server):
    run_ids = run_all(api, appium_server, 7, maxSteps=6)  # more runs than devices: some wait in the queue
    wait_for(lambda: any(worker_running(service, r) for r in run_ids), 30, "a run to be running")

    ray.kill(service.queue, no_restart=False)  # Ray restarts it; it rebuilds from PostgreSQL

    assert_each_ran_once(api, run_ids)


def test_the_projections_die_with_the_queue_actor_and_each_event_is_applied_once(api, service, appium_server):
    run_ids = run_all(api, appium_server, 3, app="shop", maxSteps=8)
    ray.kill(service.queue, no_restart=False)  # the process that hosts the projections
    run_ids += run_all(api, appium_server, 2, app="shop", maxSteps=8)  # requested while it restarts

    assert_each_ran_once(api, run_ids)
    for run_id in run_ids:
        screens = sum(e["event"] == "graph.screen.discovered" for e in read_stream(api, run_id))
        row = wait_for(lambda: next((r for r in api.get("/runs", params={"status": "completed"}).json()["runs"]
                                     if r["run_id"] == run_id), None), 30, "the runs row")
        assert row["screens_discovered"] == screens and row["stop_reason"] == "max_steps"


def test_a_duplicate_job_does_not_run_a_run_twice(api, service, appium_server):
    done = run_all(api, appium_server, 1, maxSteps=3)[0]
    assert read_stream(api, done)[-1]["event"] == "run.completed"
    running = run_all(api, appium_server, 1, app="shop", maxSteps=300)[0]
    wait_for(lambda: worker_running(service, running), 30, "the second run to be running")

    unknown = str(ULID())  # a job naming no run at all must not stop the worker that takes it
    ray.get([service.queue.put.remote(done), service.queue.put.remote(running), service.queue.put.remote(unknown)])
    wait_for(lambda: ray.get(service.queue.stats.remote())["pending"] == 0, 30, "the duplicates to be taken")
    api.post(f"/run/{running}/cancel")

    assert_each_ran_once(api, [done])
    events = read_stream(api, running)
    assert [e["event"] for e in events].count("run.started") == 1 and events[-1]["event"] == "run.canceled"
    assert all(ray.get(w.status.remote())["pulling"] for w in service.workers)  # every device still takes jobs
    assert_each_ran_once(api, run_all(api, appium_server, len(service.workers), maxSteps=2))


HTTP_STREAMS = 300  # held at once over HTTP while the run lives; the hub's own test holds a thousand


def test_open_streams_that_disconnect_cost_nothing_lasting(api, appium_server):
    run_id = run_all(api, appium_server, 1, app="settings", maxSteps=1000)[0]  # the longest sample run
    baseline = api.get("/streams").json()["open"]

    async def hold_open(count: int) -> int:
        limits = httpx.Limits(max_connections=count + 10)
        async with httpx.AsyncClient(base_url=str(api.base_url), limits=limits, timeout=120) as client:
            async with AsyncExitStack() as streams:
                # after=a far position: the streams stay open on the live run but quiet on the wire,
                # so this measures holding them, not pushing the run's events to every client
                opened = await asyncio.gather(*(streams.enter_async_context(
                    client.stream("GET", f"/run/{run_id}/stream", params={"after": 10**6})) for _ in range(count)))
                assert all(response.status_code == 200 for response in opened)
                deadline = time.monotonic() + 30  # each registers as its body starts, just after the headers
                while (held := (await client.get("/streams")).json()["open"] - baseline) < count:
                    assert time.monotonic() < deadline, f"only {held} streams registered"
                    await asyncio.sleep(0.05)
                return held

    assert asyncio.run(hold_open(HTTP_STREAMS)) == HTTP_STREAMS  # all open at once, then every client leaves
    wait_for(lambda: api.get("/streams").json()["open"] == baseline, 60, "the streams to be gone")
    api.post(f"/run/{run_id}/cancel")  # if it has not ended by itself meanwhile
    assert read_stream(api, run_id)[-1]["event"] in TERMINAL
