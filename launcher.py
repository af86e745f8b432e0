"""`make run`: start everything the service needs, in the foreground.

PostgreSQL (embedded unless DATABASE_URL), Ray (local unless RAY_ADDRESS), an
Appium server with the simulator (unless APPIUM_URL), the actors and the API.
Ctrl-C or SIGTERM stops everything it started, in reverse order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack

import ray
from ray import serve

import bootstrap
from actors.appium import DeviceUnavailable, server_status
from config.logging import configure_logging, logger_for
from config.settings import REPO_ROOT, Settings, load_settings
from storage.postgres import EmbeddedPostgres

APPIUM_START_SECONDS = 180  # the first start installs Appium and the simulator from npm


def start_postgres(settings: Settings, stack: ExitStack) -> str:
    if settings.database_url:
        return settings.database_url
    server = EmbeddedPostgres(settings.embedded_database_dir).start()
    stack.callback(server.stop)
    return server.url


def start_appium(settings: Settings, stack: ExitStack) -> str:
    if settings.appium_url:
        return settings.appium_url
    url = settings.device_server_url
    process = subprocess.Popen([str(REPO_ROOT / "scripts" / "start-appium.sh")], start_new_session=True,
                               env={**os.environ, "APPIUM_PORT": str(settings.appium_port)})
    stack.callback(stop_process_group, process)
    deadline = time.monotonic() + APPIUM_START_SECONDS
    while not appium_ready(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Appium did not start on {url} (exit code {process.poll()})")
        time.sleep(0.2)
    return url


def appium_ready(url: str) -> bool:
    try:
        return bool(server_status(url, timeout=2).get("value", {}).get("ready", True))
    except DeviceUnavailable:
        return False


def stop_process_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def start_ray(settings: Settings, stack: ExitStack) -> str:
    context = ray.init(address=settings.ray_address or "local", namespace=settings.ray_namespace,
                       include_dashboard=True, dashboard_host="127.0.0.1",
                       dashboard_port=settings.ray_dashboard_port, log_to_driver=False,
                       logging_level="WARNING",
                       # a local Ray offers this machine's devices; a cluster's nodes declare their own
                       resources=None if settings.ray_address else settings.device_resources())
    stack.callback(ray.shutdown)
    stack.callback(serve.shutdown)
    return f"http://{context.dashboard_url}" if context.dashboard_url else "(no dashboard)"


def main() -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    log = logger_for("service", "launcher")
    stopping = threading.Event()
    with ExitStack() as stack:
        database_url = start_postgres(settings, stack)
        appium_url = start_appium(settings, stack)
        settings = settings.model_copy(update={"database_url": database_url, "appium_url": appium_url})
        dashboard = start_ray(settings, stack)
        for sig in (signal.SIGINT, signal.SIGTERM):  # after ray.init, which installs handlers of its own
            signal.signal(sig, lambda *_: stopping.set())
        service = bootstrap.start_service(settings)
        print(f"\nRun service ready\n  API:            {service.api_url}  (docs: {service.api_url}/docs)\n"
              f"  Ray dashboard:  {dashboard}\n  Database:       {database_url}\n  Appium:         {appium_url}\n"
              f"  Devices:        {len(service.workers)}\nCtrl-C stops everything.\n", flush=True)
        log.info("service ready", extra={"api": service.api_url, "devices": len(service.workers)})
        stopping.wait()
        log.info("stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
