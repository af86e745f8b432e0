"""The screen graph's pure row logic and its SVG picture: no database, no Ray."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from api.graph_svg import layout, render_svg, with_links
from domain.run import Run
from domain.screen_graph import ScreenFact, ScreenGraphProjection, build_graph, merge_screen, screen_fact, transition_row
from domain.wire import camel

SVG = "{http://www.w3.org/2000/svg}"
TAP_OK = {"kind": "tap", "target": ["id", "ok"], "text": None, "label": 'tap "OK"', "action_id": "tap:ok"}


def new_run() -> tuple[Run, str]:
    run_id = ULID()
    run = Run(id=run_id.to_uuid(), app_config={}, goal=None, max_steps=10, inputs={}, tenant_id="t", project_id="p")
    run.start("worker-1", datetime.now(timezone.utc))
    return run, str(run_id)


def perceive(run: Run, step: int, screen: str, shot: str, activity: str = ".Home") -> None:
    run.record_screen(step_ordinal=step, screen_id=screen, activity=activity, package="com.x",
               element_count=3, artifacts={"screenshot": shot, "pageSource": f"src-{shot}"})


def explored_run() -> tuple[list[Any], str]:
    """home -> details -> home (by back) -> details again; a tap on home that stays on home."""
    run, run_id = new_run()
    perceive(run, 1, "home", "shot1")
    run.discover_screen(step_ordinal=1, screen_id="home", activity=".Home")
    run.record_action(step_ordinal=1, screen_id="home", action=TAP_OK)
    run.discover_transition(step_ordinal=1, from_screen="home", action=TAP_OK, to_screen="details")
    perceive(run, 2, "details", "shot2", ".Details")
    run.discover_screen(step_ordinal=2, screen_id="details", activity=".Details")
    back = {"kind": "back", "target": None, "text": None, "label": "back", "action_id": "back"}
    run.discover_transition(step_ordinal=2, from_screen="details", action=back, to_screen="home")
    perceive(run, 3, "home", "shot3")
    run.discover_transition(step_ordinal=3, from_screen="home", action=TAP_OK, to_screen="details")
    run.discover_transition(step_ordinal=3, from_screen="home", action=TAP_OK, to_screen="home")
    return run.collect_events(), run_id


def test_a_perception_is_a_visit_with_artifacts_and_a_discovery_is_not():
    events, run_id = explored_run()
    perceived, discovered = screen_fact(events[2]), screen_fact(events[3])
    assert (perceived.run_id, perceived.screen_id, perceived.step, perceived.visits) == (run_id, "home", 1, 1)
    assert perceived.artifacts == {"screenshot": "shot1", "pageSource": "src-shot1"}
    assert (discovered.visits, discovered.artifacts) == (0, {})


def test_a_screen_row_keeps_its_first_step_and_the_latest_visit_and_screenshot():
    events, run_id = explored_run()
    screens, _ = build_graph(events)
    home = next(row for row in screens if row["screen_id"] == "home")
    assert home == {"run_id": run_id, "screen_id": "home", "activity": ".Home", "first_seen_step": 1,
                    "last_seen_step": 3, "visits": 2, "screenshot_artifact_id": "shot3",
                    "page_source_artifact_id": "src-shot3", "elements": []}  # events without outlines
    assert [row["screen_id"] for row in screens] == ["home", "details"]


def test_a_screen_row_holds_the_outline_lines_of_every_visit():
    run, _ = new_run()
    for step, lines in ((1, ['Button#ok "OK"', "TextView#recipe (list item)"]), (2, ['Button#more "More"'])):
        run.record_screen(step_ordinal=step, screen_id="list", activity=".List", package="com.x",
                   element_count=3, artifacts={}, elements=lines)
    screens, _ = build_graph(run.collect_events())
    assert screens[0]["elements"] == ['Button#more "More"', 'Button#ok "OK"', "TextView#recipe (list item)"]


def test_a_stored_perception_from_before_outlines_replays_with_none():
    events, _ = explored_run()
    old = object.__new__(Run.ScreenPerceived)  # as the store's mapper rebuilds it: no `elements` in its state
    object.__setattr__(old, "__dict__", {k: v for k, v in vars(events[2]).items() if k != "elements"})
    assert old.elements == () and screen_fact(old).elements == ()


def test_a_discovery_without_artifacts_keeps_the_screenshot_seen_before():
    events, _ = explored_run()
    row = merge_screen(None, screen_fact(events[2]))
    assert merge_screen(row, screen_fact(events[3]))["screenshot_artifact_id"] == "shot1"
    assert merge_screen(row, screen_fact(events[3]))["visits"] == 1


def test_transition_rows_are_from_action_to_and_the_first_report_wins():
    events, run_id = explored_run()
    assert transition_row(events[5]) == {
        "run_id": run_id, "from_screen": "home", "action_id": "tap:ok", "to_screen": "details",
        "action_kind": "tap", "action_label": 'tap "OK"', "first_seen_step": 1}
    _, transitions = build_graph(events)
    keys = [(t["from_screen"], t["action_id"], t["to_screen"], t["first_seen_step"]) for t in transitions]
    assert keys == [("home", "tap:ok", "details", 1), ("details", "back", "home", 2), ("home", "tap:ok", "home", 3)]


class RecordingView:
    def __init__(self) -> None:
        self.pages: list[tuple[list[tuple[str, int]], int]] = []

    def apply(self, facts: list[tuple[int, Any]], tracking: Tracking) -> None:
        kinds = [("screen" if isinstance(fact, ScreenFact) else "transition", position) for position, fact in facts]
        self.pages.append((kinds, tracking.notification_id))


def test_the_projection_applies_graph_events_and_only_tracks_the_others():
    events, _ = explored_run()
    view = RecordingView()
    projection = ScreenGraphProjection(view)
    projection.process_page([(event, Tracking("RunService", position)) for position, event in enumerate(events, 1)])
    [(facts, last)] = view.pages
    assert last == len(events)
    assert facts[:3] == [("screen", 3), ("screen", 4), ("transition", 6)]
    assert [position for _, position in facts] == [
        position for position, e in enumerate(events, 1)
        if isinstance(e, (Run.ScreenPerceived, Run.ScreenDiscovered, Run.TransitionDiscovered))]
    projection.process_event(events[0], Tracking("RunService", len(events) + 1))  # no fact: tracked only
    assert view.pages[-1] == ([], len(events) + 1)
    assert ScreenGraphProjection.name == "screen_graph"


def test_the_projection_subscribes_to_the_graph_events_only():
    events, _ = explored_run()
    graph_kinds = {Run.ScreenPerceived, Run.ScreenDiscovered, Run.TransitionDiscovered}
    assert {get_topic(type(e)) for e in events if type(e) in graph_kinds} == set(ScreenGraphProjection.topics)
    assert {get_topic(type(e)) for e in events if type(e) not in graph_kinds}.isdisjoint(ScreenGraphProjection.topics)


# The picture


def graph_dict(events: list[Any], run_id: str) -> dict[str, Any]:
    """What GraphView.get_graph returns for these events."""
    screens, transitions = build_graph(events)
    rename = lambda row: {camel(k): v for k, v in row.items() if k != "run_id"}  # noqa: E731
    return {"runId": run_id, "screens": [rename(r) for r in screens], "transitions": [rename(r) for r in transitions]}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == kind]


def test_every_screen_and_transition_is_drawn_and_screens_link_their_screenshot():
    events, run_id = explored_run()
    root = parse(render_svg(graph_dict(events, run_id)))
    assert [g.get("data-screen-id") for g in groups(root, "screen")] == ["home", "details"]
    edges = [(g.get("data-from"), g.get("data-to"), g.find(f"{SVG}title").text) for g in groups(root, "transition")]
    assert edges == [("home", "details", 'tap "OK" (step 1)'), ("details", "home", "back (step 2)"),
                     ("home", "home", 'tap "OK" (step 3)')]
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert links == [f"/run/{run_id}/artifacts/shot3", f"/run/{run_id}/artifacts/shot2"]
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert ".Home" in texts and "home · 2 visits" in texts and ".Details" in texts


def test_columns_are_breadth_first_depths_from_the_first_screen():
    graph = {"runId": "r", "screens": [{"screenId": s, "activity": s, "visits": 1} for s in "abcd"],
             "transitions": [{"fromScreen": f, "toScreen": t} for f, t in ("ab", "ac", "cd", "da")]}
    assert layout(graph) == {"a": (0, 0), "b": (1, 0), "c": (1, 1), "d": (2, 0)}


def test_a_screen_only_reached_by_the_last_action_is_drawn_as_not_perceived():
    graph = {"runId": "r", "screens": [{"screenId": "a", "activity": ".A", "visits": 1}],
             "transitions": [{"fromScreen": "a", "toScreen": "zz", "actionId": "tap:x", "actionLabel": "",
                              "firstSeenStep": 4}]}
    root = parse(render_svg(graph))
    unseen = groups(root, "screen")[1]
    assert unseen.get("data-screen-id") == "zz" and "(not perceived)" in unseen.find(f"{SVG}title").text
    assert groups(root, "transition")[0].find(f"{SVG}title").text == "tap:x (step 4)"


def test_text_from_the_app_is_escaped():
    hostile = '<script>alert("x")</script> & \x07bell'
    graph = {"runId": "r&<", "screens": [{"screenId": 'a"<b>', "activity": hostile, "visits": 1,
                                           "screenshotArtifactId": 'x"&y'}],
             "transitions": [{"fromScreen": 'a"<b>', "toScreen": 'a"<b>', "actionId": "t",
                              "actionLabel": hostile, "firstSeenStep": 1}]}
    svg = render_svg(graph)
    assert "<script>" not in svg
    root = parse(svg)
    (screen,) = groups(root, "screen")
    assert screen.get("data-screen-id") == 'a"<b>'
    assert screen.find(f"{SVG}title").text.startswith('<script>alert("x")</script> & \ufffdbell')
    assert groups(root, "transition")[0].find(f"{SVG}title").text.startswith("<script>")
    assert next(root.iter(f"{SVG}a")).get("href") == '/run/r&</artifacts/x"&y'


def xml_safe(text: str) -> str:
    """What a parser gives back: control characters were replaced, and newlines in text normalised."""
    return "".join("\ufffd" if (ord(c) < 32 and c not in "\t\n\r") or c in "\ufffe\uffff" else c for c in text)


@given(st.lists(st.text(max_size=40), min_size=1, max_size=6, unique=True), st.text(max_size=60))
def test_any_screen_ids_and_labels_give_a_parseable_picture_naming_each_screen(ids, label):
    graph = {"runId": "r", "screens": [{"screenId": sid, "activity": label, "visits": 1} for sid in ids],
             "transitions": [{"fromScreen": ids[0], "toScreen": sid, "actionId": label, "actionLabel": label,
                              "firstSeenStep": 1} for sid in ids]}
    root = parse(render_svg(graph))
    assert [g.get("data-screen-id") for g in groups(root, "screen")] == [xml_safe(sid) for sid in ids]
    assert len(groups(root, "transition")) == len(ids)


def test_an_empty_graph_is_a_valid_picture():
    root = parse(render_svg({"runId": "r", "screens": [], "transitions": []}))
    assert groups(root, "screen") == []


def test_json_links_each_screenshot_to_the_artifact_route():
    graph = {"runId": "r1", "screens": [{"screenId": "a", "screenshotArtifactId": "s1"},
                                        {"screenId": "b", "screenshotArtifactId": None}], "transitions": []}
    assert [s["screenshotUrl"] for s in with_links(graph)["screens"]] == ["/run/r1/artifacts/s1", None]
