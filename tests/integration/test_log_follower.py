"""Following the log a page at a time (storage/log_follower.py) on PostgreSQL: every notification once,
in order; what is stored while a page is handled comes as one next page; NOTIFY wakes the follower."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from domain.application import RunService
from domain.run import Run
from storage.log_follower import follow_pages
from tests.integration.test_runs_projection import request

WAIT_SECONDS = 10
REQUESTED = get_topic(Run.Requested)


class Follower:
    """follow_pages in a thread; each page is handed over on `pages`, and the thread goes on reading
    only once the test lets it (`release`)."""

    def __init__(self, runs: RunService, gt: int | None, topics: Sequence[str] = (),
                 urgent: threading.Event | None = None, pace: float = 0.0) -> None:
        self.pages: queue.Queue[Sequence[Notification]] = queue.Queue()
        self.released = threading.Semaphore(0)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._follow, args=(runs, gt, topics, urgent, pace), daemon=True)
        self.thread.start()

    def _follow(self, runs: RunService, gt: int | None, topics: Sequence[str], urgent: threading.Event | None,
                pace: float) -> None:
        for page in follow_pages(runs.recorder, gt, topics, self.stopping, urgent, pace):
            self.pages.put(page)
            self.released.acquire()

    def next_page(self) -> list[int]:
        page = self.pages.get(timeout=WAIT_SECONDS)
        return [n.id for n in page]

    def release(self) -> None:
        self.released.release()

    def stop(self) -> None:
        self.stopping.set()
        self.released.release()
        self.thread.join(WAIT_SECONDS)


def test_what_is_stored_while_a_page_is_handled_comes_as_the_next_page(runs):
    before = [request(runs) for _ in range(3)]
    follower = Follower(runs, gt=None)
    try:
        assert len(follower.next_page()) == len(before)  # stored before it started: one page
        start = runs.recorder.max_notification_id()
        for _ in range(5):  # while the first page is still being handled
            request(runs)
        follower.release()
        assert follower.next_page() == list(range(start + 1, start + 6))

        follower.release()  # now waiting on LISTEN: a new event wakes it
        request(runs)
        assert follower.next_page() == [start + 6]
    finally:
        follower.stop()
    assert not follower.thread.is_alive()


def test_a_paced_follower_reads_what_is_stored_within_its_pace_as_one_page(runs):
    request(runs)
    follower = Follower(runs, gt=None, urgent=threading.Event(), pace=3.0)
    try:
        assert follower.next_page() == [runs.recorder.max_notification_id()]  # the first read is not paced
        follower.release()  # waiting on LISTEN; the next read comes 3 s after the last at the earliest
        start = runs.recorder.max_notification_id()
        for _ in range(3):  # each commit NOTIFYs: unpaced, the first would be read alone
            request(runs)
        assert follower.next_page() == [start + 1, start + 2, start + 3]
    finally:
        follower.stop()


def test_a_paced_follower_reads_at_once_while_someone_waits(runs):
    request(runs)
    urgent = threading.Event()
    follower = Follower(runs, gt=None, urgent=urgent, pace=600.0)  # far longer than next_page waits
    try:
        follower.next_page()
        follower.release()
        request(runs)  # read 600 s after the last read, unless...
        urgent.set()  # ...someone waits meanwhile
        assert follower.next_page() == [runs.recorder.max_notification_id()]
        follower.release()
        request(runs)  # while someone waits, each NOTIFY is read at once
        assert follower.next_page() == [runs.recorder.max_notification_id()]
    finally:
        follower.stop()
    assert not follower.thread.is_alive()


def test_it_starts_after_its_position_and_reads_only_its_topics(runs):
    first = request(runs)
    runs.start_run(first, "device-0", lease_seconds=30)  # a Started event: not a request
    position = runs.recorder.max_notification_id()
    request(runs)
    runs.start_run(request(runs), "device-0", lease_seconds=30)
    expected = [n.id for n in runs.recorder.select_notifications(start=position, limit=100, topics=[REQUESTED],
                                                                   inclusive_of_start=False)]
    follower = Follower(runs, gt=position, topics=[REQUESTED])
    try:
        assert follower.next_page() == expected and len(expected) == 2
    finally:
        follower.stop()


def test_a_stopped_follower_gives_its_connection_back_as_it_came(runs):
    follower = Follower(runs, gt=None)
    request(runs)
    assert len(follower.next_page()) == 1
    with runs.recorder.datastore.get_connection() as other:  # taken while the follower holds its own
        other_pid = other.info.backend_pid
    follower.stop()
    assert not follower.thread.is_alive()
    pool = runs.recorder.datastore.pool
    connections = [pool.getconn(timeout=WAIT_SECONDS) for _ in range(2)]  # the pool's two idle connections
    try:
        listener = next(c for c in connections if c.info.backend_pid != other_pid)
        assert listener.execute("SELECT count(*) AS n FROM pg_listening_channels()").fetchone()["n"] == 0
        assert listener.execute("SHOW enable_seqscan").fetchone()["enable_seqscan"] == "on"
    finally:
        for connection in connections:
            pool.putconn(connection)
