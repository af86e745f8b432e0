"""The event store's writes: a commit's events in one round trip, from a thread
(eventsourcing's recorder) or from an event loop (the API's admissions). Also where
a run's latest event is in the log, which a view must reach to show all of the run.

eventsourcing's recorder sends a commit's statements (BEGIN, the table lock, NOTIFY, the
INSERT, COMMIT) in a pipeline that waits on the server several times. In a process where
other threads hold the GIL (the API replica's event loops), each of those waits costs a GIL
hand-off: the write cost the replica about four times the CPU it costs alone. Here the same
statements, composed once, go in one query string (client-side parameters): PostgreSQL runs a
multi-statement query in one implicit transaction, so an error rolls all of it back, and the
commit is one send and one receive. The events go as four column arrays, so the string needs
no composite type registered on the connection; each array goes as the text of PostgreSQL's
array input syntax, which psycopg quotes as one string (its own adaptation of lists is Python
code: 116 us a commit of three runs, against 24 us).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
import tenacity
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import AsyncClientCursor, ClientCursor
from psycopg.sql import SQL, Identifier

from storage.postgres import CONNECT_TIMEOUT_SECONDS


class OneTripApplicationRecorder(PostgresApplicationRecorder):
    """Chosen by the event store's settings (storage/postgres.py: APPLICATION_RECORDER_TOPIC)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        insert = SQL("INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
                     "SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[]) "
                     "RETURNING notification_id").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type))
        statements = [*self.lock_table_statements, SQL("NOTIFY {0}").format(Identifier(self.channel_name)), insert]
        self.write_statement = "; ".join(s.as_string() for s in statements)
        self.last_notification_statement = SQL(
            "SELECT notification_id FROM {schema}.{table} WHERE originator_id = %s "
            "AND (cardinality(%s::text[]) = 0 OR topic = ANY(%s::text[])) "
            "ORDER BY originator_version DESC LIMIT 1").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)).as_string()

    def insert_events(self, stored_events: Sequence[StoredEvent], *, tracking: Tracking | None = None,
                      **kwargs: Any) -> Sequence[int] | None:
        # An application's save always passes `tracking`: it is None but for a process application's
        if not stored_events or tracking is not None or kwargs:  # eventsourcing's way
            return super().insert_events(stored_events, tracking=tracking, **kwargs)
        return self._insert_in_one_trip(stored_events)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as eventsourcing's reads
    def last_notification_id(self, originator_id: UUID, topics: Sequence[str] = ()) -> int | None:
        """The position in the log of the aggregate's latest event (by its primary key's index), or of its
        latest event of `topics`: a view that follows only those tracks no later event of the aggregate."""
        with self.datastore.get_connection() as conn:
            row = conn.execute(self.last_notification_statement, (originator_id, list(topics), list(topics))).fetchone()
        return row["notification_id"] if row else None

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as eventsourcing's insert_events
    def _insert_in_one_trip(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        with self.datastore.get_connection() as conn, ClientCursor(conn) as curs:
            curs.execute(self.write_statement, array_literals(stored_events))
            skip_to_last_result(curs)
            return [row["notification_id"] for row in curs.fetchall()]


CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)


class AsyncEventWriter:
    """The recorder's one-trip write on an asyncio connection of its own: a caller on an event loop
    writes without a thread hop. Commits from one writer go one at a time (one connection)."""

    def __init__(self, recorder: OneTripApplicationRecorder, database_url: str) -> None:
        self.write_statement = recorder.write_statement
        self.database_url = database_url
        self.connection: psycopg.AsyncConnection | None = None

    async def insert_events(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The events' notification ids; a broken connection is replaced and the commit tried again
        (as eventsourcing's recorders do), psycopg's error after the last attempt. The first attempt goes
        without tenacity, whose bookkeeping costs about 55 us a call: 15% of a commit's CPU here."""
        try:
            return await self._write(stored_events)
        except CONNECTION_ERRORS:
            return await self._write_again(stored_events)

    @tenacity.retry(retry=tenacity.retry_if_exception_type(CONNECTION_ERRORS),
                    stop=tenacity.stop_after_attempt(9), wait=tenacity.wait_fixed(0.2), reraise=True)
    async def _write_again(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        return await self._write(stored_events)

    async def _write(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        if self.connection is None or self.connection.closed:
            self.connection = await psycopg.AsyncConnection.connect(
                self.database_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            async with AsyncClientCursor(self.connection) as curs:
                await curs.execute(self.write_statement, array_literals(stored_events))
                skip_to_last_result(curs)
                return [notification_id for notification_id, in await curs.fetchall()]
        except CONNECTION_ERRORS:
            await self.connection.close()  # the next attempt connects again
            raise

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()


def array_literals(stored_events: Sequence[StoredEvent]) -> tuple[str, str, str, str]:
    """The events' columns as array literals (ids, bigint[], text[], bytea[]): versions need no quoting,
    ids and topics are quoted elements, a state goes in bytea's hex format."""
    return ("{%s}" % ",".join(_element(str(e.originator_id)) for e in stored_events),
            "{%s}" % ",".join(str(int(e.originator_version)) for e in stored_events),
            "{%s}" % ",".join(_element(e.topic) for e in stored_events),
            "{%s}" % ",".join('"\\\\x%s"' % e.state.hex() for e in stored_events))


def _element(text: str) -> str:
    """A double-quoted array element: inside the quotes only a backslash and a double quote are special."""
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def skip_to_last_result(curs: ClientCursor[Any] | AsyncClientCursor[Any]) -> None:
    """The INSERT's result comes last, after the lock's and the NOTIFY's."""
    while curs.nextset():
        pass
