"""What the JobQueue reads and writes in PostgreSQL: its leases, and the runs that still need a device."""

from __future__ import annotations

from storage.leases import LeaseStore, StoredLease
from storage.postgres import event_store_env
from storage.runs_view import open_runs_view


class QueueStore:
    def __init__(self, database_url: str) -> None:
        self.leases = LeaseStore(database_url)
        self.runs = open_runs_view(event_store_env(database_url))

    def close(self) -> None:
        self.leases.close()
        self.runs.datastore.close()

    def live_leases(self) -> list[StoredLease]:
        return self.leases.live()

    def unfinished_run_ids(self) -> list[str]:
        """Queued and running runs, as the runs projection sees them (it may lag a little)."""
        return self.runs.run_ids_with_status("queued") + self.runs.run_ids_with_status("running")
