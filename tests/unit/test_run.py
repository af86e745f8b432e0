"""The Run aggregate: its legal transitions, the ones it refuses, and the events each one leaves."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import reduce
from typing import Any

import pytest
from ulid import ULID

from domain.run import IllegalTransition, LeaseLost, Run, RunAlreadyFinished

TERMINAL_EVENTS = (Run.Completed, Run.Failed, Run.Canceled)
LEASE = datetime(2030, 1, 1, tzinfo=timezone.utc)


def new_run(**overrides: Any) -> Run:
    fields: dict[str, Any] = {
        "id": ULID().to_uuid(), "app_config": {"apkPath": "/apps/notes.json", "packageName": "com.example.notes"},
        "goal": "open settings", "max_steps": 7, "inputs": {"username": "alice"},
        "tenant_id": "tenant-a", "project_id": "project-b",
    }
    return Run(**{**fields, **overrides})


def running_run() -> Run:
    run = new_run()
    run.start("device-0", LEASE)
    return run


def kinds(run: Run) -> list[type]:
    """The types of the events the run has not yet handed over; clears them like a save does."""
    return [type(e) for e in run.collect_events()]


def finished(outcome: str) -> Run:
    run = running_run()
    if outcome == "completed":
        run.complete("max_steps", {"steps": 7})
    elif outcome == "failed":
        run.fail("device_unavailable", "no server")
    else:
        run.request_cancel()
        run.confirm_cancel()
    return run


# Requested

def test_a_new_run_is_queued_with_what_was_requested():
    run_id = ULID().to_uuid()
    run = new_run(id=run_id)

    assert run.id == run_id
    assert (run.status, run.version, run.attempt, run.worker_id) == ("queued", 1, 0, None)
    assert (run.goal, run.max_steps, run.inputs) == ("open settings", 7, {"username": "alice"})
    assert (run.tenant_id, run.project_id) == ("tenant-a", "project-b")
    assert run.cancel_requested_at is None and run.stop_reason is None and not run.is_finished
    assert kinds(run) == [Run.Requested]


# start

def test_start_moves_a_queued_run_to_running_on_its_worker():
    run = new_run()
    run.start("device-2", LEASE)

    assert (run.status, run.worker_id, run.attempt) == ("running", "device-2", 1)
    events = run.collect_events()
    started = events[-1]
    assert type(started) is Run.Started
    assert (started.worker_id, started.lease_expires_at, started.attempt) == ("device-2", LEASE, 1)


def test_a_run_starts_only_once_on_its_worker():
    run = running_run()
    run.collect_events()

    with pytest.raises(IllegalTransition):
        run.start("device-0", LEASE)  # a redelivered job must not fork the run
    assert (run.worker_id, run.attempt) == ("device-0", 1)
    assert kinds(run) == []


def test_another_worker_takes_a_running_run_over_as_its_next_attempt():
    """The queue offers a run again only when its holder's lease expired: the holder is lost."""
    run = running_run()
    run.collect_events()

    run.start("device-1", LEASE)

    assert (run.status, run.worker_id, run.attempt) == ("running", "device-1", 2)
    [started] = run.collect_events()
    assert type(started) is Run.Started and (started.worker_id, started.attempt) == ("device-1", 2)


def test_a_run_whose_workers_were_lost_max_attempts_times_fails_with_worker_lost():
    run = running_run()
    run.start("device-1", LEASE, max_attempts=3)
    run.start("device-2", LEASE, max_attempts=3)
    run.collect_events()

    run.start("device-3", LEASE, max_attempts=3)

    assert (run.status, run.stop_reason, run.attempt, run.worker_id) == ("failed", "worker_lost", 3, "device-2")
    assert kinds(run) == [Run.Failed]


def worker_commands(worker_id: str) -> list[tuple[str, Any]]:
    return [
        ("start_node", lambda run: run.start_node("Perceive", 1, worker_id)),
        ("finish_node", lambda run: run.finish_node("Perceive", 1, "SUCCESS", {}, worker_id)),
        ("record", lambda run: run.discover_screen(worker_id, step_ordinal=1, screen_id="s", activity=".A")),
        ("complete", lambda run: run.complete("max_steps", {}, worker_id)),
        ("fail", lambda run: run.fail("device_unavailable", "gone", worker_id)),
        ("confirm_cancel", lambda run: run.confirm_cancel(worker_id=worker_id)),
    ]


@pytest.mark.parametrize(("name", "command"), worker_commands("device-0"), ids=[n for n, _ in worker_commands("")])
def test_a_lost_worker_can_no_longer_write_to_the_run(name, command):
    run = running_run()
    run.start("device-1", LEASE)  # device-0's lease expired; device-1 took the run over
    run.collect_events()

    with pytest.raises(LeaseLost):
        command(run)
    assert (run.status, run.worker_id) == ("running", "device-1") and kinds(run) == []


@pytest.mark.parametrize(("name", "command"), worker_commands("device-1"), ids=[n for n, _ in worker_commands("")])
def test_the_holder_writes_to_its_run(name, command):
    run = running_run()
    run.start("device-1", LEASE)
    run.collect_events()

    command(run)

    assert len(run.collect_events()) == 1


@pytest.mark.parametrize(("name", "command"), worker_commands("device-0"), ids=[n for n, _ in worker_commands("")])
def test_a_worker_cannot_write_to_a_queued_run(name, command):
    run = new_run()
    run.collect_events()

    with pytest.raises(IllegalTransition):
        command(run)
    assert run.status == "queued" and kinds(run) == []


@pytest.mark.parametrize("outcome", ["completed", "failed", "canceled"])
def test_a_finished_run_does_not_start(outcome):
    run = finished(outcome)
    run.collect_events()

    with pytest.raises(IllegalTransition):
        run.start("device-1", LEASE)
    assert run.status == outcome and kinds(run) == []


def test_a_run_canceled_while_queued_does_not_start():
    run = new_run()
    run.request_cancel()
    run.collect_events()

    with pytest.raises(IllegalTransition):
        run.start("device-0", LEASE)
    assert run.status == "canceled" and kinds(run) == []


# Nodes and exploration facts

def test_a_running_run_records_its_nodes():
    run = running_run()
    run.start_node("Perceive", 3)
    run.finish_node("Perceive", 3, "SUCCESS", {"screenId": "abc"})
    run.finish_node("Act", 3, "FAILURE", {"error": "stale"})
    run.finish_node("Act", 4, "SKIPPED", {})

    events = run.collect_events()[2:]
    assert [type(e) for e in events] == [Run.NodeStarted, Run.NodeFinished, Run.NodeFinished, Run.NodeFinished]
    assert (events[0].node_name, events[0].step_ordinal) == ("Perceive", 3)
    assert (events[1].outcome_status, events[1].detail) == ("SUCCESS", {"screenId": "abc"})
    assert [e.outcome_status for e in events[1:]] == ["SUCCESS", "FAILURE", "SKIPPED"]
    assert run.status == "running"


@pytest.mark.parametrize("outcome", ["success", "OK", "", "FAILED"])
def test_a_node_outcome_is_success_failure_or_skipped(outcome):
    run = running_run()
    run.collect_events()

    with pytest.raises(ValueError):
        run.finish_node("Act", 1, outcome, {})
    assert kinds(run) == []


EXPLORATION = [
    ("record_screen", Run.ScreenPerceived, {"step_ordinal": 1, "screen_id": "s1", "activity": ".A", "package": "p",
                                               "element_count": 3, "artifacts": {"pageSource": "x"}}),
    ("record_action", Run.ActionPerformed, {"step_ordinal": 1, "screen_id": "s1", "action": {"kind": "tap"}}),
    ("discover_screen", Run.ScreenDiscovered, {"step_ordinal": 1, "screen_id": "s1", "activity": ".A"}),
    ("discover_transition", Run.TransitionDiscovered, {"step_ordinal": 1, "from_screen": "s1",
                                                         "action": {"kind": "tap"}, "to_screen": "s2"}),
]


@pytest.mark.parametrize(("name", "kind", "fields"), EXPLORATION, ids=[e[0] for e in EXPLORATION])
def test_a_running_run_records_exploration_facts(name, kind, fields):
    run = running_run()
    run.collect_events()

    getattr(run, name)(**fields)

    [recorded] = run.collect_events()
    assert type(recorded) is kind
    assert {key: getattr(recorded, key) for key in fields} == fields


def node_commands() -> list[tuple[str, Any]]:
    return [
        ("start_node", lambda run: run.start_node("Perceive", 1)),
        ("finish_node", lambda run: run.finish_node("Perceive", 1, "SUCCESS", {})),
        *[(name, lambda run, name=name, fields=fields: getattr(run, name)(**fields)) for name, _, fields in EXPLORATION],
    ]


@pytest.mark.parametrize(("name", "command"), node_commands(), ids=[n for n, _ in node_commands()])
def test_a_queued_run_records_no_node_events(name, command):
    run = new_run()
    run.collect_events()

    with pytest.raises(IllegalTransition) as refused:
        command(run)
    assert not isinstance(refused.value, RunAlreadyFinished)  # queued is not finished
    assert run.status == "queued" and kinds(run) == []


@pytest.mark.parametrize("outcome", ["completed", "failed", "canceled"])
@pytest.mark.parametrize(("name", "command"), node_commands(), ids=[n for n, _ in node_commands()])
def test_a_finished_run_records_no_node_events(name, command, outcome):
    run = finished(outcome)
    run.collect_events()

    with pytest.raises(RunAlreadyFinished):
        command(run)
    assert run.status == outcome and kinds(run) == []


# Completing, failing

def test_a_running_run_completes_with_its_stop_reason():
    run = running_run()
    run.complete("goal_reached", {"steps": 4})

    assert (run.status, run.stop_reason, run.is_finished) == ("completed", "goal_reached", True)
    completed = run.collect_events()[-1]
    assert type(completed) is Run.Completed
    assert (completed.stop_reason, completed.metrics) == ("goal_reached", {"steps": 4})


def test_a_queued_run_does_not_complete():
    run = new_run()
    run.collect_events()

    with pytest.raises(IllegalTransition):
        run.complete("max_steps", {})
    assert run.status == "queued" and kinds(run) == []


@pytest.mark.parametrize("start", [False, True], ids=["queued", "running"])
def test_an_unfinished_run_fails_with_its_stop_reason_and_error(start):
    run = running_run() if start else new_run()
    run.fail("device_unavailable", "connection refused")

    assert (run.status, run.stop_reason) == ("failed", "device_unavailable")
    failed = run.collect_events()[-1]
    assert type(failed) is Run.Failed and (failed.stop_reason, failed.error) == ("device_unavailable",
                                                                                   "connection refused")


@pytest.mark.parametrize("first", ["completed", "failed", "canceled"])
@pytest.mark.parametrize("second", ["complete", "fail", "confirm_cancel"])
def test_a_finished_run_does_not_end_again(first, second):
    run = finished(first)
    stop_reason = run.stop_reason
    run.collect_events()

    with pytest.raises(RunAlreadyFinished):
        {"complete": lambda: run.complete("explored", {}), "fail": lambda: run.fail("internal_error", "boom"),
         "confirm_cancel": run.confirm_cancel}[second]()
    assert (run.status, run.stop_reason) == (first, stop_reason)
    assert kinds(run) == []


# Cancelling

def test_cancelling_a_queued_run_cancels_it_at_once():
    run = new_run()
    run.collect_events()

    run.request_cancel()

    assert kinds(run) == [Run.CancelRequested, Run.Canceled]
    assert (run.status, run.stop_reason) == ("canceled", "user_cancelled")
    assert run.cancel_requested_at is not None


def test_cancelling_a_running_run_only_asks_until_the_worker_confirms():
    run = running_run()
    run.collect_events()

    run.request_cancel()

    assert kinds(run) == [Run.CancelRequested]
    assert run.status == "running" and run.cancel_requested_at is not None and not run.is_finished

    run.confirm_cancel()

    assert kinds(run) == [Run.Canceled]
    assert (run.status, run.stop_reason) == ("canceled", "user_cancelled")


def test_cancel_requested_at_is_when_the_cancel_was_requested():
    run = new_run()
    run.start("device-0", LEASE)
    # Later than every earlier event, as a user's cancel is.
    run.request_cancel()

    requested = [e for e in run.collect_events() if type(e) is Run.CancelRequested]
    assert run.cancel_requested_at == requested[0].timestamp


def test_a_running_run_keeps_recording_nodes_after_a_cancel_request():
    """The agent records the node it skips at the boundary where it honours the cancel."""
    run = running_run()
    run.request_cancel()
    run.collect_events()

    run.start_node("Act", 2)
    run.finish_node("Act", 2, "SKIPPED", {"reason": "cancel requested"})
    run.confirm_cancel()

    assert kinds(run) == [Run.NodeStarted, Run.NodeFinished, Run.Canceled]


@pytest.mark.parametrize("state", ["queued", "running", "confirmed"])
def test_cancel_is_idempotent(state):
    run = running_run() if state != "queued" else new_run()
    run.request_cancel()
    if state == "confirmed":
        run.confirm_cancel()
    requested_at, status = run.cancel_requested_at, run.status
    run.collect_events()

    run.request_cancel()
    run.request_cancel()

    assert kinds(run) == []
    assert (run.cancel_requested_at, run.status) == (requested_at, status)


@pytest.mark.parametrize("outcome", ["completed", "failed"])
def test_a_completed_or_failed_run_refuses_a_cancel(outcome):
    run = finished(outcome)
    run.collect_events()

    with pytest.raises(RunAlreadyFinished):
        run.request_cancel()
    assert run.status == outcome and run.cancel_requested_at is None and kinds(run) == []


def test_a_queued_run_cannot_confirm_a_cancel():
    run = new_run()
    run.collect_events()

    with pytest.raises(IllegalTransition):
        run.confirm_cancel()
    assert kinds(run) == []


def test_a_run_asked_to_cancel_may_still_complete_or_fail_first():
    """The worker may reach its end before it sees the cancel; the first terminal event stands."""
    completes, fails = running_run(), running_run()
    for run in (completes, fails):
        run.request_cancel()
    completes.complete("max_steps", {})
    fails.fail("device_unavailable", "gone")

    assert (completes.status, fails.status) == ("completed", "failed")
    for run in (completes, fails):
        with pytest.raises(RunAlreadyFinished):
            run.confirm_cancel()


# Pausing and resuming

def paused_run(started: bool = True) -> Run:
    run = running_run() if started else new_run()
    run.request_pause()
    if started:
        run.confirm_pause("device-0")
    return run


def test_pausing_a_queued_run_pauses_it_at_once():
    run = new_run()
    run.collect_events()

    run.request_pause()

    assert kinds(run) == [Run.PauseRequested, Run.Paused]
    assert (run.status, run.worker_id, run.is_finished, run.needs_device) == ("paused", None, False, False)


def test_pausing_a_running_run_only_asks_until_the_worker_stops_at_a_node_boundary():
    run = running_run()
    run.start_node("Perceive", 3)
    run.collect_events()

    run.request_pause()

    assert kinds(run) == [Run.PauseRequested]
    assert (run.status, run.pause_requested, run.worker_id) == ("running", True, "device-0")
    run.start_node("Act", 3)  # the worker records nodes until it sees the request
    run.finish_node("Act", 3, "SKIPPED", {"reason": "pause requested"})
    run.confirm_pause("device-0")

    events = run.collect_events()
    assert [type(e) for e in events] == [Run.NodeStarted, Run.NodeFinished, Run.Paused]
    assert events[-1].step_ordinal == 3  # where it stopped
    assert (run.status, run.worker_id, run.last_step, run.needs_device) == ("paused", None, 3, False)


@pytest.mark.parametrize("state", ["queued", "running", "confirmed"])
def test_pause_is_idempotent(state):
    run = new_run() if state == "queued" else running_run()
    run.request_pause()
    if state == "confirmed":
        run.confirm_pause()
    status = run.status
    run.collect_events()

    run.request_pause()
    run.request_pause()

    assert kinds(run) == [] and run.status == status


@pytest.mark.parametrize("outcome", ["completed", "failed", "canceled"])
def test_a_finished_run_refuses_pause_and_resume(outcome):
    run = finished(outcome)
    run.collect_events()

    for command in (run.request_pause, run.resume):
        with pytest.raises(RunAlreadyFinished):
            command()
    assert run.status == outcome and kinds(run) == []


def test_a_run_being_cancelled_cannot_be_paused():
    run = running_run()
    run.request_cancel()
    run.collect_events()

    with pytest.raises(IllegalTransition):
        run.request_pause()
    assert kinds(run) == [] and not run.pause_requested


def test_a_cancel_that_arrives_before_the_pause_is_confirmed_wins():
    run = running_run()
    run.request_pause()
    run.request_cancel()
    run.collect_events()

    run.confirm_pause("device-0")

    assert kinds(run) == [Run.Canceled]
    assert (run.status, run.stop_reason) == ("canceled", "user_cancelled")


@pytest.mark.parametrize("started", [False, True], ids=["paused-while-queued", "paused-while-running"])
def test_resuming_a_paused_run_queues_it_again_for_any_worker(started):
    run = paused_run(started)
    run.collect_events()

    run.resume()

    [resumed] = run.collect_events()
    assert type(resumed) is Run.Resumed and resumed.status == "queued"
    assert (run.status, run.pause_requested, run.needs_device) == ("queued", False, True)
    run.start("device-1", LEASE)
    assert (run.status, run.worker_id) == ("running", "device-1")


def test_a_resumed_run_keeps_its_step_count():
    run = running_run()
    run.start_node("Verify", 5)
    run.request_pause()
    run.confirm_pause()
    run.resume()
    run.start("device-1", LEASE)

    assert run.last_step == 5


def test_resuming_before_the_worker_paused_withdraws_the_pause():
    run = running_run()
    run.request_pause()
    run.collect_events()

    run.resume()

    [resumed] = run.collect_events()
    assert type(resumed) is Run.Resumed and resumed.status == "running"
    assert (run.status, run.pause_requested, run.worker_id) == ("running", False, "device-0")


@pytest.mark.parametrize("state", ["queued", "running"])
def test_resuming_a_run_that_is_not_paused_changes_nothing(state):
    run = new_run() if state == "queued" else running_run()
    run.collect_events()

    run.resume()
    run.resume()

    assert kinds(run) == [] and run.status == state


@pytest.mark.parametrize("started", [False, True], ids=["paused-while-queued", "paused-while-running"])
def test_a_paused_run_does_not_start_and_records_nothing(started):
    run = paused_run(started)
    run.collect_events()

    with pytest.raises(IllegalTransition):
        run.start("device-1", LEASE)
    for _, command in node_commands():
        with pytest.raises(IllegalTransition):
            command(run)
    with pytest.raises(IllegalTransition):
        run.confirm_pause()
    with pytest.raises(IllegalTransition):
        run.complete("max_steps", {})
    assert run.status == "paused" and kinds(run) == []


@pytest.mark.parametrize("started", [False, True], ids=["paused-while-queued", "paused-while-running"])
def test_cancelling_a_paused_run_cancels_it_at_once(started):
    run = paused_run(started)
    run.collect_events()

    run.request_cancel()

    assert kinds(run) == [Run.CancelRequested, Run.Canceled]
    assert (run.status, run.stop_reason) == ("canceled", "user_cancelled")


def test_a_paused_run_may_fail():
    """An operator may fail a run that waits for a resume that will never come."""
    run = paused_run()
    run.fail("internal_error", "app retired")
    assert (run.status, run.stop_reason) == ("failed", "internal_error")


def test_a_lost_worker_cannot_pause_the_run_it_no_longer_holds():
    run = running_run()
    run.request_pause()
    run.start("device-1", LEASE)  # taken over after device-0's lease expired
    run.collect_events()

    with pytest.raises(LeaseLost):
        run.confirm_pause("device-0")
    run.confirm_pause("device-1")
    assert run.status == "paused"


# Every path: versions and exactly one terminal event

def path_events(path: list[str]) -> list[Any]:
    run = new_run()
    commands = {
        "start": lambda: run.start("device-0", LEASE),
        "takeover": lambda: run.start(f"device-{run.attempt}", LEASE, max_attempts=3),
        "node": lambda: (run.start_node("Perceive", 1), run.finish_node("Perceive", 1, "SUCCESS", {})),
        "discover": lambda: run.discover_screen(step_ordinal=1, screen_id="s", activity=".A"),
        "cancel": run.request_cancel,
        "confirm": run.confirm_cancel,
        "complete": lambda: run.complete("max_steps", {}),
        "fail": lambda: run.fail("app_launch_failed", "no activity"),
        "pause": run.request_pause,
        "paused": run.confirm_pause,
        "resume": run.resume,
    }
    for step in path:
        try:
            commands[step]()
        except IllegalTransition:
            pass  # a refused command leaves no event; the path goes on
    return run.collect_events()


PATHS = {
    "queued-cancel": ["cancel"],
    "queued-fail": ["fail"],
    "complete": ["start", "node", "discover", "node", "complete"],
    "fail": ["start", "node", "fail"],
    "cancel-confirm": ["start", "node", "cancel", "node", "confirm"],
    "cancel-then-complete": ["start", "cancel", "complete"],
    "everything-after-complete": ["start", "complete", "complete", "fail", "cancel", "confirm", "node", "start"],
    "everything-after-fail": ["start", "fail", "complete", "fail", "cancel", "confirm", "node"],
    "everything-after-cancel": ["cancel", "start", "cancel", "confirm", "complete", "fail", "node"],
    "cancel-twice-running": ["start", "cancel", "cancel", "confirm", "cancel", "complete"],
    "taken-over-then-complete": ["start", "node", "takeover", "node", "complete"],
    "lost-too-often": ["start", "takeover", "takeover", "takeover", "takeover", "complete", "cancel"],
    "pause-resume-complete": ["start", "node", "pause", "node", "paused", "resume", "start", "node", "complete"],
    "paused-while-queued-then-cancel": ["pause", "start", "resume", "pause", "cancel", "resume", "pause"],
    "pause-withdrawn-then-complete": ["start", "pause", "resume", "paused", "resume", "start", "complete"],
    "pause-racing-cancel": ["start", "pause", "cancel", "paused", "pause", "resume", "confirm"],
    "everything-after-pause-complete": ["start", "pause", "complete", "pause", "paused", "resume", "cancel"],
}


@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_every_path_has_versions_without_gaps_and_exactly_one_terminal_event(path):
    events = path_events(path)

    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert type(events[0]) is Run.Requested
    assert sum(type(e) in TERMINAL_EVENTS for e in events) == 1
    assert type(events[-1]) in TERMINAL_EVENTS  # nothing follows the terminal event


def test_replaying_the_events_rebuilds_the_same_run():
    run = running_run()
    run.start_node("Perceive", 1)
    run.request_pause()
    run.confirm_pause()
    run.resume()
    run.start("device-1", LEASE)
    run.request_cancel()
    run.confirm_cancel()
    events = run.collect_events()

    replayed = reduce(lambda aggregate, e: e.mutate(aggregate), events, None)

    assert vars(replayed) == vars(run)


def test_the_lease_is_recorded_as_given():
    lease = datetime.now(timezone.utc) + timedelta(seconds=10)
    run = new_run()
    run.start("device-0", lease)
    assert run.collect_events()[-1].lease_expires_at == lease
