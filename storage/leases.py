"""Who runs which run, until when: the JobQueue's leases, kept in PostgreSQL.

Leases change with every heartbeat, so they are operational state beside the
event store rather than events (which would bloat each run's history). A
restarted queue reads them back, and the runs API shows them live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

CREATE = """
CREATE TABLE IF NOT EXISTS run_leases (
    run_id text PRIMARY KEY, worker_id text NOT NULL,
    lease_expires_at timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL)
"""


@dataclass(frozen=True)
class StoredLease:
    run_id: str
    worker_id: str
    lease_expires_at: datetime

    def seconds_left(self) -> float:
        return max(0.0, (self.lease_expires_at - datetime.now(timezone.utc)).total_seconds())


class LeaseStore:
    def __init__(self, database_url: str) -> None:
        self.pool = ConnectionPool(
            database_url, min_size=0, max_size=2, open=True, timeout=10,
            check=ConnectionPool.check_connection,  # a connection that died with a database restart is replaced
            kwargs={"connect_timeout": 5, "autocommit": True})

    def hold(self, run_id: str, worker_id: str, seconds: float) -> None:
        """Takes or renews a lease; a heartbeat is a renewal."""
        now = datetime.now(timezone.utc)
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO run_leases VALUES (%s, %s, %s, %s) ON CONFLICT (run_id) DO UPDATE "
                "SET worker_id = excluded.worker_id, lease_expires_at = excluded.lease_expires_at, "
                "heartbeat_at = excluded.heartbeat_at", (run_id, worker_id, now + timedelta(seconds=seconds), now))

    def release(self, run_id: str) -> None:
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM run_leases WHERE run_id = %s", (run_id,))

    def live(self) -> list[StoredLease]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT run_id, worker_id, lease_expires_at FROM run_leases WHERE lease_expires_at > now()")
            return [StoredLease(**row) for row in curs.fetchall()]

    def close(self) -> None:
        self.pool.close()
