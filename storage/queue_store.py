"""What the JobQueue reads and writes in PostgreSQL: its leases, and the runs that still need a device."""

from __future__ import annotations

from storage.leases import LeaseStore, StoredLease


class QueueStore:
    def __init__(self, database_url: str) -> None:
        self.leases = LeaseStore(database_url)

    def close(self) -> None:
        self.leases.close()

    def live_leases(self) -> list[StoredLease]:
        return self.leases.live()

    def unfinished_run_ids(self) -> list[str]:
        """Queued runs, then running ones, as the runs projection sees them (it may lag a little). Read on the
        leases' connections: a pool of its own would keep one more PostgreSQL backend (2-3 MiB) all day."""
        with self.leases.pool.connection() as conn:
            rows = conn.execute("SELECT run_id FROM runs WHERE status IN ('queued', 'running') "
                                "ORDER BY status = 'running', run_id").fetchall()
        return [run_id for (run_id,) in rows]
