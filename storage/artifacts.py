"""Run artifacts (page sources, screenshots) in PostgreSQL, content-addressed.

They live in the database rather than on a worker's disk so that any API
replica on any node can serve them. Identical artifacts (a screen seen twice)
are stored once.
"""

from __future__ import annotations

import hashlib

from psycopg_pool import ConnectionPool

CREATE = """
CREATE TABLE IF NOT EXISTS artifacts (
    artifact_id text PRIMARY KEY, media_type text NOT NULL, content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())
"""


class ArtifactStore:
    def __init__(self, database_url: str, max_size: int = 2) -> None:
        self.pool = ConnectionPool(
            database_url, min_size=0, max_size=max_size, open=True, timeout=10,
            check=ConnectionPool.check_connection,  # a connection that died with a database restart is replaced
            kwargs={"connect_timeout": 5})

    def put(self, content: bytes, media_type: str) -> str:
        artifact_id = hashlib.sha256(content).hexdigest()[:32]
        with self.pool.connection() as conn:
            conn.execute("INSERT INTO artifacts (artifact_id, media_type, content) VALUES (%s, %s, %s) "
                         "ON CONFLICT DO NOTHING", (artifact_id, media_type, content))
        return artifact_id

    def get(self, artifact_id: str) -> tuple[bytes, str] | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT content, media_type FROM artifacts WHERE artifact_id = %s",
                               (artifact_id,)).fetchone()
        return (bytes(row[0]), row[1]) if row else None

    def close(self) -> None:
        self.pool.close()
