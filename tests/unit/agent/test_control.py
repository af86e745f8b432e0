"""A user's cancel and pause, and another worker taking the run over, as the agent meets them at its node
boundaries. The device's hooks write them at a known moment (during a tap), as the API or the queue would."""

from __future__ import annotations

import pytest

from domain.run import LeaseLost
from tests.unit.agent import SETUP_NODES, Finished, assert_one_terminal, shop_app
from tests.unit.fakes import fake_run


def test_a_cancel_requested_before_the_agent_starts_ends_the_run_before_any_device_work():
    run = fake_run(shop_app())
    run.api.cancel_run(run.run_id)

    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.canceled", "canceled", "user_cancelled")
    assert [(c.step, c.name, c.outcome, c.detail.get("reason")) for c in finished.calls()] == [
        (0, "EnsureDevice", "SKIPPED", "cancel requested"), (0, "Stop", "SUCCESS", None)]
    assert len(finished.named("run.cancel_requested")) == 1
    assert not run.device.calls  # no session was opened


def test_a_cancel_during_a_step_stops_the_run_at_the_next_node_boundary():
    run = fake_run(shop_app(), max_steps=60)
    run.device.on("tap", 2, lambda: run.api.cancel_run(run.run_id))  # while step 2 acts

    run.execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.canceled", "canceled", "user_cancelled")
    assert len(finished.named("run.cancel_requested")) == 1 and not finished.named("run.completed")
    stopped_by = [c for c in finished.all_calls() if c.name != "Stop"][-1]
    assert (stopped_by.step, stopped_by.name, stopped_by.outcome, stopped_by.detail["reason"]) == (
        2, "Verify", "SKIPPED", "cancel requested")
    assert run.api.get_run(run.run_id).last_step == 2
    assert run.device.calls["tap"] == 2 and run.device.calls["quit"] == 1  # nothing done after; the session closed


def test_a_paused_run_ends_without_a_terminal_event_and_a_resumed_one_goes_on_where_it_stopped():
    unpaused = fake_run(shop_app(), max_steps=60)
    unpaused.execute()
    whole = Finished.of(unpaused)
    run = fake_run(shop_app(), max_steps=60)
    run.device.on("tap", 3, lambda: run.api.pause_run(run.run_id))

    run.execute()

    paused = Finished.of(run)
    assert paused.events[-1].name == "run.paused" and not [e for e in paused.events if e.is_terminal]
    assert "Stop" not in [c.name for c in paused.calls()]
    assert paused.calls()[-1].detail.get("reason") == "pause requested"
    assert run.api.get_run(run.run_id).status == "paused"

    run.api.resume_run(run.run_id)
    run.api.start_run(run.run_id, "w2", 60)
    fresh = shop_app()  # any free device
    run.agent("w2", open_device=lambda app, caps, settings: fresh).execute()

    finished = Finished.of(run)
    assert_one_terminal(finished, "run.completed", "completed", "explored")
    resumed = finished.calls()[len(paused.calls()):]
    assert [(c.step, c.name, c.detail.get("resumed")) for c in resumed[:4]] == [(3, name, True) for name in SETUP_NODES]
    assert [c.step for c in resumed[4:]] == sorted(c.step for c in resumed[4:]) and resumed[4].step == 4
    discovered = list(finished.discovered())
    assert len(discovered) == len(set(discovered)) == len(whole.discovered())  # one graph, nothing found twice
    assert finished.metrics["steps"] == finished.calls()[-1].step  # one step count across both workers
    assert whole.metrics["steps"] <= finished.metrics["steps"] <= whole.metrics["steps"] + 3
    assert fresh.calls["tap"] >= 1 and run.device.calls["quit"] == 1


def test_a_worker_whose_run_was_taken_over_stops_writing_to_it():
    run = fake_run(shop_app(), max_steps=60)
    run.device.on("tap", 3, lambda: run.api.start_run(run.run_id, "w2", 60))  # w1's lease had lapsed

    with pytest.raises(LeaseLost):
        run.agent("w1").execute()

    events = run.events()
    assert [e.data["attempt"] for e in events if e.name == "run.started"] == [1, 2]
    assert events[-1].name == "run.started", "w1 wrote after w2 took the run"
    assert run.device.calls["quit"] == 1  # the device is freed

    successor = shop_app()
    run.agent("w2", open_device=lambda app, caps, settings: successor).execute()
    assert_one_terminal(Finished.of(run), "run.completed", "completed", "explored")
