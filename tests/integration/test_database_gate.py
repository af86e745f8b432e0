"""The API's database gate (api/database_gate.py) against a PostgreSQL of its own, stopped and started:
whoever finds the database down (a /health probe too) makes the next request's check refuse at once."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.database_gate import DatabaseGate, DatabaseUnavailable
from storage.postgres import EmbeddedPostgres


@pytest.fixture
def server() -> Iterator[EmbeddedPostgres]:
    home = Path(tempfile.mkdtemp(prefix="runservice-gate-"))  # not under pytest's basetemp: see fixtures/postgres.py
    postgres = EmbeddedPostgres(home / "data").start()
    yield postgres
    postgres.stop(mode="immediate")
    shutil.rmtree(home, ignore_errors=True)


def test_a_probe_that_finds_the_database_down_refuses_the_next_check_and_one_that_finds_it_back_lets_it_in(server):
    gate = DatabaseGate(server.url)
    gate.changed.set()  # no background probe: only this test's probes change what the gate knows
    assert gate.available
    gate.check()

    server.stop()
    assert gate.probe() is False  # what GET /health does
    with pytest.raises(DatabaseUnavailable):
        gate.check()

    server.start()
    gate.check()  # looks again before refusing: let in as soon as the database is back
    assert gate.available
