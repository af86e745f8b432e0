"""Idempotent start on every backend: mixed into RunServiceCases (tests/run_service_cases.py),
so each backend's module runs these too with its `new_service` fixture."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from ulid import ULID

from domain.application import RunRequest, RunService
from domain.idempotency import Admission, IdempotencyConflict, IdempotencyKey, body_digest, key_id

CONCURRENT_STARTS = 20


def request(**overrides: Any) -> RunRequest:
    fields: dict[str, Any] = {"apk_path": "/apps/notes.json", "appium_server_url": "http://127.0.0.1:4723",
                              "package_name": "com.example.notes", "app_activity": ".ConsentActivity"}
    return RunRequest(**{**fields, **overrides})


def runs_requested(runs: RunService) -> int:
    """Runs in the store, counted from the notification log (not through any cache)."""
    notifications = runs.recorder.select_notifications(start=None, limit=100_000)
    return sum(n.topic.endswith("Run.Requested") for n in notifications)


def admit(runs: RunService, req: RunRequest, key: str | None) -> Admission | IdempotencyConflict:
    return runs.request_runs([(req, key)])[0]


class IdempotentStartCases:
    def test_a_repeated_key_answers_the_run_it_created(self, runs):
        first = admit(runs, request(), "key-1")
        again = admit(runs, request(), "key-1")

        assert first.created and not again.created
        assert (again.run_id, again.created_at) == (first.run_id, first.created_at)
        assert runs.get_run(str(ULID.from_uuid(first.run_id))).status == "queued"
        assert runs_requested(runs) == 1

    def test_the_same_key_with_another_body_is_a_conflict_and_starts_nothing(self, runs):
        admit(runs, request(max_steps=5), "key-2")

        other = admit(runs, request(max_steps=6), "key-2")

        assert isinstance(other, IdempotencyConflict) and "different request body" in str(other)
        assert runs_requested(runs) == 1

    def test_keys_are_per_tenant_and_no_key_always_starts_a_run(self, runs):
        a = admit(runs, request(tenant_id="acme"), "shared")
        b = admit(runs, request(tenant_id="globex"), "shared")
        free = [admit(runs, request(), None) for _ in range(2)]

        assert a.created and b.created and a.run_id != b.run_id
        assert all(f.created for f in free) and free[0].run_id != free[1].run_id
        assert runs_requested(runs) == 4

    def test_one_batch_commits_together_and_a_key_twice_in_it_still_names_one_run(self, runs):
        answers = runs.request_runs([(request(), "dup"), (request(), None), (request(), "dup"),
                                     (request(max_steps=9), "dup")])

        first, plain, repeat, conflict = answers
        assert first.created and plain.created and not repeat.created
        assert repeat.run_id == first.run_id != plain.run_id
        assert isinstance(conflict, IdempotencyConflict)
        assert runs_requested(runs) == 2

    def test_concurrent_starts_with_one_key_create_exactly_one_run(self, new_service):
        services = [new_service() for _ in range(4)]  # like several API replicas on one store
        barrier = threading.Barrier(CONCURRENT_STARTS)

        def start(i: int) -> Admission | IdempotencyConflict:
            barrier.wait()
            return admit(services[i % len(services)], request(), "burst")

        with ThreadPoolExecutor(CONCURRENT_STARTS) as pool:
            answers = list(pool.map(start, range(CONCURRENT_STARTS), timeout=60))

        assert all(isinstance(a, Admission) for a in answers), answers
        assert len({a.run_id for a in answers}) == 1
        assert sum(a.created for a in answers) == 1
        assert runs_requested(services[0]) == 1

    def test_an_expired_key_may_name_a_new_run(self, runs):
        old_run = ULID().to_uuid()
        day_ago = datetime.now(timezone.utc) - timedelta(hours=24, minutes=1)
        runs.save(IdempotencyKey(id=key_id("local", "old"), run_id=old_run, digest=body_digest(request()),
                                 run_created_at=day_ago))

        fresh = admit(runs, request(max_steps=7), "old")
        again = admit(runs, request(max_steps=7), "old")

        assert fresh.created and fresh.run_id != old_run
        assert not again.created and again.run_id == fresh.run_id
