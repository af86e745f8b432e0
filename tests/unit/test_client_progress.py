"""The client's step bar follows the run's status from its events alone (no service needed)."""

from runservice_client.models import RunEvent
from runservice_client.progress import StepProgress


def status_after(*events: tuple[str, dict]) -> str:
    with StepProgress("01TEST", enabled=False) as progress:
        for seq, (name, data) in enumerate(events, start=1):
            progress.see(RunEvent(seq, name, {"seq": seq, **data}))
        return progress.status


def test_a_resumed_paused_run_is_queued_again():
    assert status_after(("run.queued", {"maxSteps": 5}), ("run.started", {}), ("run.pause_requested", {}),
                        ("run.paused", {}), ("run.resumed", {"status": "queued"})) == "queued"


def test_a_pause_withdrawn_before_the_boundary_keeps_the_run_running():
    assert status_after(("run.queued", {"maxSteps": 5}), ("run.started", {}), ("run.pause_requested", {}),
                        ("run.resumed", {"status": "running"})) == "running"


def test_a_terminal_event_names_its_stop_reason():
    assert status_after(("run.queued", {"maxSteps": 5}), ("run.started", {}),
                        ("run.completed", {"stopReason": "max_steps", "metrics": {"steps": 5}})) == "completed: max_steps"
