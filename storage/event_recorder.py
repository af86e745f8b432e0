"""The event store's recorder: eventsourcing's PostgreSQL application recorder, writing a
commit's events in one round trip.

eventsourcing's recorder sends a commit's statements (BEGIN, the table lock, NOTIFY, the
INSERT, COMMIT) in a pipeline that waits on the server several times. In a process where
other threads hold the GIL (the API replica's event loops), each of those waits costs a GIL
hand-off: the write cost the replica about four times the CPU it costs alone. Here the same
statements, composed once, go in one query string (client-side parameters): PostgreSQL runs a
multi-statement query in one implicit transaction, so an error rolls all of it back, and the
commit is one send and one receive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import ClientCursor
from psycopg.sql import SQL, Identifier


class OneTripApplicationRecorder(PostgresApplicationRecorder):
    """Chosen by the event store's settings (storage/postgres.py: APPLICATION_RECORDER_TOPIC)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        statements = [*self.lock_table_statements, SQL("NOTIFY {0}").format(Identifier(self.channel_name)),
                      self.insert_events_statement]
        self.write_statement = "; ".join(s.as_string() for s in statements)

    def insert_events(self, stored_events: Sequence[StoredEvent], *, tracking: Tracking | None = None,
                      **kwargs: Any) -> Sequence[int] | None:
        # An application's save always passes `tracking`: it is None but for a process application's
        if not stored_events or tracking is not None or kwargs:  # eventsourcing's way
            return super().insert_events(stored_events, tracking=tracking, **kwargs)
        return self._insert_in_one_trip(stored_events)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as eventsourcing's insert_events
    def _insert_in_one_trip(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        rows = [self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
                for e in stored_events]
        with self.datastore.get_connection() as conn, ClientCursor(conn) as curs:
            curs.execute(self.write_statement, (rows,))
            while curs.nextset():  # the INSERT's result comes last
                pass
            return [row["notification_id"] for row in curs.fetchall()]
