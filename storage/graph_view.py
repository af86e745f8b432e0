"""The `run_screens` and `run_transitions` tables: the screen graph projection.

A page of events' rows and its tracking record commit in one transaction. A
notification already tracked is skipped, so applying an event twice (a runner
restarted mid-way, a redelivery) changes nothing: visit counts stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from domain.screen_graph import SCREEN_COLUMNS, TRANSITION_COLUMNS, Row, ScreenFact, ScreenGraphProjection, merge_screen
from domain.wire import camel
from storage.tracked_view import TrackedView

CREATE_GRAPH = """
CREATE TABLE IF NOT EXISTS run_screens (
    run_id text NOT NULL, screen_id text NOT NULL, activity text NOT NULL,
    first_seen_step integer NOT NULL, last_seen_step integer NOT NULL, visits integer NOT NULL,
    screenshot_artifact_id text, page_source_artifact_id text,
    PRIMARY KEY (run_id, screen_id));
-- Outlines came later: tables made before them get the column (replays fill it).
ALTER TABLE run_screens ADD COLUMN IF NOT EXISTS elements text[] NOT NULL DEFAULT '{}';
CREATE TABLE IF NOT EXISTS run_transitions (
    run_id text NOT NULL, from_screen text NOT NULL, action_id text NOT NULL, to_screen text NOT NULL,
    action_kind text NOT NULL, action_label text NOT NULL, first_seen_step integer NOT NULL,
    PRIMARY KEY (run_id, from_screen, action_id, to_screen));
"""
SCREEN_ORDER = "first_seen_step, screen_id"
TRANSITION_ORDER = "first_seen_step, from_screen, action_id, to_screen"


def _upsert(table: str, columns: tuple[str, ...], key: tuple[str, ...], update: bool) -> SQL:
    action = SQL("DO UPDATE SET {}").format(SQL(", ").join(
        SQL("{0} = EXCLUDED.{0}").format(Identifier(c)) for c in columns if c not in key))
    return SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {}").format(
        Identifier(table), SQL(", ").join(map(Identifier, columns)), SQL(", ").join(SQL("%s") for _ in columns),
        SQL(", ").join(map(Identifier, key)), action if update else SQL("DO NOTHING"))


UPSERT_SCREEN = _upsert("run_screens", SCREEN_COLUMNS, ("run_id", "screen_id"), update=True)
# The first report of a transition says when it was found: later ones change nothing.
INSERT_TRANSITION = _upsert("run_transitions", TRANSITION_COLUMNS, TRANSITION_COLUMNS[:4], update=False)


class GraphView(TrackedView):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(SQL(CREATE_GRAPH))

    def apply(self, facts: Sequence[tuple[int, ScreenFact | Row]], tracking: Tracking) -> None:
        """A page of the log's graph facts in one transaction, then its position (visit counts stay exact)."""
        self.apply_page(facts, tracking, _apply_fact)

    # Queries

    def get_graph(self, run_id: str) -> dict[str, Any]:
        """The run's screens and transitions, camelCase, in the order they were first seen."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT * FROM run_screens WHERE run_id = %s ORDER BY {SCREEN_ORDER}", (run_id,))
            screens = curs.fetchall()
            curs.execute(f"SELECT * FROM run_transitions WHERE run_id = %s ORDER BY {TRANSITION_ORDER}", (run_id,))
            transitions = curs.fetchall()
        return {"runId": run_id, "screens": [_camel_row(r) for r in screens],
                "transitions": [_camel_row(r) for r in transitions]}

    def all_rows(self) -> tuple[list[Row], list[Row]]:
        """Every row of both tables in a fixed order: what a rebuild must reproduce."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT * FROM run_screens ORDER BY run_id, {SCREEN_ORDER}")
            screens = curs.fetchall()
            curs.execute(f"SELECT * FROM run_transitions ORDER BY run_id, {TRANSITION_ORDER}")
            return screens, curs.fetchall()

    def drop_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DROP TABLE IF EXISTS run_screens, run_transitions, {}").format(
                Identifier(self.tracking_table_name)))


def _apply_fact(curs: Any, notification_id: int, fact: ScreenFact | Row) -> None:
    if isinstance(fact, ScreenFact):
        curs.execute("SELECT * FROM run_screens WHERE run_id = %s AND screen_id = %s FOR UPDATE",
                     (fact.run_id, fact.screen_id))
        row = merge_screen(curs.fetchone(), fact)
        curs.execute(UPSERT_SCREEN, [row[c] for c in SCREEN_COLUMNS])
    else:
        curs.execute(INSERT_TRANSITION, [fact[c] for c in TRANSITION_COLUMNS])


def _camel_row(row: Row) -> Row:
    return {camel(key): value for key, value in row.items() if key != "run_id"}


def open_graph_view(env: dict[str, str]) -> GraphView:
    """The graph view on its own connection pool (the projection's name picks its tracking table)."""
    factory = InfrastructureFactory.construct(env=Environment(ScreenGraphProjection.name, env))
    return factory.tracking_recorder(GraphView)
