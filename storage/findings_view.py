"""The `run_findings` table: the findings projection (DESIGN.md "Findings").

A page of events' rows and its tracking record commit in one transaction. A
notification already tracked is skipped, so applying an event twice (a runner
restarted mid-way, a redelivery) changes nothing: occurrence counts stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from domain.findings.projection import (FINDING_COLUMNS, JSON_COLUMNS, FindingFact, FindingsProjection, Row,
                                        merge_finding)
from domain.wire import camel
from storage.tracked_view import TrackedView

CREATE_FINDINGS = """
CREATE TABLE IF NOT EXISTS run_findings (
    finding_id text NOT NULL, run_id text NOT NULL, kind text NOT NULL, title text NOT NULL,
    signature text NOT NULL, first_step integer NOT NULL, occurrences integer NOT NULL,
    screen_id text NOT NULL, activity text NOT NULL, action_id text,
    details jsonb NOT NULL, artifacts jsonb NOT NULL, reproduction jsonb,
    PRIMARY KEY (run_id, finding_id));
"""
FINDING_ORDER = "first_step, finding_id"
UPSERT_FINDING = SQL(
    "INSERT INTO run_findings ({}) VALUES ({}) ON CONFLICT (run_id, finding_id) DO UPDATE SET {}").format(
    SQL(", ").join(map(Identifier, FINDING_COLUMNS)), SQL(", ").join(SQL("%s") for _ in FINDING_COLUMNS),
    SQL(", ").join(SQL("{0} = EXCLUDED.{0}").format(Identifier(c)) for c in FINDING_COLUMNS
                   if c not in ("run_id", "finding_id")))


class FindingsView(TrackedView):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(SQL(CREATE_FINDINGS))

    def apply(self, facts: Sequence[tuple[int, FindingFact]], tracking: Tracking) -> None:
        """A page of the log's finding facts in one transaction, then its position (occurrences stay exact)."""
        self.apply_page(facts, tracking, lambda curs, _, fact: self._merge(curs, fact))

    @staticmethod
    def _merge(curs: Any, fact: FindingFact) -> None:
        curs.execute("SELECT * FROM run_findings WHERE run_id = %s AND finding_id = %s FOR UPDATE",
                     (fact.run_id, fact.finding_id))
        row = merge_finding(curs.fetchone(), fact)
        if row is not None:
            curs.execute(UPSERT_FINDING, [Jsonb(row[c]) if c in JSON_COLUMNS and row[c] is not None else row[c]
                                          for c in FINDING_COLUMNS])

    # Queries

    def get_findings(self, run_id: str) -> list[Row]:
        """The run's findings, camelCase (DESIGN.md's shape), in the order they were first met."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT * FROM run_findings WHERE run_id = %s ORDER BY {FINDING_ORDER}", (run_id,))
            return [shown(row) for row in curs.fetchall()]

    def get_finding(self, run_id: str, finding_id: str) -> Row | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT * FROM run_findings WHERE run_id = %s AND finding_id = %s", (run_id, finding_id))
            row = curs.fetchone()
        return shown(row) if row else None

    def all_rows(self) -> list[Row]:
        """Every row in a fixed order: what a rebuild must reproduce."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT * FROM run_findings ORDER BY run_id, {FINDING_ORDER}")
            return curs.fetchall()

    def drop_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DROP TABLE IF EXISTS run_findings, {}").format(Identifier(self.tracking_table_name)))


def shown(row: Row) -> Row:
    """A row as GET /run/{id}/findings serves it: camelCase, first_step as firstStep, no run id."""
    return {camel(key): value for key, value in row.items() if key != "run_id"}


def open_findings_view(env: dict[str, str]) -> FindingsView:
    """The findings view on its own connection pool (the projection's name picks its tracking table)."""
    factory = InfrastructureFactory.construct(env=Environment(FindingsProjection.name, env))
    return factory.tracking_recorder(FindingsView)
