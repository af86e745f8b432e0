"""Faults injected for real into the running service: nothing accepted is lost or done twice."""

from __future__ import annotations

import time

import ray

from tests.fixtures.service import read_stream, start_body

TERMINAL = {"run.completed", "run.failed", "run.canceled"}


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


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
    resumed_steps = [s for s in node_steps(events[second_start:]) if s > 0]  # after the new setup (step 0)
    assert resumed_steps and min(resumed_steps) > max(first_steps)  # the step count goes on


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
    api.post(f"/run/{run_id}/cancel")
    assert read_stream(api, run_id)[-1]["event"] == "run.canceled"


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
    for run_id in accepted:
        events = read_stream(api, run_id)
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        assert sum(e["event"] in TERMINAL for e in events) == 1
        assert events[-1]["event"] == "run.completed", events[-1]
