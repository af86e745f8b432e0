"""Retries with backoff on 503 and on connection errors, and streams that resume after a drop,
against a real local HTTP server that misbehaves as each test scripts it."""

from __future__ import annotations

import asyncio
import time

import pytest

from runservice_client import AsyncRunClient, RunClient, RunServiceError
from tests.client.servers import Handler, scripted_server
from tests.fixtures.appium import free_port

RUN = "01KAAAAAAAAAAAAAAAAAAAAAAA"
STARTED = {"runId": RUN, "status": "PENDING", "createdAt": "2026-11-29T00:00:00.000Z",
           "streamUrl": f"/run/{RUN}/stream"}
SPEC = {"apk_path": "/apps/notes.json", "appium_server_url": "http://127.0.0.1:4723",
        "package_name": "com.example.notes", "app_activity": ".ConsentActivity"}
UNAVAILABLE = {"code": "unavailable", "message": "the database is unavailable; try again shortly", "details": None}


def busy_twice(handler: Handler, count: int) -> None:
    if count < 2:
        handler.send_json(503, UNAVAILABLE)
    else:
        handler.send_json(201, STARTED)


def test_start_retries_a_503_with_the_same_idempotency_key():
    with scripted_server(busy_twice) as (url, seen), RunClient(url) as client:
        run = client.start(**SPEC)

    assert run.id == RUN
    keys = [headers["Idempotency-Key"] for headers in seen.of("POST", "/run")]
    assert len(keys) == 3 and len(set(keys)) == 1 and keys[0]  # made up once, sent on every try


def test_a_given_idempotency_key_is_sent_as_is():
    with scripted_server(busy_twice) as (url, seen), RunClient(url) as client:
        client.start(**SPEC, idempotency_key="cell-7")

    assert {headers["Idempotency-Key"] for headers in seen.of("POST", "/run")} == {"cell-7"}


def test_the_async_client_retries_alike():
    async def start() -> str:
        async with AsyncRunClient(url) as client:
            return (await client.start(**SPEC)).id

    with scripted_server(busy_twice) as (url, seen):
        assert asyncio.run(start()) == RUN
    assert len(seen.of("POST", "/run")) == 3


def test_a_service_that_stays_unavailable_gives_up_with_its_error():
    with scripted_server(lambda handler, _: handler.send_json(503, UNAVAILABLE)) as (url, seen):
        with RunClient(url, retries=3) as client, pytest.raises(RunServiceError) as caught:
            client.get(RUN)

    assert (caught.value.status, caught.value.code) == (503, "unavailable")
    assert len(seen.requests) == 3


def test_a_refusal_is_not_retried():
    refusal = {"code": "not_found", "message": f"run {RUN} not found", "details": None}
    with scripted_server(lambda handler, _: handler.send_json(404, refusal)) as (url, seen):
        with RunClient(url) as client, pytest.raises(RunServiceError) as caught:
            client.cancel(RUN)

    assert (caught.value.status, caught.value.code, caught.value.message) == (404, "not_found", f"run {RUN} not found")
    assert len(seen.requests) == 1


def test_an_unreachable_service_is_the_same_error_type_naming_the_url():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    with RunClient(url, retries=2) as client, pytest.raises(RunServiceError) as caught:
        client.get(RUN)
    assert (caught.value.status, caught.value.code) == (None, "unavailable")
    assert url in caught.value.message


def event(seq: int, name: str = "agent.node.started") -> tuple[int, str, dict]:
    return seq, name, {"runId": RUN, "seq": seq, "stepOrdinal": seq}


def dropping_stream(handler: Handler, count: int) -> None:
    """The first connection dies after event 3; the next one resumes after the id it is given."""
    if count == 0:
        handler.send_events([event(1, "run.queued"), event(2), event(3)], end="drop")
    else:
        after = int(handler.headers["Last-Event-ID"])
        handler.send_events([event(seq) for seq in range(after + 1, 5)] + [event(5, "run.completed")], comments=2)


def test_a_dropped_stream_resumes_after_the_last_event_without_gaps_or_duplicates():
    with scripted_server(dropping_stream) as (url, seen), RunClient(url) as client:
        events = list(client.events(RUN))

    assert [e.seq for e in events] == [1, 2, 3, 4, 5] and events[-1].is_terminal
    assert [headers["Last-Event-ID"] for headers in seen.of("GET", f"/run/{RUN}/stream")] == ["0", "3"]


def test_the_async_stream_resumes_alike():
    async def seqs() -> list[int]:
        async with AsyncRunClient(url) as client:
            return [e.seq async for e in client.events(RUN, after=0)]

    with scripted_server(dropping_stream) as (url, seen):
        assert asyncio.run(seqs()) == [1, 2, 3, 4, 5]
    assert [headers["Last-Event-ID"] for headers in seen.of("GET", "/run/")] == ["0", "3"]


def closing_early(handler: Handler, count: int) -> None:
    """A stream that ends cleanly before the run's end (a restarting server): the client asks how the
    run stands, sees it still running, and reconnects."""
    if handler.path.startswith(f"/run/{RUN}/stream"):
        after = int(handler.headers["Last-Event-ID"])
        handler.send_events([event(after + 1, "run.completed" if after else "run.queued")])
    else:
        handler.send_json(200, {"runId": RUN, "status": "running", "lastEventSeq": 1})


def test_a_stream_closed_before_the_end_is_followed_again():
    with scripted_server(closing_early) as (url, seen), RunClient(url) as client:
        assert [e.name for e in client.events(RUN)] == ["run.queued", "run.completed"]
    assert [m for m, _, _ in seen.requests] == ["GET", "GET", "GET"]  # stream, state, stream


def one_run_never_ends(handler: Handler, count: int) -> None:
    """Run A is running forever (its stream only keeps alive); run B does not exist."""
    if handler.path.startswith("/run/A/stream"):
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.end_headers()
        try:
            while True:  # until the client hangs up
                handler.wfile.write(b": keep-alive\n\n")
                handler.wfile.flush()
                time.sleep(0.2)  # the keep-alive interval of this server
        except OSError:
            handler.close_connection = True
    elif handler.path == "/run/A":
        handler.send_json(200, {"runId": "A", "status": "running", "lastEventSeq": 7})
    else:
        handler.send_json(404, {"code": "not_found", "message": "no run with id B", "details": None})


def test_wait_all_with_an_unknown_run_raises_at_once_not_after_the_others():
    with scripted_server(one_run_never_ends) as (url, seen), RunClient(url) as client:
        with pytest.raises(RunServiceError) as unknown:
            client.wait_all(["A", "B"], progress=False)
        assert (unknown.value.status, unknown.value.message) == (404, "no run with id B")
