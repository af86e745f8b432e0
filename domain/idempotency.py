"""Idempotent start: a tenant's `Idempotency-Key` names at most one run for 24 hours.

The key is an aggregate of its own whose id is derived from (tenant, key), saved
in the same transaction as the run it names. The event store's unique
(originator_id, version) lets exactly one of any number of concurrent starts with
one key commit; the others fail with IntegrityError and read the key to answer
with the run that won.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

KEY_NAMESPACE = uuid.UUID("2d0f8c52-4b0e-4c4e-9a77-1f0b7c1c6a11")
KEY_LIFETIME = timedelta(hours=24)


class IdempotencyConflict(Exception):
    """The key was used by the same tenant for a request with another body."""


def key_id(tenant_id: str, key: str) -> UUID:
    return uuid.uuid5(KEY_NAMESPACE, json.dumps([tenant_id, key]))


READ_BY_THE_SERVICE = frozenset({"manifest", "app_version"})  # from the app's file, not sent by the caller
LATER_FIELDS = {"permissions": "grant", "avoid": (), "capabilities": {}, "memory": "cold"}


def body_digest(request: Any) -> str:
    """What "the same body" means: every field of the run request (a dataclass) but the APK's manifest,
    which the service reads, the caller does not send (and leaving it out keeps older keys' digests). Fields
    added since count only when set to other than their default: an older key's digest stays as it was."""
    fields = {name: value for name, value in asdict(request).items() if name not in READ_BY_THE_SERVICE}
    for name, default in LATER_FIELDS.items():
        if fields.get(name) == default:
            del fields[name]
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Admission:
    """A start's answer: the run, and whether this request created it."""

    run_id: UUID
    created_at: datetime
    created: bool


class IdempotencyKey(Aggregate):
    @event("Used")
    def __init__(self, id: UUID, run_id: UUID, digest: str, run_created_at: datetime) -> None:
        self.run_id, self.digest, self.run_created_at = run_id, digest, run_created_at

    def is_expired(self, now: datetime) -> bool:
        return now - self.run_created_at > KEY_LIFETIME

    def answer(self, digest: str) -> Admission:
        """The run this key names, for a repeat of the same request."""
        if digest != self.digest:
            raise IdempotencyConflict("Idempotency-Key was already used with a different request body")
        return Admission(self.run_id, self.run_created_at, created=False)

    def reuse(self, run_id: UUID, digest: str, run_created_at: datetime) -> None:
        """An expired key may name a new run."""
        self._reused(run_id, digest, run_created_at)

    @event("Reused")
    def _reused(self, run_id: UUID, digest: str, run_created_at: datetime) -> None:
        self.run_id, self.digest, self.run_created_at = run_id, digest, run_created_at
