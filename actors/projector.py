"""Projector: the actor that follows the event store's notification log.

It runs the tracked projections: the runs table and the screen graph. (The
dispatcher, which offers each queued run to a device, is the JobQueue's: it
follows the log itself.)
"""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Callable

import ray
from eventsourcing.projection import BaseProjectionRunner, ProjectionRunner

from config.logging import configure_logging, logger_for
from config.settings import Settings
from domain.application import RunService
from domain.projections import RunsProjection
from domain.screen_graph import ScreenGraphProjection
from storage.graph_view import GraphView
from storage.postgres import event_store_env
from storage.runs_view import RunsView

SUPERVISE_SECONDS = 0.5
RESTART_BACKOFF_SECONDS = 1.0


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

    def __init__(self, settings: Settings) -> None:
        configure_logging(settings.log_level)
        env = event_store_env(settings.database_url, checked=False)  # a runner's error restarts it (_supervise)
        self.log = logger_for("projector", "supervisor")
        self.factories: list[Callable[[], BaseProjectionRunner]] = [
            partial(runs_projection_runner, env), partial(screen_graph_runner, env)]
        self.runners = [factory() for factory in self.factories]
        self.restarts = 0
        threading.Thread(target=self._supervise, name="projector-supervisor", daemon=True).start()
        self.log.info("projections following the event store")

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
