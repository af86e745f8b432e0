"""One test body for RunService, run on every event store backend.

As in eventsourcing's own per-backend tests, each backend's module subclasses
`RunServiceCases` and provides the `new_service` fixture: a factory of
RunService instances that share one store (so two instances can race like two
processes). The class name has no `Test` prefix, so pytest collects the cases
only through the subclasses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from ulid import ULID

from domain.application import InvalidRunId, RunRequest, RunService
from domain.run import IllegalTransition, LeaseLost, RunAlreadyFinished, RunNotFound
from tests.idempotency_cases import IdempotentStartCases
from domain.run import Run

NewService = Callable[[], RunService]
TERMINAL = {"run.completed", "run.failed", "run.canceled"}
MALFORMED_IDS = ["not-a-ulid", "", "0" * 27, "U" * 26, "8" + "0" * 25, "01HZ-BAD", "é" * 26]
RACES = 12  # runs raced per test: enough to see both orders of a race on any backend


def run_request(**overrides: Any) -> RunRequest:
    fields: dict[str, Any] = {
        "apk_path": "/apps/notes.json", "appium_server_url": "http://127.0.0.1:4723",
        "package_name": "com.example.notes", "app_activity": ".ConsentActivity", "max_steps": 8,
        "goal": "log in", "inputs": {"username": "alice", "password": "secret"},
    }
    return RunRequest(**{**fields, **overrides})


def ulid_of(run: Any) -> str:
    return str(ULID.from_uuid(run.id))


def names(runs: RunService, run_id: str, after: int = 0) -> list[str]:
    return [e.name for e in runs.run_events(run_id, after)]


def race(*commands: Callable[[], Any]) -> list[Any]:
    """Runs the commands at the same moment on threads; each result is a value or the exception raised."""
    barrier = threading.Barrier(len(commands))
    results: list[Any] = [None] * len(commands)

    def go(i: int, command: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = command()
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(commands)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing command hangs"
    return results


def assert_well_formed(runs: RunService, run_id: str) -> list[str]:
    """Versions 1..n without gaps and exactly one terminal event, last."""
    events = runs.run_events(run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert sum(e.name in TERMINAL for e in events) == 1, [e.name for e in events]
    assert events[-1].name in TERMINAL
    return [e.name for e in events]


class RunServiceCases(IdempotentStartCases):
    @pytest.fixture
    def runs(self, new_service: NewService) -> RunService:
        return new_service()

    @pytest.fixture
    def running_id(self, runs: RunService) -> str:
        run_id = ulid_of(runs.request_run(run_request()))
        runs.start_run(run_id, "device-0", lease_seconds=10)
        return run_id

    # request and get

    def test_request_run_stores_a_queued_run_found_by_its_ulid(self, runs):
        run = runs.request_run(run_request(max_steps=3, goal=None, inputs={"q": "dune"}))
        run_id = ulid_of(run)

        found = runs.get_run(run_id)

        assert ULID.from_str(run_id).to_uuid() == found.id == run.id
        assert (found.status, found.version, found.goal, found.max_steps) == ("queued", 1, None, 3)
        assert found.inputs == {"q": "dune"}
        assert found.app_config == {"apkPath": "/apps/notes.json", "appiumServerUrl": "http://127.0.0.1:4723",
                                    "packageName": "com.example.notes", "appActivity": ".ConsentActivity"}
        assert (found.tenant_id, found.project_id) == ("local", "default")
        assert names(runs, run_id) == ["run.queued"]

    def test_every_run_has_its_own_id(self, runs):
        ids = {ulid_of(runs.request_run(run_request())) for _ in range(5)}
        assert len(ids) == 5

    def test_a_lowercase_ulid_names_the_same_run(self, runs):
        run_id = ulid_of(runs.request_run(run_request()))
        assert runs.get_run(run_id.lower()).id == runs.get_run(run_id).id

    def test_an_unknown_run_is_not_found(self, runs):
        unknown = str(ULID())
        for command in (runs.get_run, runs.cancel_run, runs.confirm_cancel,
                        lambda r: runs.start_run(r, "device-0", 10),
                        lambda r: runs.start_node(r, "Perceive", 1),
                        lambda r: runs.complete_run(r, "max_steps", {}),
                        lambda r: runs.fail_run(r, "internal_error", "x")):
            with pytest.raises(RunNotFound):
                command(unknown)

    def test_another_tenants_run_is_not_found_and_not_cancelled(self, runs):
        run_id = ulid_of(runs.request_run(run_request(tenant_id="tenant-a")))

        assert runs.get_run(run_id, tenant_id="tenant-a").tenant_id == "tenant-a"
        with pytest.raises(RunNotFound):
            runs.get_run(run_id, tenant_id="tenant-b")
        with pytest.raises(RunNotFound):
            runs.cancel_run(run_id, tenant_id="tenant-b")
        assert names(runs, run_id) == ["run.queued"]
        assert runs.cancel_run(run_id, tenant_id="tenant-a").status == "canceled"

    @pytest.mark.parametrize("bad_id", MALFORMED_IDS)
    def test_a_malformed_id_is_invalid_not_unknown(self, runs, bad_id):
        for command in (runs.get_run, runs.cancel_run, runs.run_events,
                        lambda r: runs.start_run(r, "device-0", 10),
                        lambda r: runs.complete_run(r, "max_steps", {})):
            with pytest.raises(InvalidRunId) as raised:
                command(bad_id)
            assert not isinstance(raised.value, RunNotFound)

    # start and nodes

    def test_start_run_leases_the_run_to_its_worker(self, runs):
        run_id = ulid_of(runs.request_run(run_request()))
        before = datetime.now(timezone.utc)

        run = runs.start_run(run_id, "device-1", lease_seconds=10)

        after = datetime.now(timezone.utc)
        assert (run.status, run.worker_id, run.attempt) == ("running", "device-1", 1)
        started = runs.run_events(run_id)[-1]
        assert started.name == "run.started" and started.data["workerId"] == "device-1"
        lease = datetime.fromisoformat(started.data["leaseExpiresAt"].replace("Z", "+00:00"))
        slack = timedelta(milliseconds=1)  # the wire has milliseconds
        assert before + timedelta(seconds=10) - slack <= lease <= after + timedelta(seconds=10)

    def test_a_redelivered_job_does_not_start_the_run_twice(self, runs, running_id):
        with pytest.raises(IllegalTransition):
            runs.start_run(running_id, "device-0", lease_seconds=10)
        assert names(runs, running_id) == ["run.queued", "run.started"]

    def test_a_run_whose_worker_was_lost_is_taken_over_then_fails_with_worker_lost(self, runs, running_id):
        taken = runs.start_run(running_id, "device-1", lease_seconds=10, max_attempts=2)
        assert (taken.status, taken.worker_id, taken.attempt) == ("running", "device-1", 2)
        with pytest.raises(LeaseLost):
            runs.start_node(running_id, "Perceive", 1, worker_id="device-0")

        lost = runs.start_run(running_id, "device-2", lease_seconds=10, max_attempts=2)

        assert (lost.status, lost.stop_reason) == ("failed", "worker_lost")
        assert assert_well_formed(runs, running_id) == ["run.queued", "run.started", "run.started", "run.failed"]

    def test_nodes_and_exploration_facts_are_recorded_in_order(self, runs, running_id):
        runs.start_node(running_id, "Perceive", 1, worker_id="device-0")
        runs.record(running_id, Run.discover_screen, worker_id="device-0", step_ordinal=1, screen_id="s1",
                    activity=".Home")
        runs.finish_node(running_id, "Perceive", 1, "SUCCESS", worker_id="device-0", screenId="s1", durationMs=2.5)
        runs.start_node(running_id, "Act", 1)

        events = runs.run_events(running_id)

        assert [e.name for e in events] == ["run.queued", "run.started", "agent.node.started",
                                           "graph.screen.discovered", "agent.node.finished", "agent.node.started"]
        assert events[2].data["nodeName"] == "Perceive" and events[2].data["stepOrdinal"] == 1
        assert events[4].data["outcomeStatus"] == "SUCCESS"
        assert events[4].data["detail"] == {"screenId": "s1", "durationMs": 2.5}
        assert runs.get_run(running_id).version == 6

    def test_a_queued_run_records_no_nodes(self, runs):
        run_id = ulid_of(runs.request_run(run_request()))
        with pytest.raises(IllegalTransition):
            runs.start_node(run_id, "Perceive", 1)
        with pytest.raises(IllegalTransition):
            runs.complete_run(run_id, "max_steps", {})
        assert names(runs, run_id) == ["run.queued"]

    # ends

    def test_complete_run(self, runs, running_id):
        run = runs.complete_run(running_id, "max_steps", {"steps": 8}, worker_id="device-0")

        assert (run.status, run.stop_reason) == ("completed", "max_steps")
        last = runs.run_events(running_id)[-1]
        assert last.data["stopReason"] == "max_steps" and last.data["metrics"] == {"steps": 8}
        assert assert_well_formed(runs, running_id)[-1] == "run.completed"

    @pytest.mark.parametrize("start", [False, True], ids=["queued", "running"])
    def test_fail_run(self, runs, start):
        run_id = ulid_of(runs.request_run(run_request()))
        if start:
            runs.start_run(run_id, "device-0", 10)

        run = runs.fail_run(run_id, "app_not_found", "no such file")

        assert (run.status, run.stop_reason) == ("failed", "app_not_found")
        assert assert_well_formed(runs, run_id)[-1] == "run.failed"

    @pytest.mark.parametrize("end", ["complete", "fail", "cancel"])
    def test_a_finished_run_does_not_end_again(self, runs, running_id, end):
        ends = {"complete": lambda: runs.complete_run(running_id, "explored", {}),
                "fail": lambda: runs.fail_run(running_id, "internal_error", "x"),
                "cancel": lambda: (runs.cancel_run(running_id), runs.confirm_cancel(running_id))}
        ends[end]()
        before = names(runs, running_id)

        for again in ends.values():
            if end == "cancel" and again is ends["cancel"]:
                continue  # cancelling a canceled run is idempotent, below
            with pytest.raises(RunAlreadyFinished):
                again()
        assert names(runs, running_id) == before

    # cancel

    def test_cancelling_a_queued_run_cancels_it_at_once_and_again_changes_nothing(self, runs):
        run_id = ulid_of(runs.request_run(run_request()))

        run = runs.cancel_run(run_id)
        again = runs.cancel_run(run_id)

        assert (run.status, run.stop_reason) == ("canceled", "user_cancelled")
        assert again.cancel_requested_at == run.cancel_requested_at is not None
        assert assert_well_formed(runs, run_id) == ["run.queued", "run.cancel_requested", "run.canceled"]
        with pytest.raises(IllegalTransition):
            runs.start_run(run_id, "device-0", 10)  # the job still in the queue finds the run canceled

    def test_cancelling_a_running_run_waits_for_the_worker(self, runs, running_id):
        run = runs.cancel_run(running_id)
        again = runs.cancel_run(running_id)

        assert run.status == again.status == "running"
        assert again.cancel_requested_at == run.cancel_requested_at is not None
        assert names(runs, running_id) == ["run.queued", "run.started", "run.cancel_requested"]

        canceled = runs.confirm_cancel(running_id, worker_id="device-0")

        assert (canceled.status, canceled.stop_reason) == ("canceled", "user_cancelled")
        assert runs.cancel_run(running_id).cancel_requested_at == run.cancel_requested_at
        assert assert_well_formed(runs, running_id)[-2:] == ["run.cancel_requested", "run.canceled"]

    def test_cancel_requested_at_is_the_time_of_the_cancel_requested_event(self, runs, running_id):
        run = runs.cancel_run(running_id)

        stored = list(runs.events.get(ULID.from_str(running_id).to_uuid()))
        [requested] = [e for e in stored if type(e).__name__ == "CancelRequested"]
        assert run.cancel_requested_at == requested.timestamp
        assert runs.get_run(running_id).cancel_requested_at == requested.timestamp

    def test_a_completed_run_refuses_a_cancel(self, runs, running_id):
        runs.complete_run(running_id, "max_steps", {})

        with pytest.raises(RunAlreadyFinished):
            runs.cancel_run(running_id)
        assert names(runs, running_id)[-1] == "run.completed"

    # pause and resume

    def test_pausing_a_queued_run_pauses_it_at_once_and_resuming_queues_it_again(self, runs):
        run_id = ulid_of(runs.request_run(run_request()))

        paused = runs.pause_run(run_id)
        again = runs.pause_run(run_id)

        assert paused.status == again.status == "paused"
        with pytest.raises(IllegalTransition):
            runs.start_run(run_id, "device-0", 10)  # the job a worker already took finds it paused
        resumed = runs.resume_run(run_id)
        assert resumed.status == runs.resume_run(run_id).status == "queued"
        assert runs.start_run(run_id, "device-0", 10).status == "running"
        assert names(runs, run_id) == ["run.queued", "run.pause_requested", "run.paused", "run.resumed",
                                       "run.started"]

    def test_pausing_a_running_run_waits_for_its_worker_then_frees_it(self, runs, running_id):
        runs.start_node(running_id, "Perceive", 4, worker_id="device-0")

        asked = runs.pause_run(running_id)

        assert (asked.status, asked.pause_requested) == ("running", True)
        paused = runs.confirm_pause(running_id, worker_id="device-0")
        assert (paused.status, paused.worker_id) == ("paused", None)
        last = runs.run_events(running_id)[-1]
        assert (last.name, last.data["stepOrdinal"]) == ("run.paused", 4)
        runs.resume_run(running_id)
        taken = runs.start_run(running_id, "device-1", 10)
        assert (taken.status, taken.worker_id, taken.last_step) == ("running", "device-1", 4)
        assert names(runs, running_id)[2:] == ["agent.node.started", "run.pause_requested", "run.paused",
                                               "run.resumed", "run.started"]

    @pytest.mark.parametrize("end", ["complete", "fail", "cancel"])
    def test_a_finished_run_refuses_pause_and_resume(self, runs, running_id, end):
        {"complete": lambda: runs.complete_run(running_id, "explored", {}),
         "fail": lambda: runs.fail_run(running_id, "internal_error", "x"),
         "cancel": lambda: (runs.cancel_run(running_id), runs.confirm_cancel(running_id))}[end]()
        before = names(runs, running_id)

        for command in (runs.pause_run, runs.resume_run):
            with pytest.raises(RunAlreadyFinished):
                command(running_id)
        assert names(runs, running_id) == before

    def test_cancelling_a_paused_run_cancels_it_at_once(self, runs, running_id):
        runs.pause_run(running_id)
        runs.confirm_pause(running_id, worker_id="device-0")

        run = runs.cancel_run(running_id)

        assert (run.status, run.stop_reason) == ("canceled", "user_cancelled")
        assert assert_well_formed(runs, running_id)[-3:] == ["run.paused", "run.cancel_requested", "run.canceled"]

    def test_another_tenants_run_is_neither_paused_nor_resumed(self, runs):
        run_id = ulid_of(runs.request_run(run_request(tenant_id="tenant-a")))
        for command in (runs.pause_run, runs.resume_run):
            with pytest.raises(RunNotFound):
                command(run_id, tenant_id="tenant-b")
        assert names(runs, run_id) == ["run.queued"]

    def test_a_pause_racing_a_cancel_leaves_exactly_one_terminal_event(self, new_service):
        a, b = new_service(), new_service()
        for _ in range(RACES):
            run_id = ulid_of(a.request_run(run_request()))
            a.start_run(run_id, "device-0", 10)
            a.pause_run(run_id)
            b.get_run(run_id)

            results = race(lambda: a.cancel_run(run_id), lambda: b.confirm_pause(run_id, worker_id="device-0"))

            assert not any(isinstance(r, Exception) for r in results), results
            cancel = a.cancel_run(run_id)  # a paused run is cancelled at once; a canceled one stays so
            assert (cancel.status, cancel.stop_reason) == ("canceled", "user_cancelled")
            assert assert_well_formed(a, run_id)[-1] == "run.canceled"

    # run_events

    def test_run_events_after_n_are_exactly_the_events_after_n(self, runs, running_id):
        for step in range(1, 4):
            runs.start_node(running_id, "Perceive", step)
            runs.finish_node(running_id, "Perceive", step, "SUCCESS")
        runs.complete_run(running_id, "max_steps", {})
        everything = runs.run_events(running_id)
        n = len(everything)
        assert n == 9

        for after in range(n + 2):
            tail = runs.run_events(running_id, after=after)
            assert [e.seq for e in tail] == list(range(after + 1, n + 1))
            assert tail == everything[after:]  # the same names and data as the full read

    def test_reading_twice_gives_identical_events(self, new_service, running_id):
        first, second = new_service(), new_service()
        first.complete_run(running_id, "max_steps", {"steps": 1})

        assert first.run_events(running_id) == second.run_events(running_id)

    # several writers on one store

    def test_an_instance_sees_what_another_wrote(self, new_service):
        a, b = new_service(), new_service()
        run_id = ulid_of(a.request_run(run_request()))
        a.get_run(run_id)  # cached by a

        b.start_run(run_id, "device-0", 10)
        b.cancel_run(run_id)

        seen = a.get_run(run_id)
        assert (seen.status, seen.version) == ("running", 3) and seen.cancel_requested_at is not None
        with pytest.raises(IllegalTransition):
            a.start_run(run_id, "device-0", 10)

    def test_a_stale_instance_retries_on_fresh_state(self, new_service):
        a, b = new_service(), new_service()
        run_id = ulid_of(a.request_run(run_request()))
        a.start_run(run_id, "device-0", 10)  # a's cache now holds version 2

        b.cancel_run(run_id)
        b.confirm_cancel(run_id)

        with pytest.raises(RunAlreadyFinished):
            a.complete_run(run_id, "max_steps", {})
        assert assert_well_formed(b, run_id)[-1] == "run.canceled"

    def test_confirm_cancel_racing_complete_leaves_exactly_one_terminal_event(self, new_service):
        a, b = new_service(), new_service()
        outcomes = set()
        for _ in range(RACES):
            run_id = ulid_of(a.request_run(run_request()))
            a.start_run(run_id, "device-0", 10)
            a.cancel_run(run_id)
            b.get_run(run_id)  # both instances hold the run in their caches

            results = race(lambda: a.confirm_cancel(run_id, worker_id="device-0"),
                           lambda: b.complete_run(run_id, "max_steps", {}, worker_id="device-0"))

            errors = [r for r in results if isinstance(r, Exception)]
            assert len(errors) == 1 and isinstance(errors[0], RunAlreadyFinished), results
            last = assert_well_formed(a, run_id)[-1]
            assert a.get_run(run_id).status == b.get_run(run_id).status == last.removeprefix("run.")
            outcomes.add(last)
        assert outcomes <= {"run.canceled", "run.completed"}

    def test_a_user_cancel_racing_the_workers_end_leaves_exactly_one_terminal_event(self, new_service):
        a, b = new_service(), new_service()
        for _ in range(RACES):
            run_id = ulid_of(a.request_run(run_request()))
            a.start_run(run_id, "device-0", 10)
            b.get_run(run_id)

            cancel, complete = race(lambda: b.cancel_run(run_id),
                                    lambda: a.complete_run(run_id, "max_steps", {}, worker_id="device-0"))

            assert not isinstance(complete, Exception), complete
            event_names = assert_well_formed(a, run_id)
            assert event_names[-1] == "run.completed"
            if isinstance(cancel, Exception):  # too late: the run had completed
                assert isinstance(cancel, RunAlreadyFinished)
                assert "run.cancel_requested" not in event_names
            else:
                assert event_names[-2:] == ["run.cancel_requested", "run.completed"]

    def test_a_cancel_racing_the_start_of_a_queued_run_leaves_a_consistent_run(self, new_service):
        a, b = new_service(), new_service()
        for _ in range(RACES):
            run_id = ulid_of(a.request_run(run_request()))
            b.get_run(run_id)

            cancel, start = race(lambda: a.cancel_run(run_id), lambda: b.start_run(run_id, "device-0", 10))

            assert not isinstance(cancel, Exception), cancel
            event_names = names(a, run_id)
            assert [e.seq for e in a.run_events(run_id)] == list(range(1, len(event_names) + 1))
            if isinstance(start, Exception):  # canceled while queued: never starts
                assert isinstance(start, IllegalTransition)
                assert event_names == ["run.queued", "run.cancel_requested", "run.canceled"]
            else:  # started first: the worker now has to confirm
                assert event_names == ["run.queued", "run.started", "run.cancel_requested"]
                assert a.get_run(run_id).status == "running"
