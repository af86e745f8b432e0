"""The composition root on a Ray cluster: the queue, the projector, the device workers and the API.

Used by the launcher (`make run`) and by the tests, each with its own PostgreSQL,
Ray and Appium already started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ray
from ray import serve

from actors.device import DeviceWorker
from actors.projector import Projector
from actors.queue import QUEUE_NAME, JobQueue
from config.settings import Settings
from serve_app import build_app
from storage.schema import create_tables

APP_NAME = "runservice"


@dataclass
class Service:
    settings: Settings
    queue: Any
    projector: Any
    workers: list[Any] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"


def start_actors(settings: Settings, device_caps: list[dict[str, Any]] | None = None) -> Service:
    """Named, detached-from-caller actors; Ray restarts any that die."""
    ns = settings.ray_namespace
    create_tables(settings.database_url)
    queue = JobQueue.options(name=QUEUE_NAME, namespace=ns, get_if_exists=True).remote(
        settings.lease_seconds, settings.database_url)
    projector = Projector.options(name="projector", namespace=ns, get_if_exists=True).remote(settings, QUEUE_NAME)
    ray.get(projector.healthy.remote())  # tables exist before the API or workers use them
    caps = device_caps or settings.device_caps()
    workers = [
        DeviceWorker.options(name=f"device-{i}", namespace=ns, get_if_exists=True, resources=device_resource(device))
        .remote(f"device-{i}", settings, QUEUE_NAME, device)
        for i, device in enumerate(caps)
    ]
    ray.get([w.status.remote() for w in workers])
    return Service(settings, queue, projector, workers)


def device_resource(device_caps: dict[str, Any]) -> dict[str, float]:
    """A real device's worker runs on the host it is plugged into (cluster.yaml declares device_<udid>)."""
    udid = device_caps.get("appium:udid")
    return {f"device_{udid}": 1} if udid else {}


def start_api(settings: Settings) -> None:
    serve.start(http_options={"host": settings.host, "port": settings.port}, logging_config={"enable_access_log": False})
    serve.run(build_app(settings), name=APP_NAME, route_prefix="/")


def start_service(settings: Settings) -> Service:
    service = start_actors(settings)
    start_api(settings)
    return service
