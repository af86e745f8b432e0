"""The event store's writes (storage/event_recorder.py) on PostgreSQL: a commit's events in one round
trip, from a thread or an event loop, with eventsourcing's guarantees: all or nothing, notification ids
in order, a NOTIFY per commit."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from ulid import ULID

from storage.event_recorder import AsyncEventWriter, OneTripApplicationRecorder
from tests.run_service_cases import run_request


def events(originator_id: uuid.UUID, versions: range) -> list[StoredEvent]:
    return [StoredEvent(originator_id, v, "tests:Event", f"state {v}".encode()) for v in versions]


def test_a_commit_stores_its_events_and_answers_their_notification_ids_in_order(runs):
    recorder = runs.recorder
    assert isinstance(recorder, OneTripApplicationRecorder)
    first, second = uuid.uuid4(), uuid.uuid4()
    ids = recorder.insert_events([*events(first, range(1, 4)), *events(second, range(1, 3))])
    more = recorder.insert_events(events(first, range(4, 5)))

    assert len(ids) == 5 and ids == sorted(ids) and more[0] > ids[-1]
    assert recorder.select_events(first) == events(first, range(1, 5))
    notifications = recorder.select_notifications(start=None, limit=10)
    assert [n.id for n in notifications] == [*ids, *more]
    assert [(n.originator_id, n.originator_version) for n in notifications] == [
        (first, 1), (first, 2), (first, 3), (second, 1), (second, 2), (first, 4)]


# What the array literals must carry unchanged: every quoting character of the array syntax and of SQL
TRICKY_TOPICS = ['tests:Event', 'a "quoted" topic', 'back\\slash\\', "it's", "{braces},comma", "NULL", "", " spaced ",
                 "unicode ✓ é", "line\nbreak"]
EVERY_BYTE = bytes(range(256))


def tricky_events(originator_id: uuid.UUID) -> list[StoredEvent]:
    states = [EVERY_BYTE, b"", b"\\x00", b'{"json": "state"}']
    return [StoredEvent(originator_id, version, topic, states[version % len(states)])
            for version, topic in enumerate(TRICKY_TOPICS, start=1)]


def test_any_topic_and_any_bytes_of_state_are_stored_as_given_from_a_thread_and_from_an_event_loop(runs, database_url):
    from_thread, from_loop = uuid.uuid4(), uuid.uuid4()
    runs.recorder.insert_events(tricky_events(from_thread))

    async def write() -> None:
        writer = AsyncEventWriter(runs.recorder, database_url)
        try:
            await writer.insert_events(tricky_events(from_loop))
        finally:
            await writer.close()

    asyncio.run(write())
    assert runs.recorder.select_events(from_thread) == tricky_events(from_thread)
    assert runs.recorder.select_events(from_loop) == tricky_events(from_loop)


def test_a_conflict_refuses_the_whole_commit_and_leaves_the_connection_usable(runs):
    recorder = runs.recorder
    taken = uuid.uuid4()
    recorder.insert_events(events(taken, range(1, 2)))
    fresh = uuid.uuid4()

    with pytest.raises(IntegrityError):
        recorder.insert_events([*events(fresh, range(1, 3)), *events(taken, range(1, 2))])

    assert recorder.select_events(fresh) == []  # nothing of it was stored
    assert recorder.insert_events(events(fresh, range(1, 2)))  # the next commit goes through


def test_each_commit_notifies_the_log_s_listeners(runs, database_url):
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f'LISTEN "{runs.recorder.channel_name}"')
        runs.recorder.insert_events(events(uuid.uuid4(), range(1, 3)))
        assert len(list(listener.notifies(timeout=10, stop_after=1))) == 1


REQUEST = run_request()


def test_the_application_s_saves_take_the_one_trip_write(runs, monkeypatch):
    """eventsourcing's save passes `tracking=None`: that is still a commit of events alone."""
    written = []
    one_trip = runs.recorder._insert_in_one_trip
    monkeypatch.setattr(runs.recorder, "_insert_in_one_trip", lambda stored: written.append(stored) or one_trip(stored))
    run = runs.request_run(REQUEST)

    assert [[e.originator_id for e in stored] for stored in written] == [[run.id]]
    assert runs.get_run(str(ULID.from_uuid(run.id))).id == run.id


def test_runs_written_from_an_event_loop_are_the_run_service_s_and_notified(runs, database_url):
    admissions, stored = runs.new_runs([REQUEST, REQUEST])

    async def write() -> list[int]:
        writer = AsyncEventWriter(runs.recorder, database_url)
        try:
            return await writer.insert_events(stored)
        finally:
            await writer.close()

    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f'LISTEN "{runs.recorder.channel_name}"')
        ids = asyncio.run(write())
        assert len(list(listener.notifies(timeout=10, stop_after=1))) == 1
    assert len(ids) == 2 and ids == sorted(ids)
    assert [n.id for n in runs.recorder.select_notifications(start=None, limit=10)] == ids
    for admission in admissions:
        run = runs.get_run(str(ULID.from_uuid(admission.run_id)))
        assert (run.status, run.created_on, run.app_config) == ("queued", admission.created_at, REQUEST.app_config)


def test_the_event_loop_s_writer_refuses_a_conflict_whole_and_reconnects_after_its_connection_is_killed(
        runs, database_url):
    taken, fresh = uuid.uuid4(), uuid.uuid4()

    async def scenario() -> tuple[list[int], bool]:
        writer = AsyncEventWriter(runs.recorder, database_url)
        try:
            await writer.insert_events(events(taken, range(1, 2)))
            with pytest.raises(psycopg.errors.UniqueViolation):
                await writer.insert_events([*events(fresh, range(1, 3)), *events(taken, range(1, 2))])
            killed = writer.connection.info.backend_pid
            with psycopg.connect(database_url, autocommit=True) as admin:
                assert admin.execute("SELECT pg_terminate_backend(%s)", (killed,)).fetchone()[0]
            ids = await writer.insert_events(events(fresh, range(1, 2)))
            return ids, writer.connection.info.backend_pid != killed
        finally:
            await writer.close()

    ids, reconnected = asyncio.run(scenario())
    assert len(ids) == 1 and reconnected
    assert runs.recorder.select_events(fresh) == events(fresh, range(1, 2))  # the refused commit left nothing
