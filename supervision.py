"""The launcher's hold on DATA_DIR: one launcher at a time, and a record of the processes it starts.

A launcher killed with SIGKILL stops nothing. The next launcher on the same
DATA_DIR takes the lock (the kernel released it with the killed process), finds
what the killed one recorded in `DATA_DIR/run/` and ends it. Each recorded
process leads a session of its own (started with `start_new_session`), so
"everything it started" is everything in that session: for the Ray driver, Ray's
GCS, raylet, dashboard, agents and every worker, since Ray's workers change their
process group but not their session.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path
from typing import IO

import psutil

TERM_SECONDS = 10  # what a process gets between SIGTERM and SIGKILL
# What is left of a session once its leader is gone gets less: the leader's own stop ends the rest (the
# driver's ray.shutdown ends Ray's processes), so what is still up was left by a leader that hung or was killed.
LEFTOVER_SECONDS = 3


class DataDirInUse(RuntimeError):
    pass


class Supervision:
    def __init__(self, data_dir: Path, lock: IO[str]) -> None:
        self.records = data_dir / "run"
        self._lock = lock  # held while this process lives: released by the kernel even on SIGKILL

    @classmethod
    def take(cls, data_dir: Path) -> "Supervision":
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = open(data_dir / "launcher.lock", "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise DataDirInUse(f"another launcher is running on {data_dir}") from None
        supervision = cls(data_dir, lock)
        supervision.records.mkdir(exist_ok=True)
        return supervision

    def record(self, name: str, pid: int) -> None:
        """`pid` leads a session of its own; its start time tells it apart from a later process given the same pid."""
        (self.records / f"{name}.pid").write_text(f"{pid} {psutil.Process(pid).create_time()}\n")

    def forget(self, name: str) -> None:
        (self.records / f"{name}.pid").unlink(missing_ok=True)

    def end(self, name: str, grace: float = TERM_SECONDS) -> list[int]:
        """Ends the recorded session `name` (this launcher's, or one a killed launcher left); the pids it ended."""
        path = self.records / f"{name}.pid"
        if not path.exists():
            return []
        pid, started = path.read_text().split()
        ended = end_session(int(pid), float(started), grace)
        self.forget(name)
        return ended


def session_members(sid: int, started: float) -> list[psutil.Process]:
    """Live processes of session `sid` that began no earlier than its leader (so none of a reused pid's)."""
    members = []
    for process in psutil.process_iter(["create_time", "status"]):
        try:
            if (os.getsid(process.pid) == sid and process.info["create_time"] >= started - 1
                    and process.info["status"] != psutil.STATUS_ZOMBIE):
                members.append(process)
        except (ProcessLookupError, PermissionError):
            continue
    return members


def end_session(leader: int, started: float, grace: float = TERM_SECONDS) -> list[int]:
    """SIGTERM to the leader first (it stops its own in order), then to whatever of its session is left, then SIGKILL."""
    members = session_members(leader, started)
    first = [p for p in members if p.pid == leader]
    terminate(first, grace)
    terminate([p for p in session_members(leader, started) if p.pid != leader], LEFTOVER_SECONDS)
    return [p.pid for p in members]


def terminate(processes: list[psutil.Process], grace: float) -> None:
    for process in processes:
        try:
            process.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass
    alive = wait_dead(processes, grace)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    wait_dead(alive, 5)


def wait_dead(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Those of `processes` still alive after `timeout`. Not psutil.wait_procs, which waits until an exited
    orphan is reaped: the container's init reaps every 2 s or so, which made each wait of a stop last that long."""
    deadline = time.monotonic() + timeout
    while (alive := [p for p in processes if not dead(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def dead(process: psutil.Process) -> bool:
    try:
        if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            return False
        process.wait(0)  # reaps it if it is a child of ours; an orphan is its init's to reap
    except (psutil.NoSuchProcess, psutil.TimeoutExpired, ChildProcessError):
        pass
    return True
