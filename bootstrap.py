"""The composition root on a Ray cluster: the queue (which hosts the projections), the device workers and the API.

Used by the launcher (`make run`) and by the tests, each with its own PostgreSQL,
Ray and Appium already started.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import ray

from actors.device import DeviceWorker
from actors.placement import ON_HEAD, actor_name, device_resource, waiting_devices
from actors.queue import QUEUE_NAME, JobQueue
from config.logging import logger_for
from config.ray_workers import WITHOUT_WEB_STACK
from config.settings import Settings
from storage.schema import create_tables

APP_NAME = "runservice"
READY_SECONDS = 600  # 64 device actors start in minutes on 2 busy cores: Ray starts their processes two at a time
ASK_AGAIN_SECONDS = 0.5


@dataclass
class Service:
    settings: Settings
    queue: Any
    workers: list[Any] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # devices whose actors wait for a node that offers them

    @property
    def api_url(self) -> str:
        return self.settings.api_url


def start_actors(settings: Settings, device_caps: list[dict[str, Any]] | None = None,
                 detached: bool = False) -> Service:
    """Named actors; Ray restarts any that die. They live as long as the caller's process, or
    as long as the cluster when `detached` (a RayService: Serve builds the app in a passing task)."""
    ns = settings.ray_namespace
    lifetime = "detached" if detached else None
    create_tables(settings.database_url)
    queue = JobQueue.options(name=QUEUE_NAME, namespace=ns, get_if_exists=True, resources=ON_HEAD,
                             lifetime=lifetime, runtime_env=WITHOUT_WEB_STACK).remote(
        settings.lease_seconds, settings.database_url, settings.log_level)
    ray.get(queue.healthy.remote())  # constructed, with its projections following the log
    caps = device_caps or settings.device_caps()
    workers = [
        DeviceWorker.options(name=actor_name(device, i), namespace=ns, get_if_exists=True,
                             resources=device_resource(device), lifetime=lifetime, runtime_env=WITHOUT_WEB_STACK)
        .remote(actor_name(device, i), settings.worker_settings(), QUEUE_NAME, device)
        for i, device in enumerate(caps)
    ]
    # Wait only for the devices some node offers: the others stay pending until a node declares them.
    udids = [device.get("appium:udid") for device in caps]
    waiting = set(waiting_devices([udid for udid in udids if udid]))
    if waiting:
        logger_for("service", "bootstrap").warning("devices wait for a node that offers them",
                                                   extra={"waiting": sorted(waiting)})
    wait_ready([w for w, udid in zip(workers, udids) if udid not in waiting])
    return Service(settings, queue, workers, sorted(waiting))


def wait_ready(actors: list[Any], seconds: float = READY_SECONDS) -> None:
    """Each actor answers once; one that Ray restarted meanwhile (its process was slow to start on a
    loaded machine, or its __init__ failed once) is asked again, until `seconds` have passed."""
    deadline = time.monotonic() + seconds
    for actor in actors:
        while True:
            try:
                ray.get(actor.status.remote())
                break
            except ray.exceptions.ActorUnavailableError:  # it may answer so at once, all the while Ray restarts it
                if time.monotonic() > deadline:
                    raise
                time.sleep(ASK_AGAIN_SECONDS)


def start_api(settings: Settings) -> None:
    # Imported here: Serve and the API's modules cost a process 60 MB, and the launcher's
    # driver, which needs only the actors, runs this in a worker that exits afterwards.
    from ray import serve

    from serve_app import build_app

    # One HTTP proxy, on the head: device hosts serve no API (and on one machine their ports would clash)
    serve.start(proxy_location="HeadOnly", http_options={"host": settings.host, "port": settings.port},
                logging_config={"enable_access_log": False})
    serve.run(build_app(settings), name=APP_NAME, route_prefix="/")


def stop_api() -> None:
    from ray import serve

    serve.shutdown()


def start_detached(settings: Settings) -> tuple[int, list[str]]:
    """The actors, detached, and the API, for a caller that runs this in a Ray task that exits afterwards (the
    launcher's driver: the actors' and Serve's imports, 80 MB, stay out of its process). The number of devices,
    and those that wait for a node."""
    service = start_actors(settings, detached=True)
    start_api(settings)
    return len(service.workers), service.waiting


def stop_detached(settings: Settings) -> None:
    """Takes what start_detached started off a cluster that outlives its caller (a local Ray ends it all itself)."""
    stop_api()
    names = [QUEUE_NAME, *(actor_name(device, i) for i, device in enumerate(settings.device_caps()))]
    for name in names:
        try:
            ray.kill(ray.get_actor(name, namespace=settings.ray_namespace), no_restart=True)
        except ValueError:  # not there: it never started, or somebody ended it
            continue


def start_service(settings: Settings) -> Service:
    service = start_actors(settings)
    start_api(settings)
    return service
