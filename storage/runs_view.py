"""The `runs` and `app_configs` tables: a tracked projection of the run events.

Each event's row change and its tracking record commit in one transaction, so
every notification is applied exactly once, even when a runner restarts.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.sql import SQL, Identifier

from domain.projections import RowChange

RUN_COLUMNS = (
    "run_id", "tenant_id", "project_id", "app_config_id", "status", "created_at", "updated_at",
    "processing_by", "lease_expires_at", "heartbeat_at", "started_at", "finished_at",
    "cancel_requested_at", "stop_reason", "goal", "max_steps", "attempt", "steps_taken",
    "screens_discovered", "transitions_discovered", "last_event_seq",
)

CREATE_RUNS = """
CREATE TABLE IF NOT EXISTS app_configs (
    app_config_id text PRIMARY KEY, apk_path text NOT NULL, package_name text NOT NULL,
    app_activity text NOT NULL, appium_server_url text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id text PRIMARY KEY, tenant_id text NOT NULL, project_id text NOT NULL,
    app_config_id text NOT NULL REFERENCES app_configs (app_config_id),
    status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'canceled')),
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    processing_by text, lease_expires_at timestamptz, heartbeat_at timestamptz,
    started_at timestamptz, finished_at timestamptz, cancel_requested_at timestamptz,
    stop_reason text, goal text, max_steps integer NOT NULL, attempt integer NOT NULL DEFAULT 0,
    steps_taken integer NOT NULL DEFAULT 0, screens_discovered integer NOT NULL DEFAULT 0,
    transitions_discovered integer NOT NULL DEFAULT 0, last_event_seq integer NOT NULL);
CREATE INDEX IF NOT EXISTS runs_status_idx ON runs (status, created_at);
CREATE INDEX IF NOT EXISTS runs_tenant_idx ON runs (tenant_id, created_at DESC);
"""


class RunsView(PostgresTrackingRecorder):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(SQL(CREATE_RUNS))

    def apply(self, change: RowChange, app_config: dict[str, Any] | None, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            if app_config is not None:
                curs.execute(
                    "INSERT INTO app_configs VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (change.set["app_config_id"], app_config["apkPath"], app_config["packageName"],
                     app_config["appActivity"], app_config["appiumServerUrl"], change.set["created_at"]),
                )
                self._insert_run(curs, change)
            else:
                self._update_run(curs, change)
            self._insert_tracking(curs, tracking)

    def track_only(self, tracking: Tracking) -> None:
        self.insert_tracking(tracking)

    @staticmethod
    def _insert_run(curs: Any, change: RowChange) -> None:
        row = {"run_id": change.run_id, **change.set}
        statement = SQL("INSERT INTO runs ({}) VALUES ({})").format(
            SQL(", ").join(map(Identifier, row)), SQL(", ").join(SQL("%s") for _ in row))
        curs.execute(statement, list(row.values()))

    @staticmethod
    def _update_run(curs: Any, change: RowChange) -> None:
        sets = [SQL("{} = %s").format(Identifier(k)) for k in change.set]
        adds = [SQL("{0} = {0} + %s").format(Identifier(k)) for k in change.add]
        statement = SQL("UPDATE runs SET {} WHERE run_id = %s").format(SQL(", ").join(sets + adds))
        curs.execute(statement, [*change.set.values(), *change.add.values(), change.run_id])

    # Queries

    def get_run_row(self, run_id: str) -> dict[str, Any] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT r.*, a.apk_path, a.package_name, a.app_activity, a.appium_server_url "
                "FROM runs r JOIN app_configs a USING (app_config_id) WHERE run_id = %s", (run_id,))
            return curs.fetchone()

    def list_runs(self, tenant_id: str | None, status: str | None, limit: int, before: str | None) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT * FROM runs WHERE (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s) "
                "AND (%(status)s::text IS NULL OR status = %(status)s) "
                "AND (%(before)s::text IS NULL OR run_id < %(before)s) "
                "ORDER BY run_id DESC LIMIT %(limit)s",
                {"tenant": tenant_id, "status": status, "limit": limit, "before": before})
            return curs.fetchall()

    def run_ids_with_status(self, status: str) -> list[str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT run_id FROM runs WHERE status = %s ORDER BY run_id", (status,))
            return [row["run_id"] for row in curs.fetchall()]

    def drop_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DROP TABLE IF EXISTS runs, app_configs, {}").format(
                Identifier(self.tracking_table_name)))


def open_runs_view(env: dict[str, str]) -> RunsView:
    """The runs view on its own connection pool."""
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment

    factory = InfrastructureFactory.construct(env=Environment("runs_projection", env))
    return factory.tracking_recorder(RunsView)


def queued_run_ids(env: dict[str, str]) -> list[str]:
    """What a restarted JobQueue offers again: runs still waiting for a device."""
    view = open_runs_view(env)
    try:
        return view.run_ids_with_status("queued")
    finally:
        view.datastore.close()
