"""JobQueueCore: the queue's rules (dedupe, leases, re-offering lost jobs), on a fake clock."""

from __future__ import annotations

import pytest

from actors.queue import JobQueueCore, WaitingDevices

LEASE = 10.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> JobQueueCore:
    return JobQueueCore(LEASE, clock=clock)


def drain(queue: JobQueueCore, worker_id: str = "w") -> list[str]:
    taken = []
    while (run_id := queue.take(worker_id)) is not None:
        taken.append(run_id)
    return taken


# put

def test_jobs_are_taken_in_the_order_they_were_put(queue):
    for run_id in ("a", "b", "c"):
        assert queue.put(run_id) is True

    assert drain(queue) == ["a", "b", "c"]
    assert queue.take("w") is None


def test_a_job_already_waiting_is_not_added_twice(queue):
    assert queue.put("a") is True
    assert queue.put("a") is False

    assert drain(queue) == ["a"]


def test_a_job_already_leased_is_not_added_again(queue):
    queue.put("a")
    assert queue.take("w1") == "a"

    assert queue.put("a") is False  # the dispatcher redelivers: at-least-once
    assert queue.take("w2") is None
    assert queue.stats() == {"pending": 0, "leased": 1}


def test_an_acked_job_may_be_put_again(queue):
    queue.put("a")
    queue.take("w1")
    queue.ack("a", "w1")

    assert queue.put("a") is True  # the Run aggregate refuses a second start, not the queue


def test_a_dropped_job_leaves_the_queue_and_may_be_put_again(queue):
    for run_id in ("a", "b", "c"):
        queue.put(run_id)

    assert queue.drop("b") is True  # paused while waiting
    assert queue.drop("b") is False

    assert drain(queue) == ["a", "c"]
    assert queue.put("b") is True  # resumed
    assert drain(queue) == ["b"]


def test_a_leased_job_is_not_dropped(queue):
    queue.put("a")
    queue.take("w1")

    assert queue.drop("a") is False  # its worker finds the run paused and acks
    assert queue.stats() == {"pending": 0, "leased": 1}


# take

def test_take_leases_the_job_to_the_worker(queue, clock):
    queue.put("a")

    assert queue.take("w1") == "a"

    lease = queue.leases["a"]
    assert (lease.worker_id, lease.expires_at) == ("w1", clock.now + LEASE)
    assert queue.stats() == {"pending": 0, "leased": 1}


def test_take_from_an_empty_queue_is_none(queue):
    assert queue.take("w1") is None
    assert queue.stats() == {"pending": 0, "leased": 0}


def test_a_leased_job_is_not_offered_to_anyone_else_before_its_lease_ends(queue, clock):
    queue.put("a")
    queue.take("w1")

    clock.advance(LEASE - 0.01)

    assert queue.take("w2") is None


# renew and ack: only by the holder

def test_the_holder_renews_its_lease(queue, clock):
    queue.put("a")
    queue.take("w1")
    clock.advance(8)

    assert queue.renew("a", "w1") is True

    assert queue.leases["a"].expires_at == clock.now + LEASE
    clock.advance(8)  # 16 s after the take, 8 s after the renewal
    assert queue.take("w2") is None


def test_renewals_keep_a_long_job_leased(queue, clock):
    queue.put("a")
    queue.take("w1")
    for _ in range(20):
        clock.advance(LEASE / 2)
        assert queue.renew("a", "w1") is True
        assert queue.take("w2") is None


def test_another_worker_cannot_renew_a_lease(queue, clock):
    queue.put("a")
    queue.take("w1")
    expires_at = queue.leases["a"].expires_at
    clock.advance(5)

    assert queue.renew("a", "w2") is False

    assert queue.leases["a"].expires_at == expires_at
    assert queue.leases["a"].worker_id == "w1"


def test_renew_or_ack_of_an_unknown_job_is_refused(queue):
    assert queue.renew("nope", "w1") is False
    assert queue.ack("nope", "w1") is False


def test_the_holder_acks_its_job_once(queue, clock):
    queue.put("a")
    queue.take("w1")

    assert queue.ack("a", "w1") is True
    assert queue.ack("a", "w1") is False

    clock.advance(LEASE * 3)
    assert queue.take("w2") is None  # an acked job never comes back
    assert queue.stats() == {"pending": 0, "leased": 0}


def test_another_worker_cannot_ack_a_job(queue, clock):
    queue.put("a")
    queue.take("w1")

    assert queue.ack("a", "w2") is False

    assert queue.leases["a"].worker_id == "w1"
    clock.advance(LEASE)
    assert queue.take("w2") == "a"  # still leased to w1 until then, then offered again


# expired leases

def test_an_expired_lease_offers_the_job_again(queue, clock):
    queue.put("a")
    queue.take("w1")

    clock.advance(LEASE)

    assert queue.take("w2") == "a"
    assert queue.leases["a"].worker_id == "w2"


def test_an_expired_job_is_offered_before_the_jobs_waiting(queue, clock):
    for run_id in ("a", "b", "c"):
        queue.put(run_id)
    assert queue.take("w1") == "a"

    clock.advance(LEASE + 1)

    assert drain(queue, "w2") == ["a", "b", "c"]


def test_expired_jobs_are_offered_again_oldest_first(queue, clock):
    for run_id in ("a", "b", "c"):
        queue.put(run_id)
    assert queue.take("w1") == "a"
    clock.advance(1)
    assert queue.take("w2") == "b"

    clock.advance(LEASE * 2)  # both workers were lost

    assert drain(queue, "w3") == ["a", "b", "c"]


def test_reoffer_expired_returns_only_the_expired_jobs(queue, clock):
    queue.put("a")
    queue.put("b")
    queue.take("w1")
    clock.advance(5)
    queue.take("w2")
    clock.advance(5)  # a's lease ends now, b's in 5 s

    assert queue.reoffer_expired() == ["a"]
    assert queue.stats() == {"pending": 1, "leased": 1}
    assert queue.reoffer_expired() == []


def test_a_lost_holder_can_neither_renew_nor_ack_after_the_job_was_taken_over(queue, clock):
    queue.put("a")
    queue.take("w1")
    clock.advance(LEASE)
    assert queue.take("w2") == "a"

    assert queue.renew("a", "w1") is False
    assert queue.ack("a", "w1") is False

    assert queue.leases["a"].worker_id == "w2"
    assert queue.ack("a", "w2") is True


def test_an_expired_job_waiting_again_is_not_duplicated_by_a_redelivery(queue, clock):
    queue.put("a")
    queue.take("w1")
    clock.advance(LEASE)
    queue.reoffer_expired()

    assert queue.put("a") is False

    assert drain(queue) == ["a"]


# restore: leases read back after the queue actor restarted

def test_a_restored_lease_holds_the_job_for_the_time_it_had_left(queue, clock):
    queue.put("a")  # also offered again by the recovery sweep
    queue.restore("a", "w1", seconds_left=3)

    assert queue.take("w2") is None
    assert queue.renew("a", "w1") is True  # its holder carries on
    clock.advance(LEASE)
    assert queue.take("w2") == "a"


def test_a_restored_lease_expires_like_any_other(queue, clock):
    queue.restore("a", "w1", seconds_left=3)
    clock.advance(3)

    assert queue.take("w2") == "a"


def test_urgent_is_set_while_any_device_waits():
    devices = WaitingDevices()
    assert not devices.urgent.is_set()
    with devices.waiting():
        assert devices.urgent.is_set()
        with devices.waiting():
            assert devices.urgent.is_set() and devices.count == 2
        assert devices.urgent.is_set()  # one still waits
    assert not devices.urgent.is_set() and devices.count == 0


def test_a_wait_that_ends_in_an_error_no_longer_counts():
    devices = WaitingDevices()
    with pytest.raises(TimeoutError), devices.waiting():
        raise TimeoutError
    assert not devices.urgent.is_set() and devices.count == 0
