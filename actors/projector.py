"""Projector: the actor that follows the event store's notification log.

It runs the tracked projections (the runs table, the screen graph) and the
dispatcher, which puts each requested run into the JobQueue. The dispatcher
records its tracking after the put, so a crash between the two re-offers the
run (at-least-once); the queue and the Run aggregate make the duplicate harmless.
"""

from __future__ import annotations

from typing import Any

import ray
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection, ProjectionRunner
from eventsourcing.utils import Environment, get_topic

from config.logging import configure_logging, logger_for
from config.settings import Settings
from domain.application import RunService
from domain.projections import RunsProjection, run_id_of
from domain.run import Run
from domain.screen_graph import ScreenGraphProjection
from storage.graph_view import GraphView
from storage.postgres import event_store_env
from storage.runs_view import RunsView


class Dispatcher(Projection[PostgresTrackingRecorder]):
    name = "dispatcher"
    topics = (get_topic(Run.Requested),)

    def __init__(self, view: PostgresTrackingRecorder, queue: Any) -> None:
        super().__init__(view)
        self.queue = queue

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        ray.get(self.queue.put.remote(run_id_of(domain_event)))
        self.view.insert_tracking(tracking)


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
    def __init__(self, settings: Settings, queue_name: str) -> None:
        configure_logging(settings.log_level)
        env = event_store_env(settings.database_url)
        queue = ray.get_actor(queue_name, namespace=settings.ray_namespace)
        self.runners = [runs_projection_runner(env), screen_graph_runner(env), dispatcher_runner(env, queue)]
        logger_for("projector", "start").info("projections and dispatcher following the event store")

    def healthy(self) -> bool:
        """False once a runner's thread has stopped on an error (Ray then restarts this actor)."""
        return not any(runner.is_interrupted.is_set() for runner in self.runners)
