"""Creates every table once, before the actors and API replicas start.

Concurrent `CREATE TABLE IF NOT EXISTS` from many processes fails in PostgreSQL
("tuple concurrently updated"), so the other processes never create tables.
"""

from __future__ import annotations

import psycopg
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from domain.application import RunService
from storage import artifacts, leases
from storage.graph_view import GraphView
from storage.postgres import event_store_env
from storage.runs_view import RunsView

TRACKED_VIEWS = {"runs_projection": RunsView, "screen_graph": GraphView}


def create_tables(database_url: str) -> None:
    env = {**event_store_env(database_url), "CREATE_TABLE": "y"}
    runs = RunService(env=env)
    runs.close()
    for name, view_class in TRACKED_VIEWS.items():
        factory = InfrastructureFactory.construct(env=Environment(name, env))
        factory.tracking_recorder(view_class)
        factory.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(artifacts.CREATE)
        conn.execute(leases.CREATE)
