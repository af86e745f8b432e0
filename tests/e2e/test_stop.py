"""Stopping `make run` as process managers do: nothing of the service is left, and the next start sees every run.

systemd, supervisord and a terminal signal the service's whole process group;
`kill` signals the launcher alone; the OOM killer or `kill -9` leaves everything
it started to the next start. Every test starts its own `make run` with its own
DATA_DIR and free ports, finds the service's processes (the launcher's
descendants, the embedded PostgreSQL, everything in the sessions they lead, and
whatever names the test's DATA_DIR or Appium port), and kills only those.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.fixtures.appium import sample_app
from tests.fixtures.service import free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 300
STOP_SECONDS = 30  # the bound: no process of the service left after this
LEFT_BY_A_KILLED_LAUNCHER = "ended what a previous launcher left"


@dataclass
class Service:
    make: subprocess.Popen
    data_dir: Path
    api: str
    appium_port: int
    log: Path

    @property
    def launcher(self) -> psutil.Process:
        return next(p for p in psutil.Process(self.make.pid).children() if "launcher.py" in " ".join(p.cmdline()))

    def processes(self) -> list[psutil.Process]:
        """Every process of the service now: make, the launcher's tree, PostgreSQL's, and their sessions' members."""
        launcher = self.launcher
        found = {p.pid: p for p in [psutil.Process(self.make.pid), launcher, *launcher.children(recursive=True)]}
        postmaster = int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        found.update((p.pid, p) for p in [psutil.Process(postmaster), *psutil.Process(postmaster).children()])
        found.update((p.pid, p) for p in self.strays({os.getsid(pid) for pid in found}))
        return list(found.values())

    def strays(self, sessions: set[int]) -> list[psutil.Process]:
        """Live processes in one of `sessions`, or naming this service's DATA_DIR or Appium port."""
        marks = (str(self.data_dir), f"--port {self.appium_port}")
        out = []
        for process in psutil.process_iter(["cmdline", "status"]):
            try:
                mine = os.getsid(process.pid) in sessions or any(m in " ".join(process.info["cmdline"] or [])
                                                                 for m in marks)
            except (ProcessLookupError, PermissionError):
                continue
            if mine and process.info["status"] != psutil.STATUS_ZOMBIE and process.pid != os.getpid():
                out.append(process)
        return out

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.api}{path}", timeout=30) as response:
            return json.load(response)

    def run_to_end(self) -> tuple[str, str]:
        """A one-step run on the simulator, followed on its stream to the end: (runId, final status)."""
        body = {"apkPath": sample_app("notes"), "appiumServerUrl": f"http://127.0.0.1:{self.appium_port}",
                "packageName": "com.example.notes", "appActivity": ".ConsentActivity", "maxSteps": 1}
        request = urllib.request.Request(f"{self.api}/run", json.dumps(body).encode(),
                                         {"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            run = json.load(response)
        with urllib.request.urlopen(f"{self.api}{run['streamUrl']}", timeout=120) as stream:
            assert "event: run.completed" in stream.read().decode()
        return run["runId"], self.get(f"/run/{run['runId']}")["status"]

    def log_lines(self) -> list[dict]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


def healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Outside pytest's temp root, which pytest makes private again whenever a session starts: PostgreSQL's own
    user must reach its data directory at every start."""
    home = Path(tempfile.mkdtemp(prefix="runservice-stop-"))
    yield home / "data"
    shutil.rmtree(home, ignore_errors=True)


def ready(log: Path) -> bool:
    return '"message": "service ready"' in log.read_text(errors="replace")


def service_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RAY_ADDRESS", "APPIUM_URL")}
    env.update(PORT=str(free_port()), APPIUM_PORT=str(free_port()), RAY_DASHBOARD_PORT=str(free_port()),
               DATA_DIR=str(data_dir), DEVICES="1")
    return env


@contextmanager
def started(env: dict[str, str], log: Path) -> Iterator[Service]:
    """`make run` in a process group of its own (as a process manager starts it), healthy; killed if a test fails."""
    make = subprocess.Popen(["make", "run"], cwd=REPO, env=env, start_new_session=True,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    service = Service(make, Path(env["DATA_DIR"]), f"http://127.0.0.1:{env['PORT']}", int(env["APPIUM_PORT"]), log)
    known: list[psutil.Process] = []
    try:
        # its own driver's word first: right after a SIGKILL, the killed launcher's API may still answer
        wait_for(lambda: (ready(log) and healthy(service.api)) or make.poll() is not None, START_SECONDS, "ready")
        assert make.poll() is None, log.read_text()[-3000:]
        known = service.processes()
        yield service
    finally:
        leftovers = known + service.strays(sessions_of(known) | {make.pid})
        for process in leftovers:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(leftovers, timeout=10)
        if make.poll() is None:
            make.kill()
            make.wait()


def running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def describe(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())[:200]
    except psutil.Error:
        return "?"


def sessions_of(processes: list[psutil.Process]) -> set[int]:
    sessions = set()
    for process in processes:
        try:
            sessions.add(os.getsid(process.pid))
        except ProcessLookupError:
            continue
    return sessions


def stop_and_assert_nothing_left(service: Service, stop: Callable[[Service], None]) -> None:
    """Within STOP_SECONDS of `stop` every process found before it is gone, and none of the service came since."""
    before = service.processes()
    sessions = sessions_of(before)
    stop(service)
    deadline = time.monotonic() + STOP_SECONDS
    try:
        service.make.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        alive = [(p.pid, describe(p)) for p in before if running(p)]
        pytest.fail(f"make run still running {STOP_SECONDS} s after the stop; alive: {alive}\n"
                    + service.log.read_text(errors="replace")[-4000:])
    _, alive = psutil.wait_procs(before, timeout=max(0.0, deadline - time.monotonic()))
    log = service.log.read_text(errors="replace")[-4000:]
    assert [(p.pid, describe(p)) for p in alive if running(p)] == [], log
    assert [(p.pid, describe(p)) for p in service.strays(sessions)] == [], log
    assert not healthy(service.api)


STOPS: dict[str, Callable[[Service], None]] = {
    "SIGTERM to the process group": lambda service: os.killpg(service.make.pid, signal.SIGTERM),
    "SIGINT to the process group": lambda service: os.killpg(service.make.pid, signal.SIGINT),
    "SIGTERM to the launcher": lambda service: service.launcher.send_signal(signal.SIGTERM),
}


def test_each_stop_leaves_nothing_and_the_next_start_sees_every_run(tmp_path, data_dir):
    env = service_env(data_dir)
    runs: dict[str, str] = {}
    for i, (how, stop) in enumerate(STOPS.items()):
        with started(env, tmp_path / f"start-{i}.log") as service:
            for run_id, status in runs.items():  # the earlier starts' runs, as they ended
                assert service.get(f"/run/{run_id}")["status"] == status, how
            run_id, status = service.run_to_end()
            runs[run_id] = status
            stop_and_assert_nothing_left(service, stop)


def test_a_start_after_sigkill_ends_what_the_killed_launcher_left(tmp_path, data_dir):
    env = service_env(data_dir)
    with started(env, tmp_path / "killed.log") as killed:
        run_id, status = killed.run_to_end()
        before = [p for p in killed.processes() if p.pid != killed.make.pid]
        killed.launcher.send_signal(signal.SIGKILL)
        assert killed.make.wait(timeout=30) != 0
        names = " ".join(describe(p) for p in before if running(p))  # the killed ones are zombies until reaped
        assert "bin/postgres" in names and "appium" in names  # in sessions of their own, they go on
        with started(env, tmp_path / "next.log") as service:  # same DATA_DIR and ports: a clash unless it ends them
            ended = {line.get("what") for line in service.log_lines() if line["message"] == LEFT_BY_A_KILLED_LAUNCHER}
            assert {"postgres", "appium"} <= ended, service.log.read_text()[-3000:]
            assert [(p.pid, describe(p)) for p in before if running(p)] == []
            assert service.get(f"/run/{run_id}")["status"] == status
            stop_and_assert_nothing_left(service, STOPS["SIGTERM to the process group"])
