"""Creates every table once, before the actors and API replicas start.

Concurrent `CREATE TABLE IF NOT EXISTS` from many processes fails in PostgreSQL
("tuple concurrently updated"), so the other processes never create tables.
"""

from __future__ import annotations

import psycopg
from psycopg.sql import SQL, Identifier
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from domain.application import RunService
from storage import artifacts, leases
from storage.app_map_view import AppMapView
from storage.findings_view import FindingsView
from storage.graph_view import GraphView
from storage.postgres import event_store_env
from storage.runs_view import RunsView

TRACKED_VIEWS = {"runs_projection": RunsView, "screen_graph": GraphView, "findings": FindingsView,
                 "app_map": AppMapView}


# The screen-graph projection follows the log by topic: it reads "after the last event of these topics,
# these topics" (storage/log_follower.py), and without this index every read scans each
# event since then, which a long exploration makes hundreds of thousands (measured: 3.4 ms for 20,000
# events skipped; 0.06 ms with the index).
TOPIC_INDEX = "CREATE INDEX IF NOT EXISTS {index} ON {table} (topic, notification_id)"


def create_tables(database_url: str) -> None:
    env = {**event_store_env(database_url), "CREATE_TABLE": "y"}
    runs = RunService(env=env)
    events_table = runs.recorder.events_table_name
    runs.close()
    for name, view_class in TRACKED_VIEWS.items():
        factory = InfrastructureFactory.construct(env=Environment(name, env))
        factory.tracking_recorder(view_class)
        factory.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SQL(TOPIC_INDEX).format(index=Identifier(f"{events_table}_topic"),
                                             table=Identifier(events_table)))
        conn.execute(artifacts.CREATE)
        conn.execute(leases.CREATE)
