"""What the JobQueue reads and writes in PostgreSQL: its leases, the runs that still need a device,
and the event store's notification log of runs being queued (requested, or resumed from a pause)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from ulid import ULID

from domain.application import RunService
from domain.run import QUEUED, Run
from storage.leases import LeaseStore, StoredLease
from storage.log_follower import follow_pages
from storage.postgres import event_store_env
from storage.runs_view import open_runs_view

REQUESTED, RESUMED = get_topic(Run.Requested), get_topic(Run.Resumed)


class QueueStore:
    def __init__(self, database_url: str) -> None:
        self.leases = LeaseStore(database_url)
        self.runs = open_runs_view(event_store_env(database_url))
        self.events = RunService(env=event_store_env(database_url))

    def close(self) -> None:
        self.leases.close()
        self.runs.datastore.close()
        self.events.close()

    def live_leases(self) -> list[StoredLease]:
        return self.leases.live()

    def unfinished_run_ids(self) -> list[str]:
        """Queued and running runs, as the runs projection sees them (it may lag a little)."""
        return self.runs.run_ids_with_status("queued") + self.runs.run_ids_with_status("running")

    def projected_position(self) -> int | None:
        """The last notification the runs table reflects: what follows it is in the log only."""
        return self.runs.max_tracking_id(RunService.name)

    def queuing_pages(self, gt: int | None, stopping: threading.Event) -> Iterator[Sequence[Notification]]:
        """The requests and resumes stored after `gt`, a page at a time (LISTEN/NOTIFY)."""
        return follow_pages(self.events.recorder, gt, (REQUESTED, RESUMED), stopping)

    def queued_by(self, notification: Notification) -> str | None:
        """The run a request queues; a resume queues its run only when it was paused (a withdrawn
        pause leaves the run with its worker, and a second worker must not take it over)."""
        if notification.topic == RESUMED and self.events.mapper.to_domain_event(notification).status != QUEUED:
            return None
        return str(ULID.from_uuid(notification.originator_id))
