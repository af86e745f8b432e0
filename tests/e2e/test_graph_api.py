"""GET /run/{id}/graph and /graph.svg over HTTP, after a real run on the Appium simulator."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse
from ulid import ULID

from tests.fixtures.service import start_body

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def explored(service: Any, appium_server: str) -> tuple[str, list[dict[str, Any]]]:
    """One shop run to its end: its id and its whole event stream."""
    with httpx.Client(base_url=service.api_url, timeout=30) as client:
        started = client.post("/run", json=start_body(appium_server, app="shop", maxSteps=15))
        assert started.status_code == 201, started.text
        run_id = started.json()["runId"]
        return run_id, read_whole_stream(client, run_id)


def read_whole_stream(client: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    """Like the fixture's read_stream, but a run this long outlives the 1 s keep-alive: httpx-sse
    turns `: keep-alive` into a phantom event with no data (florimondmanca/httpx-sse#35), so skip those."""
    with connect_sse(client, "GET", f"/run/{run_id}/stream", timeout=60) as source:
        assert source.response.status_code == 200, source.response.read()
        return [{"id": int(sse.id), "event": sse.event, "data": json.loads(sse.data)}
                for sse in source.iter_sse() if sse.data]


def of_kind(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["event"] == name]


def first_reports(events: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[tuple[str, ...], Any]]:
    """Discovered screens and transitions by key, first report first: a worker taking a run over
    reports again what the lost one had found, and the graph keeps the first."""
    screens: dict[str, Any] = {}
    for d in of_kind(events, "graph.screen.discovered"):
        screens.setdefault(d["screenId"], (d["screenId"], d["activity"], d["stepOrdinal"]))
    transitions: dict[tuple[str, ...], Any] = {}
    for f in of_kind(events, "graph.transition.discovered"):
        key = (f["fromScreen"], f["action"]["action_id"], f["toScreen"])
        transitions.setdefault(key, (*key, f["action"]["label"], f["stepOrdinal"]))
    return screens, transitions


def projected_graph(api: httpx.Client, run_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The graph asked for once, after the whole stream was read: the API answers after its projection has
    applied the run's latest event (read-your-writes), so it already has everything the stream showed."""
    screens, transitions = first_reports(events)
    response = api.get(f"/run/{run_id}/graph")
    assert response.status_code == 200, response.text
    graph = response.json()
    assert (len(graph["screens"]), len(graph["transitions"]), sum(s["visits"] for s in graph["screens"])) == (
        len(screens), len(transitions), len(of_kind(events, "agent.screen.perceived")))
    return graph


def test_the_graph_is_the_runs_discovered_screens_and_transitions(api, explored):
    run_id, events = explored
    assert events[-1]["event"] == "run.completed"
    graph = projected_graph(api, run_id, events)
    assert graph["runId"] == run_id
    screens, transitions = first_reports(events)
    assert len(screens) >= 2, "the shop app shows more than one screen in 15 steps"
    assert sorted((s["screenId"], s["activity"], s["firstSeenStep"]) for s in graph["screens"]) == sorted(
        screens.values())
    assert transitions, "15 steps discover transitions"
    assert sorted((t["fromScreen"], t["actionId"], t["toScreen"], t["actionLabel"], t["firstSeenStep"])
                  for t in graph["transitions"]) == sorted(transitions.values())


def test_each_screen_counts_its_visits_and_links_its_latest_screenshot(api, explored):
    run_id, events = explored
    graph = projected_graph(api, run_id, events)
    perceived = of_kind(events, "agent.screen.perceived")
    visits = Counter(p["screenId"] for p in perceived)
    latest = {p["screenId"]: p["artifacts"]["screenshot"] for p in perceived}
    for screen in graph["screens"]:
        assert screen["visits"] == visits[screen["screenId"]]
        assert screen["screenshotUrl"] == f"/run/{run_id}/artifacts/{latest[screen['screenId']]}"
    picture = api.get(graph["screens"][0]["screenshotUrl"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"


def test_the_svg_picture_names_every_screen(api, explored):
    run_id, events = explored
    graph = projected_graph(api, run_id, events)
    response = api.get(f"/run/{run_id}/graph.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.text)
    assert root.tag == f"{SVG}svg"
    drawn = {g.get("data-screen-id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "screen"}
    for screen in graph["screens"]:
        texts = " ".join(t.text or "" for t in drawn[screen["screenId"]].iter(f"{SVG}text"))
        assert screen["activity"] in texts and screen["screenId"][:7] in texts
    edges = [g for g in root.iter(f"{SVG}g") if g.get("class") == "transition"]
    assert len(edges) == len(graph["transitions"])


@pytest.mark.parametrize("path", ["/run/{}/graph", "/run/{}/graph.svg"])
def test_an_unknown_run_has_no_graph(api, path):
    response = api.get(path.format(ULID()))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
