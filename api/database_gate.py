"""Answers 503 at once while PostgreSQL is unreachable, instead of letting each request
wait out the store's connection retries (tens of seconds)."""

from __future__ import annotations

import threading

import psycopg

PROBE_SECONDS = 0.5
PROBE_TIMEOUT_SECONDS = 1.0


class DatabaseUnavailable(Exception):
    pass


class DatabaseGate:
    """Probes the database twice a second on a connection of its own, kept open: a new connection
    per probe would cost PostgreSQL a new backend process each time."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.connection: psycopg.Connection | None = None
        self.lock = threading.Lock()
        self.available = False
        self.probe()
        self.changed = threading.Event()
        threading.Thread(target=self._probe_forever, name="database-gate", daemon=True).start()

    def check(self) -> None:
        """Refuses at once while the database is down; looks again before refusing, so a
        request right after it came back is not turned away on the probe's stale word."""
        if not self.available:
            self.probe()
        if not self.available:
            raise DatabaseUnavailable("the database is unavailable; try again shortly")

    def probe(self) -> bool:
        """`SELECT 1` answered; a connection that broke (a restart) is replaced at the next probe. Whoever probes
        (/health too) updates `available`: a request right after /health saw the database down is refused at once,
        not sent into the store's retries."""
        with self.lock:
            self.available = self._select_one()
            return self.available

    def _select_one(self) -> bool:
        try:
            if self.connection is None or self.connection.closed:
                self.connection = psycopg.connect(self.database_url, connect_timeout=PROBE_TIMEOUT_SECONDS,
                                                  autocommit=True)
            self.connection.execute("SELECT 1")
            return True
        except psycopg.Error:
            if self.connection is not None:
                self.connection.close()
            self.connection = None
            return False

    def _probe_forever(self) -> None:
        while not self.changed.wait(PROBE_SECONDS):
            self.probe()
