"""What the projections' views share (the screen graph's, the findings', the app map's): a page of the log's
facts applied in one transaction with its tracking record, skipping the facts at or before the position tracked
already, so that a page applied twice (a runner restarted mid-way, a redelivery) changes nothing; and the
read-your-writes wait for a position in the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import tenacity
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder

# A read waits this long for a view to apply a run's latest event (it is usually milliseconds behind), then
# answers with what the view has.
CATCH_UP_SECONDS = 2.0
Fact = TypeVar("Fact")
Read = TypeVar("Read")


def waited_for(read: Callable[[], Read], ready: Callable[[Read], bool], timeout: float, otherwise: Read) -> Read:
    """`read()` again until `ready` says its answer is, up to `timeout` (then `otherwise`). It looks 5 ms apart
    at first, doubling to 100 ms: a live run's view is a few milliseconds behind, and eventsourcing's `wait`
    sleeps 100 ms before its second look."""
    poll = tenacity.Retrying(retry=tenacity.retry_if_result(lambda answer: not ready(answer)),
                             wait=tenacity.wait_exponential(multiplier=0.005, max=0.1),
                             stop=tenacity.stop_after_delay(timeout), retry_error_callback=lambda _: otherwise)
    return poll(read)


class TrackedView(PostgresTrackingRecorder):
    def apply_page(self, facts: Sequence[tuple[int, Fact]], tracking: Tracking,
                   apply_fact: Callable[[Any, int, Fact], None]) -> None:
        """A page of facts (each with its notification id) in one transaction, each by `apply_fact(cursor,
        notification id, fact)`, then the page's position."""
        with self.datastore.transaction(commit=True) as curs:
            done = self._max_tracking_id(tracking.application_name, curs) or 0
            if done >= tracking.notification_id:
                return
            for notification_id, fact in facts:
                if notification_id > done:
                    apply_fact(curs, notification_id, fact)
            self._insert_tracking(curs, tracking)

    def caught_up(self, application_name: str, notification_id: int | None,
                  timeout: float = CATCH_UP_SECONDS) -> bool:
        """Whether the view has applied the log up to `notification_id`, waiting up to `timeout` for it."""
        return waited_for(lambda: self.has_tracking_id(application_name, notification_id), bool, timeout, False)
