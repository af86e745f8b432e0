"""The projector: the tracked projections (the runs table, the screen graph, the findings), kept by one
runner that follows the event store's notification log a page at a time and hands each projection
its events. The JobQueue actor hosts it (actors/queue.py), and learns from the runs projection's
pages which runs were queued. While no device waits for a job, the runner reads the log at most every
PACE_SECONDS (storage/log_follower.py: paced), so a page holds several commits under load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from functools import partial
from typing import Any, Callable

from eventsourcing.persistence import Tracking, TrackingRecorder, WaitInterruptedError
from eventsourcing.projection import Projection

from config.logging import logger_for
from domain.app_map import AppMapProjection
from domain.application import RunService
from domain.findings.projection import FindingsProjection
from domain.projections import RunsProjection
from domain.screen_graph import ScreenGraphProjection
from storage.app_map_view import open_app_map_view
from storage.findings_view import open_findings_view
from storage.graph_view import open_graph_view
from storage.log_follower import follow_pages
from storage.postgres import event_store_env
from storage.runs_view import open_runs_view

SUPERVISE_SECONDS = 0.5
RESTART_BACKOFF_SECONDS = 1.0


class PagedProjectionRunner:
    """Projections kept up to date by one thread of their own, which reads each page of the log once for
    all of them and hands each projection its events of the page (`process_page`, one transaction:
    storage/log_follower.py), where eventsourcing's ProjectionRunner commits once per event and reads the
    log once per projection. A projection with `topics` gets only those events. With `urgent` the reads
    are paced unless it is set (follow_pages). Used as that one is: a context manager, `wait`,
    `is_interrupted`, `view` (the first projection's)."""

    def __init__(self, projections: Sequence[Projection[Any]], env: dict[str, str],
                 after_page: Callable[[list[Any]], None] | None = None, urgent: threading.Event | None = None) -> None:
        self.app = RunService(env=env)
        self.projections = projections
        self.after_page = after_page  # given the first projection's events of each page once it has committed them
        self.urgent = urgent
        self.is_interrupted = threading.Event()  # set when it stops: asked to, or on an error
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._follow, daemon=True,
                                       name="projection-" + "+".join(p.name for p in projections))
        self.thread.start()

    @property
    def view(self) -> TrackingRecorder:
        return self.projections[0].view

    @property
    def views(self) -> list[TrackingRecorder]:
        return [projection.view for projection in self.projections]

    def _follow(self) -> None:
        try:
            # Each projection goes on after its own last tracked notification; the log is read from the lowest.
            positions = [view.max_tracking_id(self.app.name) or 0 for view in self.views]
            wanted = [set(projection.topics) for projection in self.projections]  # empty: every event
            for page in follow_pages(self.app.recorder, min(positions), self._topics(), self.is_interrupted,
                                     self.urgent):
                events = [(self.app.mapper.to_domain_event(n), Tracking(self.app.name, n.id)) for n in page]
                for index, projection in enumerate(self.projections):
                    mine = [(event, tracking) for (event, tracking), n in zip(events, page)
                            if n.id > positions[index] and (not wanted[index] or n.topic in wanted[index])]
                    if not mine:
                        continue
                    projection.process_page(mine)
                    positions[index] = mine[-1][1].notification_id
                    if index == 0 and self.after_page:
                        self.after_page([event for event, _ in mine])
        except BaseException as error:
            self.error = error
        finally:
            self.is_interrupted.set()

    def _topics(self) -> tuple[str, ...]:
        """The topics the log is read for: all of them (none named) if a projection takes every event."""
        if any(not projection.topics for projection in self.projections):
            return ()
        return tuple({topic: None for projection in self.projections for topic in projection.topics})

    def wait(self, notification_id: int | None, timeout: float = 1.0) -> None:
        """Until the (first) view has tracked `notification_id` (TimeoutError after `timeout`); raises the error
        that stopped the runner, if one did."""
        try:
            self.view.wait(self.app.name, notification_id, timeout=timeout, interrupt=self.is_interrupted)
        except WaitInterruptedError:
            if self.error is not None:
                raise self.error from None

    def __enter__(self) -> "PagedProjectionRunner":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the thread and closes the log's connections (the views stay usable); re-raises its error."""
        self.is_interrupted.set()
        self.thread.join()
        self.app.close()
        if self.error is not None:
            raise self.error


def runs_projection_runner(env: dict[str, str], after_page: Callable[[list[Any]], None] | None = None
                           ) -> PagedProjectionRunner:
    return PagedProjectionRunner([RunsProjection(view=open_runs_view(env))], env, after_page)


def screen_graph_runner(env: dict[str, str]) -> PagedProjectionRunner:
    return PagedProjectionRunner([ScreenGraphProjection(view=open_graph_view(env))], env)


def findings_runner(env: dict[str, str]) -> PagedProjectionRunner:
    return PagedProjectionRunner([FindingsProjection(view=open_findings_view(env))], env)


def app_map_runner(env: dict[str, str]) -> PagedProjectionRunner:
    return PagedProjectionRunner([AppMapProjection(view=open_app_map_view(env))], env)


def projections_runner(env: dict[str, str], on_runs_page: Callable[[list[Any]], None] | None = None,
                       urgent: threading.Event | None = None) -> PagedProjectionRunner:
    """The projections on one read of the log: under admission load the screen graph, which no new run's
    event concerns, woke at every commit to read nothing (half the projector's CPU per admitted run). The
    runs table comes first (`view`, `after_page`); a page without graph or finding events costs those none."""
    return PagedProjectionRunner([RunsProjection(view=open_runs_view(env)),
                                  ScreenGraphProjection(view=open_graph_view(env)),
                                  FindingsProjection(view=open_findings_view(env)),
                                  AppMapProjection(view=open_app_map_view(env))], env, on_runs_page, urgent)


class Projections:
    """The tracked projections, kept by one runner in the process of the actor that hosts them (the
    JobQueue's: a process of their own would cost about 60 MiB more). A runner that stops on an error (the
    database restarted) is started again, and each projection resumes after its last tracked notification:
    nothing is skipped or applied twice. `on_runs_page` is handed each page of events the runs table has applied;
    the log is read at each commit while `urgent` is set, else at most every PACE_SECONDS (follow_pages)."""

    def __init__(self, database_url: str, on_runs_page: Callable[[list[Any]], None] | None = None,
                 urgent: threading.Event | None = None) -> None:
        env = event_store_env(database_url, checked=False)  # a runner's error restarts it (_supervise)
        self.log = logger_for("projector", "supervisor")
        self.factory = partial(projections_runner, env, on_runs_page, urgent)
        self.runner = self.factory()
        threading.Thread(target=self._supervise, name="projector-supervisor", daemon=True).start()
        self.log.info("projections following the event store")

    def healthy(self) -> bool:
        return not self.runner.is_interrupted.is_set()

    def _supervise(self) -> None:
        while True:
            time.sleep(SUPERVISE_SECONDS)
            if self.runner.is_interrupted.is_set():
                self.runner = self._restart(self.runner)

    def _restart(self, runner: PagedProjectionRunner) -> PagedProjectionRunner:
        try:
            runner.close()  # joins its thread, closes its pool, re-raises its error
        except Exception as error:
            self.log.warning("runner stopped; restarting", extra={"error": str(error)[:300]})
        finally:
            for view in runner.views:
                view.datastore.close()
        while True:
            try:
                return self.factory()
            except Exception as error:
                self.log.warning("runner restart failed", extra={"error": str(error)[:300]})
                time.sleep(RESTART_BACKOFF_SECONDS)
