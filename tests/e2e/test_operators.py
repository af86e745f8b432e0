"""What an operator sees: the service's metrics on a Ray node's Prometheus endpoint, and devices
that no node offers reported while the service serves."""

from __future__ import annotations

import re
import urllib.request

import ray
from ray import serve

import bootstrap
from serve_app import build_app
from tests.fixtures.service import read_stream, start_body, wait_for

SERIES = re.compile(r'^(?P<name>ray_runservice_\w+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$')


def metrics_text() -> str:
    """Every node's Prometheus export: the metrics agent's port that ray.nodes() names."""
    texts = []
    for node in ray.nodes():
        if node["Alive"]:
            url = f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
            with urllib.request.urlopen(url, timeout=10) as response:
                texts.append(response.read().decode())
    return "\n".join(texts)


def series(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        if match := SERIES.match(line):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
            found.setdefault(match["name"], []).append((labels, float(match["value"])))
    return found


def total(found: dict, name: str, **labels: str) -> float:
    return sum(value for tags, value in found.get(name, []) if all(tags.get(k) == v for k, v in labels.items()))


def test_runs_show_in_the_metrics_a_node_exports(api, service, appium_server):
    run_id = api.post("/run", json=start_body(appium_server, maxSteps=3)).json()["runId"]
    events = read_stream(api, run_id)  # a stream was open meanwhile
    assert (events[-1]["event"], events[-1]["data"]["stopReason"]) == ("run.completed", "max_steps")
    udid = next(e["data"]["workerId"] for e in events if e["event"] == "run.started").split("/")[0].removeprefix("device-")

    def exported():
        found = series(metrics_text())
        ready = (total(found, "ray_runservice_runs_finished_total", status="completed", stop_reason="max_steps") >= 1
                 and total(found, "ray_runservice_steps_total", device=udid) >= 2
                 and "ray_runservice_streams_open" in found)
        return found if ready else None

    found = wait_for(exported, 90, "the run's figures on the metrics endpoint")
    assert total(found, "ray_runservice_runs_started_total") >= 1
    for histogram in ("step_seconds", "step_agent_seconds", "appium_seconds", "event_append_seconds"):
        assert total(found, f"ray_runservice_{histogram}_count") > 0, histogram
        assert total(found, f"ray_runservice_{histogram}_sum") > 0, histogram
    assert "ray_runservice_queue_depth" in found and "ray_runservice_devices_busy" in found


def test_devices_show_their_udid_run_and_step(api, service, appium_server):
    run_id = api.post("/run", json=start_body(appium_server, app="shop", maxSteps=30)).json()["runId"]

    def holder():
        statuses = [ray.get(w.status.remote()) for w in service.workers]
        return next((s for s in statuses if s["currentRun"] == run_id and s["step"]), None)

    status = wait_for(holder, 60, "a device to hold the run at some step")
    assert status["udid"] in service.settings.udids and status["deviceId"] == f"device-{status['udid']}"
    api.post(f"/run/{run_id}/cancel")
    read_stream(api, run_id)


def test_a_device_no_node_offers_waits_and_is_reported_while_the_service_serves(api, service, appium_server):
    ghost = {"appium:automationName": "Simulator", "appium:udid": "ghost-1"}
    started = bootstrap.start_actors(service.settings, device_caps=[ghost])  # returns: nothing waits for it
    pending = started.workers[0].status.remote()
    ready, _ = ray.wait([pending], timeout=3)
    assert ready == []  # no node declares device_ghost-1: the actor waits to be placed

    settings = service.settings.model_copy(update={"device_udids": "sim-0,ghost-1"})
    serve.run(build_app(settings), name="ghostly", route_prefix="/ghostly")
    health = api.get("/ghostly/health")
    assert health.status_code == 200
    assert health.json()["details"] == {"devices": 2, "placed": 1, "waiting": ["ghost-1"]}
    run_id = api.post("/run", json=start_body(appium_server, maxSteps=2)).json()["runId"]
    assert read_stream(api, run_id)[-1]["event"] == "run.completed"
    ray.kill(started.workers[0], no_restart=True)
    serve.delete("ghostly")
