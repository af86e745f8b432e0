"""The projector: the tracked projections (the runs table and the screen graph), each
kept by a runner that follows the event store's notification log a page at a time.
The JobQueue actor hosts them (actors/queue.py), and learns from the runs
projection's pages which runs were queued.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Any, Callable

from eventsourcing.persistence import Tracking, TrackingRecorder, WaitInterruptedError

from config.logging import logger_for
from domain.application import RunService
from domain.projections import RunsProjection
from domain.screen_graph import ScreenGraphProjection
from storage.graph_view import open_graph_view
from storage.log_follower import follow_pages
from storage.postgres import event_store_env
from storage.runs_view import open_runs_view

SUPERVISE_SECONDS = 0.5
RESTART_BACKOFF_SECONDS = 1.0
# How often the runs projection reads the log at most (storage/log_follower.py): under load, fewer and fuller
# pages, so fewer transactions; after a quiet spell an event is read at once. Its pages also offer new runs
# to the devices (actors/queue.py), so the interval is short: while other runs explore, a new run starts up
# to 20 ms later (with 50 ms: POST -> run.started p50 44 ms instead of 20). The graph projection reads at
# every NOTIFY: a run's graph and its diff with another are asked for right after the run ends (with 200 ms
# between reads, a diff asked for at once missed the last screens).
RUNS_READ_INTERVAL_SECONDS = 0.02
GRAPH_READ_INTERVAL_SECONDS = 0.0


class PagedProjectionRunner:
    """A projection kept up to date by a thread of its own that applies the log a page at a time
    (`process_page`, one transaction: storage/log_follower.py), where eventsourcing's ProjectionRunner
    commits once per event. Used as that one is: a context manager, `wait`, `is_interrupted`, `view`."""

    def __init__(self, projection_class: type[Any], open_view: Callable[[dict[str, str]], TrackingRecorder],
                 env: dict[str, str], read_interval_seconds: float = 0.0,
                 after_page: Callable[[list[Any]], None] | None = None) -> None:
        self.app = RunService(env=env)
        self.read_interval_seconds = read_interval_seconds
        self.after_page = after_page  # given each page's events once the view has committed them
        self.view = open_view(env)
        self.projection = projection_class(view=self.view)
        self.is_interrupted = threading.Event()  # set when it stops: asked to, or on an error
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._follow, name=f"projection-{projection_class.name}", daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        try:
            position = self.view.max_tracking_id(self.app.name)
            for page in follow_pages(self.app.recorder, position, self.projection.topics, self.is_interrupted,
                                     self.read_interval_seconds):
                events = [self.app.mapper.to_domain_event(n) for n in page]
                self.projection.process_page([(e, Tracking(self.app.name, n.id)) for e, n in zip(events, page)])
                if self.after_page:
                    self.after_page(events)
        except BaseException as error:  # noqa: BLE001 - kept for close() and wait() to raise
            self.error = error
        finally:
            self.is_interrupted.set()

    def wait(self, notification_id: int | None, timeout: float = 1.0) -> None:
        """Until the view has tracked `notification_id` (TimeoutError after `timeout`); raises the error
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
        """Stops the thread and closes the log's connections (the view stays usable); re-raises its error."""
        self.is_interrupted.set()
        self.thread.join()
        self.app.close()
        if self.error is not None:
            raise self.error


def runs_projection_runner(env: dict[str, str], after_page: Callable[[list[Any]], None] | None = None
                           ) -> PagedProjectionRunner:
    return PagedProjectionRunner(RunsProjection, open_runs_view, env, RUNS_READ_INTERVAL_SECONDS, after_page)


def screen_graph_runner(env: dict[str, str]) -> PagedProjectionRunner:
    return PagedProjectionRunner(ScreenGraphProjection, open_graph_view, env, GRAPH_READ_INTERVAL_SECONDS)


class Projections:
    """The tracked projections, each run by its runner, in the process of the actor that hosts them (the
    JobQueue's: a process of their own would cost about 60 MiB more). A runner that stops on an error (the
    database restarted) is started again, and resumes after its last tracked notification: nothing is
    skipped or applied twice. `on_runs_page` is handed each page of events the runs table has applied."""

    def __init__(self, database_url: str, on_runs_page: Callable[[list[Any]], None] | None = None) -> None:
        env = event_store_env(database_url, checked=False)  # a runner's error restarts it (_supervise)
        self.log = logger_for("projector", "supervisor")
        self.factories: list[Callable[[], PagedProjectionRunner]] = [
            partial(runs_projection_runner, env, on_runs_page), partial(screen_graph_runner, env)]
        self.runners = [factory() for factory in self.factories]
        threading.Thread(target=self._supervise, name="projector-supervisor", daemon=True).start()
        self.log.info("projections following the event store")

    def healthy(self) -> bool:
        return not any(runner.is_interrupted.is_set() for runner in self.runners)

    def _supervise(self) -> None:
        while True:
            time.sleep(SUPERVISE_SECONDS)
            for index, runner in enumerate(self.runners):
                if runner.is_interrupted.is_set():
                    self.runners[index] = self._restart(runner, self.factories[index])

    def _restart(self, runner: PagedProjectionRunner, factory: Callable[[], PagedProjectionRunner]
                 ) -> PagedProjectionRunner:
        try:
            runner.close()  # joins its thread, closes its pool, re-raises its error
        except Exception as error:  # noqa: BLE001
            self.log.warning("runner stopped; restarting", extra={"error": str(error)[:300]})
        finally:
            runner.view.datastore.close()
        while True:
            try:
                return factory()
            except Exception as error:  # noqa: BLE001 - the database is still down: try again
                self.log.warning("runner restart failed", extra={"error": str(error)[:300]})
                time.sleep(RESTART_BACKOFF_SECONDS)
