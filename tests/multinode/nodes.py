"""Ray nodes as an operator starts them (`ray start --block`), each a raylet of its own on this
machine: its own ports, one temporary directory for the cluster, token authentication on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from tests.fixtures.appium import free_port

RAY = str(Path(sys.executable).parent / "ray")
STOP_SECONDS = 30
# token authentication, as on any node that joins; unbuffered, so that the log says when it started
NODE_ENV = {"RAY_AUTH_MODE": "token", "PYTHONUNBUFFERED": "1"}


class RayNode:
    """One `ray start --block` process group: killing the group kills the raylet and its workers."""

    def __init__(self, name: str, args: list[str], log_dir: Path) -> None:
        self.name, self.args, self.log = name, args, log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "RayNode":
        self.starts_before = self.log.read_text(errors="replace").count("Ray runtime started") if self.log.exists() else 0
        ports = ["--node-manager-port", "--object-manager-port", "--metrics-export-port",
                 "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--runtime-env-agent-port"]
        port_args = [arg for flag in ports for arg in (flag, str(free_port()))]
        command = [RAY, "start", "--block", "--disable-usage-stats", *self.args, *port_args,
                   "--min-worker-port", "0", "--max-worker-port", "0"]  # workers: any free port
        self.process = subprocess.Popen(command, start_new_session=True, stdout=open(self.log, "ab"),
                                        stderr=subprocess.STDOUT, env={**os.environ, **NODE_ENV})
        return self

    def kill(self) -> None:
        """Abruptly, as a host that loses power: SIGKILL to the raylet, its workers and agents at once
        (Ray puts each worker in a process group of its own, so they are found as descendants)."""
        processes = [psutil.Process(self.process.pid)]
        processes += processes[0].children(recursive=True)
        for process in processes:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        self.process.wait(timeout=STOP_SECONDS)
        psutil.wait_procs(processes, timeout=STOP_SECONDS)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ready(self) -> bool:
        """Started (`ray start` says so once its raylet has registered), restarting it if it gave up."""
        return self.running() and self.log.read_text(errors="replace").count("Ray runtime started") > self.starts_before

    def running(self) -> bool:
        """True while the node runs; one that gave up starting is started again (a raylet waits
        15 s for its agents to start and `ray start` 30 s for the raylet: a loaded machine can
        exceed both)."""
        if not self.alive():
            self.stop()
            self.start()
        return True

    def stop(self) -> None:
        """At the end of a test nothing needs a graceful stop: nothing of the node may outlive it."""
        if self.alive():
            self.kill()
        else:
            self._signal(signal.SIGKILL)  # a node that exited by itself: its process group

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass


def head_node(temp_dir: Path, log_dir: Path) -> tuple[RayNode, str]:
    port = free_port()
    args = ["--head", "--port", str(port), "--temp-dir", str(temp_dir), "--num-cpus", "2",
            "--include-dashboard", "false", "--dashboard-port", str(free_port()),
            "--ray-client-server-port", str(free_port())]
    return RayNode("head", args, log_dir).start(), f"127.0.0.1:{port}"


def device_node(name: str, address: str, udids: list[str], log_dir: Path) -> RayNode:
    resources = json.dumps({f"device_{udid}": 1 for udid in udids})
    return RayNode(name, ["--address", address, "--num-cpus", "1", "--resources", resources], log_dir).start()
