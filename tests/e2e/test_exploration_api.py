"""Exploration seen over HTTP: a run with a goal reaches it, the screenshots its events name are
served as artifacts, and run.completed carries the run's metrics."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from ulid import ULID

from domain.projections import AFTER_EXPLORING
from tests.fixtures.service import read_stream, start_body

LOGIN = {"username": "alice", "password": "secret"}
GOAL = 'Open the "Apache License 2.0" page'  # shown only on the licenses screen, behind the login
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METRICS = {"steps", "screensDiscovered", "transitions", "restarts", "durationMs"}


def of_kind(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["event"] == name]


def run_to_the_end(client: httpx.Client, body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    started = client.post("/run", json=body)
    assert started.status_code == 201, started.text
    run_id = started.json()["runId"]
    return run_id, read_stream(client, run_id)


@pytest.fixture(scope="module")
def goal_run(service: Any, appium_server: str) -> tuple[str, list[dict[str, Any]]]:
    """One notes run with the login inputs and a goal deep in the app, to its end."""
    with httpx.Client(base_url=service.api_url, timeout=30) as client:
        return run_to_the_end(client, start_body(appium_server, goal=GOAL, inputs=LOGIN, maxSteps=60))


def test_a_run_with_a_goal_stops_when_a_screen_shows_it(api, goal_run):
    run_id, events = goal_run

    assert [e["event"] for e in events][-1] == "run.completed"
    assert events[-1]["data"]["stopReason"] == "goal_reached"
    last_seen = of_kind(events, "agent.screen.perceived")[-1]
    assert last_seen["activity"] == ".LicensesActivity"
    assert ".HomeActivity" in {d["activity"] for d in of_kind(events, "graph.screen.discovered")}  # logged in
    run = api.get(f"/run/{run_id}")
    assert run.status_code == 200 and (run.json()["status"], run.json()["stopReason"]) == ("completed", "goal_reached")
    assert run.json()["goal"] == GOAL
    page = api.get(f"/run/{run_id}/artifacts/{last_seen['artifacts']['pageSource']}")
    assert page.status_code == 200 and "Apache License 2.0" in page.text  # the goal's text, on that screen


def test_the_screenshots_that_events_name_are_served_as_png(api, goal_run):
    run_id, events = goal_run
    perceived = of_kind(events, "agent.screen.perceived")

    for seen in (perceived[0], perceived[-1]):
        shot = api.get(f"/run/{run_id}/artifacts/{seen['artifacts']['screenshot']}")
        assert shot.status_code == 200, shot.text
        assert shot.headers["content-type"] == "image/png"
        assert shot.content.startswith(PNG_SIGNATURE) and len(shot.content) > 100
        source = api.get(f"/run/{run_id}/artifacts/{seen['artifacts']['pageSource']}")
        assert source.status_code == 200 and source.headers["content-type"].startswith("application/xml")
        assert ElementTree.fromstring(source.content).tag == "hierarchy"
    first, last = (api.get(f"/run/{run_id}/artifacts/{p['artifacts']['screenshot']}").content
                   for p in (perceived[0], perceived[-1]))
    assert first != last  # each screen's own picture


def test_an_unknown_artifact_or_run_is_not_found(api, goal_run):
    run_id, events = goal_run
    shot = of_kind(events, "agent.screen.perceived")[0]["artifacts"]["screenshot"]

    missing = api.get(f"/run/{run_id}/artifacts/{'0' * 32}")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    unknown_run = api.get(f"/run/{ULID()}/artifacts/{shot}")
    assert unknown_run.status_code == 404 and unknown_run.json()["code"] == "not_found"


def test_run_completed_carries_the_metrics_of_the_run(goal_run):
    _, events = goal_run
    metrics = events[-1]["data"]["metrics"]

    assert METRICS <= metrics.keys()
    steps = {d["stepOrdinal"] for d in of_kind(events, "agent.node.started")
             if d["stepOrdinal"] > 0 and d["nodeName"] not in AFTER_EXPLORING}  # reproducing comes after
    assert metrics["steps"] == max(steps) == len(steps)
    assert metrics["screensDiscovered"] == len(of_kind(events, "graph.screen.discovered")) >= 5
    assert metrics["transitions"] == len(of_kind(events, "graph.transition.discovered"))
    restarts = [d for d in of_kind(events, "agent.node.started") if d["nodeName"] == "RestartApp"]
    assert metrics["restarts"] == len(restarts)
    assert isinstance(metrics["durationMs"], int) and metrics["durationMs"] > 0


def test_a_run_that_spends_its_budget_reports_every_step(api, appium_server):
    run_id, events = run_to_the_end(api, start_body(appium_server, app="shop", maxSteps=6))

    completed = events[-1]
    assert (completed["event"], completed["data"]["stopReason"]) == ("run.completed", "max_steps")
    metrics = completed["data"]["metrics"]
    assert METRICS <= metrics.keys() and metrics["steps"] == 6
    assert metrics["screensDiscovered"] == len(of_kind(events, "graph.screen.discovered")) >= 2
    assert metrics["transitions"] == len(of_kind(events, "graph.transition.discovered")) >= 1
    assert len(of_kind(events, "agent.action.performed")) == 6
