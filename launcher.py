"""`make run`: start everything the service needs, in the foreground.

PostgreSQL (embedded unless DATABASE_URL), Ray (local unless RAY_ADDRESS), an
Appium server with the simulator (unless APPIUM_URL), the actors and the API.

Two processes. This one, the launcher, starts PostgreSQL, Appium and the Ray
driver (`launcher.py --driver`: Ray, then the actors and the API from a passing
Ray worker, which keeps their imports out of the driver), each in a session
of its own, and stops them in reverse order on SIGINT or SIGTERM. Ray's own
processes (GCS, raylet, dashboard) are children of the driver and share its
process group: in the launcher's group, a SIGTERM to the whole group (systemd,
supervisord) killed them under the driver, whose stop then hung and exited
before PostgreSQL and Appium were stopped. In a session of their own only the
launcher signals them, so every stop is the same orderly one. The launcher
records what it started in DATA_DIR (supervision.py), and ends what a launcher
killed with SIGKILL left there.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any, Callable

from config import ray_workers
from config.logging import ContextLogger, configure_logging, logger_for
from config.settings import REPO_ROOT, Settings, load_settings
from storage.postgres import EmbeddedPostgres
from supervision import DataDirInUse, Supervision

APPIUM_START_SECONDS = 180  # the first start installs Appium and the simulator from npm
APPIUM_STOP_SECONDS = 5  # it stops in 1-2 s, under load too, and keeps nothing: past this it is killed


def start_postgres(settings: Settings, stack: ExitStack) -> str:
    if settings.database_url:
        return settings.database_url
    server = EmbeddedPostgres(settings.embedded_database_dir).start()
    stack.callback(server.stop)
    return server.url


def start_appium(settings: Settings, stack: ExitStack, supervision: Supervision | None = None) -> str:
    if settings.appium_url:
        return settings.appium_url
    url = settings.device_server_url
    process = subprocess.Popen([str(REPO_ROOT / "scripts" / "start-appium.sh")], start_new_session=True,
                               env={**os.environ, "APPIUM_PORT": str(settings.appium_port)})
    if supervision:
        supervision.record("appium", process.pid)
        stack.callback(supervision.forget, "appium")
    stack.callback(stop_process_group, process)
    deadline = time.monotonic() + APPIUM_START_SECONDS
    while not appium_ready(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Appium did not start on {url} (exit code {process.poll()})")
        time.sleep(0.2)
    return url


def appium_ready(url: str) -> bool:
    """Plain HTTP on purpose: the Appium client (adapters.appium) would bring Ray and Selenium into the launcher."""
    try:
        with urllib.request.urlopen(f"{url}/status", timeout=2) as response:
            return bool(json.load(response).get("value", {}).get("ready", True))
    except (OSError, ValueError):
        return False


def stop_process_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=APPIUM_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def start_ray(settings: Settings, stack: ExitStack) -> str:
    import ray  # here, not at the top: the launcher process never needs Ray

    if not settings.ray_address:
        os.environ.update(ray_workers.RAY_ENV)
    context = ray.init(address=settings.ray_address or "local", namespace=settings.ray_namespace,
                       include_dashboard=True, dashboard_host="127.0.0.1",
                       dashboard_port=settings.ray_dashboard_port, log_to_driver=False,
                       logging_level="WARNING",
                       # a local Ray offers this machine's devices; a cluster's nodes declare their own
                       resources=None if settings.ray_address else settings.device_resources(),
                       runtime_env=ray_workers.RUNTIME_ENV)
    stack.callback(ray.shutdown)
    if not settings.ray_address:
        ray_workers.drop_unused_ray_processes()
    return f"http://{context.dashboard_url}" if context.dashboard_url else "(no dashboard)"


DRIVER_FLAG = "--driver"
# Its ray.shutdown takes 1-2 s, under load too, and Serve's shutdown on a cluster about 6 s; past this it is
# killed. The worst stop is then this, supervision.LEFTOVER_SECONDS and storage.postgres.STOP_SECONDS (Appium's
# 5 s run alongside): about 20 s, within what process managers give (systemd: 90 s by default).
DRIVER_STOP_SECONDS = 12


def main() -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    if DRIVER_FLAG in sys.argv[1:]:
        return run_driver(settings)
    return run_launcher(settings)


def run_launcher(settings: Settings) -> int:
    log = logger_for("service", "launcher")
    stopping = stop_on_signals(threading.Event())
    try:
        supervision = Supervision.take(settings.data_dir)
    except DataDirInUse as error:
        log.error(str(error))
        return 1
    times: dict[str, float] = {}  # how long each part took to stop, for operators
    with ExitStack() as stack:
        end_leftovers(settings, supervision, log)
        # both only need to outlive the driver, whose actors use them: they stop together once it is gone
        postgres, appium = ExitStack(), ExitStack()
        stack.callback(stop_together, times, postgres=postgres, appium=appium)
        database_url = start_postgres(settings, postgres)
        appium_url = start_appium(settings, appium, supervision)
        driver = start_driver(database_url, appium_url, stack, supervision, times)
        while driver.poll() is None and not stopping.wait(0.5):
            pass
        log.info("stopping")
        began = time.monotonic()
    log.info("stopped", extra={"seconds": {**times, "total": round(time.monotonic() - began, 2)}})
    return 0 if stopping.is_set() else driver.returncode or 1


def stop_together(times: dict[str, float], **stacks: ExitStack) -> None:
    """Closes each of `stacks` in a thread of its own; raises what one of them raised."""
    with ThreadPoolExecutor(len(stacks)) as pool:
        stops = [pool.submit(timed, times, name, stack.close) for name, stack in stacks.items()]
    for stop in stops:
        stop.result()


def timed(times: dict[str, float], name: str, stop: Callable[..., Any], *args: Any) -> None:
    began = time.monotonic()
    try:
        stop(*args)
    finally:
        times[name] = round(time.monotonic() - began, 2)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_on_signals(stopping: threading.Event) -> threading.Event:
    """Sets `stopping` on SIGINT or SIGTERM from a thread, never from the handler.

    Python runs a handler between any two bytecodes of the main thread, also inside a handler that is running. make
    passes a SIGTERM sent to its process group on to its child, so two come in a row, and a second `stopping.set()`
    inside the first one's waited forever on the Event's lock, which is not reentrant (2 stops in 100 hung).
    The handler does nothing: Python's wakeup fd carries the signal to the thread.
    """
    wake_read, wake_write = socket.socketpair()
    wake_write.setblocking(False)
    signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: None)
    threading.Thread(target=set_on_stop_signal, args=(stopping, wake_read, wake_write), daemon=True,
                     name="stop-signals").start()
    return stopping


def set_on_stop_signal(stopping: threading.Event, wake_read: socket.socket, wake_write: socket.socket) -> None:
    """Reads the signal numbers Python writes to `wake_write` (kept open here) and sets `stopping` on a stop."""
    while received := wake_read.recv(64):
        if set(received) & set(STOP_SIGNALS):
            stopping.set()


def end_leftovers(settings: Settings, supervision: Supervision, log: ContextLogger) -> None:
    """Ends what a launcher killed with SIGKILL left on this DATA_DIR: the users (Ray) first, the database last."""
    for name in ("ray-driver", "appium"):
        if pids := supervision.end(name):
            log.warning("ended what a previous launcher left", extra={"what": name, "pids": pids})
    if not settings.database_url:
        leftover = EmbeddedPostgres(settings.embedded_database_dir)
        if leftover.is_running():
            leftover.stop()
            log.warning("ended what a previous launcher left",
                        extra={"what": "postgres", "dataDir": str(leftover.data_dir)})


def start_driver(database_url: str, appium_url: str, stack: ExitStack, supervision: Supervision,
                 times: dict[str, float]) -> subprocess.Popen:
    driver = subprocess.Popen([sys.executable, __file__, DRIVER_FLAG], start_new_session=True,
                              env={**os.environ, "DATABASE_URL": database_url, "APPIUM_URL": appium_url})
    supervision.record("ray-driver", driver.pid)
    stack.callback(timed, times, "driver", supervision.end, "ray-driver", DRIVER_STOP_SECONDS)
    return driver


def run_driver(settings: Settings) -> int:
    """Ray, the actors and the API, until the launcher sends SIGTERM or goes away."""
    log = logger_for("service", "driver")
    stopping = threading.Event()
    threading.Thread(target=stop_with_launcher, args=(stopping,), daemon=True).start()
    with ExitStack() as stack:
        dashboard = start_ray(settings, stack)
        stop_on_signals(stopping)  # after ray.init, which installs handlers of its own
        if settings.ray_address:  # the cluster outlives this driver: take the service off it (a local Ray ends it)
            import bootstrap  # here: importing Serve while stopping is quicker than a new worker

            stack.callback(bootstrap.stop_detached, settings)
        devices, waiting = in_worker("bootstrap.start_detached", settings)
        print(f"\nRun service ready\n  API:            {settings.api_url}  (docs: {settings.api_url}/docs)\n"
              f"  Ray dashboard:  {dashboard}\n  Database:       {settings.database_url}\n"
              f"  Appium:         {settings.appium_url}\n  Devices:        {devices}\n"
              f"Ctrl-C stops everything.\n", flush=True)
        log.info("service ready", extra={"api": settings.api_url, "devices": devices, "waiting": waiting})
        stopping.wait()
        log.info("stopping")
        began = time.monotonic()
    log.info("stopped", extra={"seconds": round(time.monotonic() - began, 2)})
    return 0


def in_worker(function: str, *args: Any) -> Any:
    """Runs `function` ("module.name") in a Ray worker that exits after it: the driver never imports its module."""
    import ray

    return ray.get(ray.remote(num_cpus=0, max_calls=1)(call).remote(function, *args))


def call(function: str, *args: Any) -> Any:
    module, name = function.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(*args)


def stop_with_launcher(stopping: threading.Event) -> None:
    """A launcher killed with SIGKILL cannot stop the driver: it stops itself once its parent is gone."""
    launcher = os.getppid()
    while not stopping.wait(1):
        if os.getppid() != launcher:
            stopping.set()


if __name__ == "__main__":
    sys.exit(main())
