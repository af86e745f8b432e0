"""The screen graph of a run as pure row logic over its events.

A screen row comes from ScreenPerceived (a visit, the latest artifacts, the
outline's lines of every visit together: a list shows more as it scrolls) and
ScreenDiscovered; a transition row from TransitionDiscovered. A transition that left the app
(`to_screen` None, `left_to` the other app) is no edge: other apps' screens are not the app's
(the run's `agent.app.left` events say where it went). Rows depend only
on the events and their order, so dropping the tables and replaying the event
store rebuilds them identically. The Postgres view in `storage/graph_view.py`
applies a page of them with its tracking record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.projections import run_id_of
from domain.run import Run

SCREEN_COLUMNS = (
    "run_id", "screen_id", "activity", "first_seen_step", "last_seen_step", "visits",
    "screenshot_artifact_id", "page_source_artifact_id", "elements",
)
TRANSITION_COLUMNS = (
    "run_id", "from_screen", "action_id", "to_screen", "action_kind", "action_label", "first_seen_step",
)
Row = dict[str, Any]


@dataclass(frozen=True)
class ScreenFact:
    """What one event tells about one screen of one run."""

    run_id: str
    screen_id: str
    activity: str
    step: int
    visits: int = 0  # 1 for a perception; a discovery is no extra visit
    artifacts: dict[str, str] = field(default_factory=dict)
    elements: tuple[str, ...] = ()  # outline lines (events older than outlines have none)


def screen_fact(e: Run.ScreenPerceived | Run.ScreenDiscovered) -> ScreenFact:
    fact = ScreenFact(run_id_of(e), e.screen_id, e.activity, e.step_ordinal)
    if isinstance(e, Run.ScreenPerceived):
        return replace(fact, visits=1, artifacts=dict(e.artifacts), elements=tuple(e.elements))
    return fact


def merge_screen(row: Row | None, fact: ScreenFact) -> Row:
    """The screen's row after `fact`: the first sighting's step stays, the latest sighting and artifacts win."""
    old = row or {"run_id": fact.run_id, "screen_id": fact.screen_id, "first_seen_step": fact.step,
                  "visits": 0, "screenshot_artifact_id": None, "page_source_artifact_id": None, "elements": []}
    return {
        **old,
        "activity": fact.activity,
        "last_seen_step": fact.step,
        "visits": old["visits"] + fact.visits,
        "screenshot_artifact_id": fact.artifacts.get("screenshot") or old["screenshot_artifact_id"],
        "page_source_artifact_id": fact.artifacts.get("pageSource") or old["page_source_artifact_id"],
        "elements": sorted(set(old.get("elements") or ()) | set(fact.elements)),
    }


def transition_row(e: Run.TransitionDiscovered) -> Row:
    """A transition is (from screen, action, to screen); the first report of it says when it was found."""
    action = e.action  # Action.to_dict(); an action without an id is keyed by its kind (e.g. back)
    return {
        "run_id": run_id_of(e), "from_screen": e.from_screen,
        "action_id": action.get("action_id") or action.get("kind", ""), "to_screen": e.to_screen,
        "action_kind": action.get("kind", ""), "action_label": action.get("label", ""),
        "first_seen_step": e.step_ordinal,
    }


def transition_key(row: Row) -> tuple[str, str, str, str]:
    return row["run_id"], row["from_screen"], row["action_id"], row["to_screen"]


def build_graph(events: Iterable[Any]) -> tuple[list[Row], list[Row]]:
    """Screens and transitions from events in store order: what the view holds after a replay."""
    screens: dict[tuple[str, str], Row] = {}
    transitions: dict[tuple[str, str, str, str], Row] = {}
    for e in events:
        if isinstance(e, (Run.ScreenPerceived, Run.ScreenDiscovered)):
            fact = screen_fact(e)
            key = (fact.run_id, fact.screen_id)
            screens[key] = merge_screen(screens.get(key), fact)
        elif isinstance(e, Run.TransitionDiscovered) and e.to_screen is not None:
            row = transition_row(e)
            transitions.setdefault(transition_key(row), row)
    return list(screens.values()), list(transitions.values())


class ScreenGraphProjection(Projection[Any]):
    """Keeps `run_screens` and `run_transitions`. Its subscription reads only the events of its topics:
    most of a run's events (nodes, actions) never reach it, so they cost it no transaction."""

    name = "screen_graph"
    topics = tuple(get_topic(cls) for cls in (Run.ScreenPerceived, Run.ScreenDiscovered, Run.TransitionDiscovered))

    def process_page(self, page: Sequence[tuple[Any, Tracking]]) -> None:
        """Events in log order, each with its position: the graph's facts (a screen seen, a transition found)
        and the last position, together."""
        facts: list[tuple[int, ScreenFact | Row]] = []
        for e, tracking in page:
            if isinstance(e, (Run.ScreenPerceived, Run.ScreenDiscovered)):
                facts.append((tracking.notification_id, screen_fact(e)))
            elif isinstance(e, Run.TransitionDiscovered) and e.to_screen is not None:
                facts.append((tracking.notification_id, transition_row(e)))
        self.view.apply(facts, page[-1][1])  # a page of exits only still moves the tracking on

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_page([(domain_event, tracking)])
