"""The findings of a run as pure row logic over its events (DESIGN.md "Findings").

A finding's row starts at its FindingDetected; each FindingRecurred adds an occurrence (occurrences =
detected + recurred), and the latest FindingReproduced says how its reproduction went (a run resumed
after a pause reproduces again from the start: the last word wins). Rows depend only on the events
and their order, so dropping the table and replaying the event store rebuilds it identically. The
Postgres view in `storage/findings_view.py` applies a page of them with its tracking record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.projections import run_id_of
from domain.run import Run

FINDING_COLUMNS = (
    "finding_id", "run_id", "kind", "title", "signature", "first_step", "occurrences",
    "screen_id", "activity", "action_id", "details", "artifacts", "reproduction",
)
JSON_COLUMNS = frozenset({"details", "artifacts", "reproduction"})
FINDING_EVENTS = (Run.FindingDetected, Run.FindingRecurred, Run.FindingReproduced)
Row = dict[str, Any]


@dataclass(frozen=True)
class FindingFact:
    """What one event tells about one finding of one run: its first row (detected), one occurrence
    more (detected, recurred), or its reproduction."""

    run_id: str
    finding_id: str
    occurrences: int = 0
    detected: Row | None = None
    reproduction: dict[str, Any] | None = None


def finding_fact(e: Run.FindingDetected | Run.FindingRecurred | Run.FindingReproduced) -> FindingFact:
    run_id = run_id_of(e)
    if isinstance(e, Run.FindingDetected):
        row = {"finding_id": e.finding_id, "run_id": run_id, "kind": e.kind, "title": e.title,
               "signature": e.signature, "first_step": e.step_ordinal, "occurrences": 0,
               "screen_id": e.screen_id, "activity": e.activity, "action_id": e.action_id,
               "details": dict(e.details), "artifacts": dict(e.artifacts), "reproduction": None}
        return FindingFact(run_id, e.finding_id, occurrences=1, detected=row)
    if isinstance(e, Run.FindingRecurred):
        return FindingFact(run_id, e.finding_id, occurrences=1)
    reproduction = {"steps": list(e.steps), "attempts": e.attempts, "reproduced": e.reproduced}
    return FindingFact(run_id, e.finding_id, reproduction=reproduction)


def merge_finding(row: Row | None, fact: FindingFact) -> Row | None:
    """The finding's row after `fact`: the first detection's facts stay (a worker that took the run over
    rebuilt the signatures it met, so a second detection is only another occurrence). None while no
    detection is known: a recurrence or reproduction of no finding changes no row."""
    if row is None and fact.detected is None:
        return None
    old = row if row is not None else fact.detected
    return {**old, "occurrences": old["occurrences"] + fact.occurrences,
            "reproduction": fact.reproduction if fact.reproduction is not None else old["reproduction"]}


def finding_key(row_or_fact: Row | FindingFact) -> tuple[str, str]:
    if isinstance(row_or_fact, FindingFact):
        return row_or_fact.run_id, row_or_fact.finding_id
    return row_or_fact["run_id"], row_or_fact["finding_id"]


def build_findings(events: Iterable[Any]) -> list[Row]:
    """The rows from events in store order: what the view holds after a replay (in first-step order)."""
    rows: dict[tuple[str, str], Row] = {}
    for e in events:
        if isinstance(e, FINDING_EVENTS):
            fact = finding_fact(e)
            if (row := merge_finding(rows.get(finding_key(fact)), fact)) is not None:
                rows[finding_key(fact)] = row
    return sorted(rows.values(), key=lambda r: (r["run_id"], r["first_step"], r["finding_id"]))


class FindingsProjection(Projection[Any]):
    """Keeps `run_findings`. Its subscription reads only the findings' events, which most pages lack."""

    name = "findings"
    topics = tuple(get_topic(cls) for cls in FINDING_EVENTS)

    def process_page(self, page: Sequence[tuple[Any, Tracking]]) -> None:
        """Events in log order, each with its position: their facts and the last position, together."""
        facts = [(tracking.notification_id, finding_fact(e)) for e, tracking in page if isinstance(e, FINDING_EVENTS)]
        self.view.apply(facts, page[-1][1])

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_page([(domain_event, tracking)])
