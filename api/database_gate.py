"""Answers 503 at once while PostgreSQL is unreachable, instead of letting each request
wait out the store's connection retries (tens of seconds)."""

from __future__ import annotations

import threading

from storage.postgres import is_reachable

PROBE_SECONDS = 0.5


class DatabaseUnavailable(Exception):
    pass


class DatabaseGate:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.available = is_reachable(database_url)
        self.changed = threading.Event()
        threading.Thread(target=self._probe_forever, name="database-gate", daemon=True).start()

    def check(self) -> None:
        """Refuses at once while the database is down; looks again before refusing, so a
        request right after it came back is not turned away on the probe's stale word."""
        if not self.available:
            self.available = is_reachable(self.database_url, timeout=1.0)
        if not self.available:
            raise DatabaseUnavailable("the database is unavailable; try again shortly")

    def _probe_forever(self) -> None:
        while not self.changed.wait(PROBE_SECONDS):
            self.available = is_reachable(self.database_url, timeout=1.0)
