"""Projector: the actor that follows the event store's notification log.

It runs the tracked projections (the runs table, the screen graph) and the
dispatcher, which puts each requested run into the JobQueue. The dispatcher
records its tracking after the put, so a crash between the two re-offers the
run (at-least-once); the queue and the Run aggregate make the duplicate harmless.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Any, Callable

import ray
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection, ProjectionRunner
from eventsourcing.utils import Environment, get_topic

from config.logging import configure_logging, logger_for
from config.settings import Settings
from domain.application import RunService
from domain.projections import RunsProjection, run_id_of
from domain.run import QUEUED, Run
from domain.screen_graph import ScreenGraphProjection
from storage.graph_view import GraphView
from storage.postgres import event_store_env
from storage.runs_view import RunsView

SUPERVISE_SECONDS = 0.5
RESTART_BACKOFF_SECONDS = 1.0


class Dispatcher(Projection[PostgresTrackingRecorder]):
    name = "dispatcher"
    topics = (get_topic(Run.Requested), get_topic(Run.Resumed))

    def __init__(self, view: PostgresTrackingRecorder, queue: Any) -> None:
        super().__init__(view)
        self.queue = queue

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if is_queued_by(domain_event):
            ray.get(self.queue.put.remote(run_id_of(domain_event)))
        self.view.insert_tracking(tracking)


def is_queued_by(domain_event: Any) -> bool:
    """A request queues a run; a resume only when the run was paused (a withdrawn pause
    leaves it running on its worker, and a second worker must not take it over)."""
    return not isinstance(domain_event, Run.Resumed) or domain_event.status == QUEUED


def dispatcher_runner(env: dict[str, str], queue: Any) -> BaseProjectionRunner:
    factory = InfrastructureFactory.construct(env=Environment(Dispatcher.name, env))
    view = factory.tracking_recorder(PostgresTrackingRecorder)  # table dispatcher_tracking
    return BaseProjectionRunner(projection=Dispatcher(view, queue), application_class=RunService,
                                tracking_recorder=view, topics=Dispatcher.topics, env=env)


def runs_projection_runner(env: dict[str, str]) -> ProjectionRunner:
    return ProjectionRunner(application_class=RunService, projection_class=RunsProjection,
                            view_class=RunsView, env=env)


def screen_graph_runner(env: dict[str, str]) -> ProjectionRunner:
    return ProjectionRunner(application_class=RunService, projection_class=ScreenGraphProjection,
                            view_class=GraphView, env=env)


@ray.remote(num_cpus=0, max_restarts=-1)
class Projector:
    """Hosts the runners; a runner that stops on an error (the database restarted) is started
    again, and resumes after its last tracked notification: nothing is skipped or applied twice."""

    def __init__(self, settings: Settings, queue_name: str) -> None:
        configure_logging(settings.log_level)
        env = event_store_env(settings.database_url, checked=False)  # a runner's error restarts it (_supervise)
        queue = ray.get_actor(queue_name, namespace=settings.ray_namespace)
        self.log = logger_for("projector", "supervisor")
        self.factories: list[Callable[[], BaseProjectionRunner]] = [
            partial(runs_projection_runner, env), partial(screen_graph_runner, env), partial(dispatcher_runner, env, queue)]
        self.runners = [factory() for factory in self.factories]
        self.restarts = 0
        threading.Thread(target=self._supervise, name="projector-supervisor", daemon=True).start()
        self.log.info("projections and dispatcher following the event store")

    def healthy(self) -> bool:
        return not any(runner.is_interrupted.is_set() for runner in self.runners)

    def status(self) -> dict[str, int]:
        return {"runners": len(self.runners), "restarts": self.restarts}

    def _supervise(self) -> None:
        while True:
            time.sleep(SUPERVISE_SECONDS)
            for index, runner in enumerate(self.runners):
                if runner.is_interrupted.is_set():
                    self.runners[index] = self._restart(runner, self.factories[index])

    def _restart(self, runner: BaseProjectionRunner, factory: Callable[[], BaseProjectionRunner]) -> BaseProjectionRunner:
        try:
            runner.__exit__(None, None, None)  # joins its threads, closes its pool, re-raises its error
        except Exception as error:  # noqa: BLE001
            self.log.warning("runner stopped; restarting", extra={"error": str(error)[:300]})
        while True:
            try:
                self.restarts += 1
                return factory()
            except Exception as error:  # noqa: BLE001 - the database is still down: try again
                self.log.warning("runner restart failed", extra={"error": str(error)[:300]})
                time.sleep(RESTART_BACKOFF_SECONDS)
