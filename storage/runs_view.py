"""The `runs` and `app_configs` tables: a tracked projection of the run events.

A page of events' row changes and its tracking record commit in one transaction,
so every notification is applied exactly once, even when a runner restarts.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.sql import SQL, Identifier

from domain.projections import RowChange
from domain.run import STATUSES

RUN_COLUMNS = (
    "run_id", "tenant_id", "project_id", "app_config_id", "status", "created_at", "updated_at",
    "processing_by", "lease_expires_at", "heartbeat_at", "started_at", "finished_at",
    "cancel_requested_at", "stop_reason", "goal", "max_steps", "attempt", "steps_taken",
    "screens_discovered", "transitions_discovered", "last_event_seq", "policy",
    "findings", "memory", "version_code", "version_name",
)

CREATE_RUNS = """
CREATE TABLE IF NOT EXISTS app_configs (
    app_config_id text PRIMARY KEY, apk_path text NOT NULL, package_name text NOT NULL,
    app_activity text NOT NULL, appium_server_url text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id text PRIMARY KEY, tenant_id text NOT NULL, project_id text NOT NULL,
    app_config_id text NOT NULL REFERENCES app_configs (app_config_id),
    status text NOT NULL CONSTRAINT runs_status_check CHECK (status IN ({statuses})),
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    processing_by text, lease_expires_at timestamptz, heartbeat_at timestamptz,
    started_at timestamptz, finished_at timestamptz, cancel_requested_at timestamptz,
    stop_reason text, goal text, max_steps integer NOT NULL, attempt integer NOT NULL DEFAULT 0,
    steps_taken integer NOT NULL DEFAULT 0, screens_discovered integer NOT NULL DEFAULT 0,
    transitions_discovered integer NOT NULL DEFAULT 0, last_event_seq integer NOT NULL,
    policy text NOT NULL DEFAULT 'dfs', findings integer NOT NULL DEFAULT 0);
-- A table created before runs chose their policy gains the column (its runs were all dfs).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS policy text NOT NULL DEFAULT 'dfs';
-- A table created before findings gains their count (0 until a replay counts them: drop and rebuild).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS findings integer NOT NULL DEFAULT 0;
-- Runs that remember (DESIGN.md "Memory across runs"): older rows are cold and of no known version.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS memory text NOT NULL DEFAULT 'cold';
ALTER TABLE runs ADD COLUMN IF NOT EXISTS version_code bigint;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS version_name text;
CREATE INDEX IF NOT EXISTS runs_status_idx ON runs (status, created_at);
CREATE INDEX IF NOT EXISTS runs_tenant_idx ON runs (tenant_id, created_at DESC);
-- A table created before a status existed (`paused`) accepts it from now on.
ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ({statuses}));
""".format(statuses=", ".join(f"'{status}'" for status in STATUSES))


# Leases change with every heartbeat and live beside the events (storage/leases.py):
# a running run's row shows its live lease.
SELECT_WITH_LEASES = (
    "SELECT r.*, a.apk_path, a.package_name, a.app_activity, a.appium_server_url, "
    "l.worker_id AS live_worker_id, l.lease_expires_at AS live_lease_expires_at, l.heartbeat_at AS live_heartbeat_at "
    "FROM runs r JOIN app_configs a USING (app_config_id) LEFT JOIN run_leases l USING (run_id) "
)


def with_live_lease(row: dict[str, Any]) -> dict[str, Any]:
    worker, expires, heartbeat = row.pop("live_worker_id"), row.pop("live_lease_expires_at"), row.pop("live_heartbeat_at")
    if row["status"] == "running" and worker is not None:
        row["processing_by"], row["lease_expires_at"] = worker, expires
        row["heartbeat_at"] = max(filter(None, (row["heartbeat_at"], heartbeat)))
    return row


class RunsView(PostgresTrackingRecorder):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(SQL(CREATE_RUNS))
        self.stored_app_configs: set[str] = set()  # committed by this view: no insert needed again

    def apply(self, changes: Sequence[tuple[RowChange, dict[str, Any] | None]], tracking: Tracking) -> None:
        """A page of the log in one transaction: each row change in order (with a new run's app config),
        then the page's position."""
        new_configs = set()  # most runs name an app seen before: inserted once per process
        # One round trip for the page's statements: they return nothing to wait for (an error raises at the end)
        with self.datastore.transaction(commit=True) as curs, curs.connection.pipeline():
            for change, app_config in changes:
                if app_config is None:
                    self._update_run(curs, change)
                    continue
                app_config_id = change.set["app_config_id"]
                if app_config_id not in self.stored_app_configs and app_config_id not in new_configs:
                    curs.execute(
                        "INSERT INTO app_configs VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        (app_config_id, app_config["apkPath"], app_config["packageName"],
                         app_config["appActivity"], app_config["appiumServerUrl"], change.set["created_at"]),
                    )
                    new_configs.add(app_config_id)
                self._insert_run(curs, change)
            self._insert_tracking(curs, tracking)
        self.stored_app_configs |= new_configs  # committed

    @staticmethod
    def _insert_run(curs: Any, change: RowChange) -> None:
        row = {"run_id": change.run_id, **change.set}
        curs.execute(_insert_statement(tuple(row)), list(row.values()))

    @staticmethod
    def _update_run(curs: Any, change: RowChange) -> None:
        curs.execute(_update_statement(tuple(change.set), tuple(change.add)),
                     [*change.set.values(), *change.add.values(), change.run_id])

    # Queries

    def get_run_row(self, run_id: str) -> dict[str, Any] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SELECT_WITH_LEASES + "WHERE r.run_id = %s", (run_id,))
            row = curs.fetchone()
        return with_live_lease(row) if row else None

    def list_runs(self, tenant_id: str | None, status: str | None, limit: int, before: str | None) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SELECT_WITH_LEASES + "WHERE (%(tenant)s::text IS NULL OR r.tenant_id = %(tenant)s) "
                "AND (%(status)s::text IS NULL OR r.status = %(status)s) "
                "AND (%(before)s::text IS NULL OR r.run_id < %(before)s) "
                "ORDER BY r.run_id DESC LIMIT %(limit)s",
                {"tenant": tenant_id, "status": status, "limit": limit, "before": before})
            return [with_live_lease(row) for row in curs.fetchall()]

    def drop_tables(self) -> None:
        self.stored_app_configs.clear()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DROP TABLE IF EXISTS runs, app_configs, {}").format(
                Identifier(self.tracking_table_name)))


# Composed once per shape of change (each kind of event has one), not once per event.

@lru_cache(maxsize=64)
def _insert_statement(columns: tuple[str, ...]) -> str:
    return SQL("INSERT INTO runs ({}) VALUES ({})").format(
        SQL(", ").join(map(Identifier, columns)), SQL(", ").join(SQL("%s") for _ in columns)).as_string()


@lru_cache(maxsize=64)
def _update_statement(sets: tuple[str, ...], adds: tuple[str, ...]) -> str:
    assignments = [SQL("{} = %s").format(Identifier(k)) for k in sets] + \
                  [SQL("{0} = {0} + %s").format(Identifier(k)) for k in adds]
    return SQL("UPDATE runs SET {} WHERE run_id = %s").format(SQL(", ").join(assignments)).as_string()


def open_runs_view(env: dict[str, str]) -> RunsView:
    """The runs view on its own connection pool."""
    from eventsourcing.persistence import InfrastructureFactory
    from eventsourcing.utils import Environment

    factory = InfrastructureFactory.construct(env=Environment("runs_projection", env))
    return factory.tracking_recorder(RunsView)
