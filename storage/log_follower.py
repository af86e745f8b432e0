"""Following the event store's notification log a page at a time.

eventsourcing's subscriptions hand over one notification at a time, so whoever
follows the log commits, or crosses to another thread, once per event. Here a
follower gets every notification stored since its last read as one page: it
reads, handles the page, then waits on LISTEN for the next NOTIFY. Under load
the pages grow (what was stored while the last page was handled), so the cost
per event falls: group commit on the reading side, as the API's on the writing side.

A follower may also be paced: it reads at most every PACE_SECONDS, unless someone waits for
what the log brings. The JobQueue's projections are, while no device waits for a job: under
admission load a page then holds several commits, and each projection's transaction, tracking
record and wake-up are paid once for them (the queue's CPU per admitted run 0.55 -> 0.35 ms).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Connection
from psycopg.sql import SQL, Identifier

PAGE_SIZE = 500
POLL_SECONDS = 0.1  # how soon a follower sees that it must stop
REREAD_SECONDS = 5.0  # the log is read again this often without a NOTIFY: a missed one delays, never loses
PACE_SECONDS = 0.05  # a paced follower's reads, at most this often (bigger pages: see above)


def follow_pages(recorder: PostgresApplicationRecorder, gt: int | None, topics: Sequence[str],
                 stopping: threading.Event, urgent: threading.Event | None = None,
                 pace: float = PACE_SECONDS) -> Iterator[Sequence[Notification]]:
    """The notifications of `topics` (all, if empty) stored after `gt`, page by page, until `stopping` is set.
    With `urgent`, reads are paced: a NOTIFY is read `pace` seconds after the last read at the earliest,
    unless `urgent` is set (someone waits for what the log brings) or becomes set meanwhile; one after a
    quiet spell is read at once. A lost connection raises: the caller follows again from its position."""
    statement = page_query(recorder, topics)
    with recorder.datastore.get_connection() as listener:
        # Listening before the first read (the pool's connections autocommit): nothing stored after it is missed.
        listener.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
        # The log is read at its tail, by its notification_id index. Otherwise the prepared read's generic plan,
        # made while the table was small (a fresh database, before autovacuum's first ANALYZE), scanned the
        # whole table at every read: 0.36 ms of PostgreSQL per read after a minute of admission load.
        listener.execute("SET enable_seqscan = off")
        try:
            position = gt or 0
            while not stopping.is_set():
                last_read = time.monotonic()
                page = _read_page(listener, statement, position, topics)
                if page:
                    position = page[-1].id
                    yield page
                if len(page) < PAGE_SIZE:  # a full page: catching up, read on at once
                    _wait_for_notify(listener, stopping)
                    if urgent is not None and (remaining := last_read + pace - time.monotonic()) > 0:
                        urgent.wait(remaining)
        finally:
            if not listener.broken:  # back to the pool as it came
                listener.execute("UNLISTEN *; RESET enable_seqscan")


def page_query(recorder: PostgresApplicationRecorder, topics: Sequence[str]) -> str:
    """Composed once per follower (eventsourcing's select_notifications composes its query on every read)."""
    return SQL("SELECT * FROM {0}.{1} WHERE notification_id > %s {2} ORDER BY notification_id LIMIT {3}").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name),
        SQL("AND topic = ANY(%s)") if topics else SQL(""), PAGE_SIZE).as_string()


def _read_page(conn: Connection, statement: str, position: int, topics: Sequence[str]) -> list[Notification]:
    """On the listening connection itself: a NOTIFY that arrives meanwhile waits in psycopg's backlog."""
    rows = conn.execute(statement, (position, list(topics)) if topics else (position,), prepare=True).fetchall()
    return [Notification(id=row["notification_id"], originator_id=row["originator_id"],
                         originator_version=row["originator_version"], topic=row["topic"], state=bytes(row["state"]))
            for row in rows]


def _wait_for_notify(listener: Connection, stopping: threading.Event) -> None:
    """Until a NOTIFY (then every other one already received too: one read covers them all), `stopping`,
    or REREAD_SECONDS."""
    deadline = time.monotonic() + REREAD_SECONDS
    while not stopping.is_set() and time.monotonic() < deadline:
        if any(True for _ in listener.notifies(timeout=POLL_SECONDS, stop_after=1)):
            for _ in listener.notifies(timeout=0):
                pass
            return
