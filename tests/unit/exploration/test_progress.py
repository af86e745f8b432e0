import pytest

from domain.exploration import ProgressTracker


def test_stalls_after_limit_steps_without_a_new_screen_or_transition():
    tracker = ProgressTracker(limit=3)
    assert tracker.record("a") is True
    assert tracker.record("b", ("a", "tap:id/x", "b")) is True
    assert tracker.record("a", ("b", "back", "a")) is True  # known screen, new transition
    for _ in range(2):
        assert tracker.record("b", ("a", "tap:id/x", "b")) is False
    assert not tracker.stalled
    assert tracker.record("a", ("b", "back", "a")) is False
    assert tracker.stalled and tracker.steps_without_progress == 3


def test_a_discovery_resets_the_count():
    tracker = ProgressTracker(limit=2)
    tracker.record("a")
    for _ in range(2):
        tracker.record("a")
    assert tracker.stalled
    tracker.record("c", ("a", "tap:id/y", "c"))
    assert not tracker.stalled and tracker.steps_without_progress == 0
    assert tracker.screens_seen == 2


def test_outcomes_can_be_fed_directly():
    tracker = ProgressTracker(limit=2)
    assert tracker.record(new_screen=True) is True
    assert tracker.record(new_screen=False, new_transition=False) is False
    assert not tracker.stalled
    assert tracker.record(new_transition=True) is True
    tracker.record_outcome(False)
    tracker.record_outcome(False)
    assert tracker.stalled


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="limit"):
        ProgressTracker(limit=0)
