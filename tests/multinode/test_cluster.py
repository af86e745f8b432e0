"""The service on a Ray cluster of several nodes on this machine, as the README starts one:
`ray start --head`, device hosts that `ray start --address ... --resources` their devices, and
`make run` (the launcher) with RAY_ADDRESS. A device host is killed mid-run and comes back."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from actors.queue import QUEUE_NAME
from tests.fixtures.postgres import with_database
from tests.fixtures.service import free_port, read_stream, start_body, wait_for
from tests.multinode.nodes import RayNode, device_node, head_node

REPO = Path(__file__).resolve().parents[2]
HOSTS = {"host-a": ["sim-0", "sim-1"], "host-b": ["sim-2", "sim-3"]}
START_SECONDS = 420  # a node that gives up starting is started again: minutes on a loaded machine
RUN_SECONDS = 300


class Cluster:
    def __init__(self, root: Path, appium_url: str, database_url: str) -> None:
        self.root, self.appium_url, self.database_url = root, appium_url, database_url
        self.nodes: dict[str, RayNode] = {}
        self.head, self.address = head_node(root / "ray", root)
        self.launcher: subprocess.Popen | None = None
        self.api = f"http://127.0.0.1:{free_port()}"

    def start_service(self) -> None:
        wait_for(self.head.ready, START_SECONDS, "the head node")
        env = {**os.environ, "RAY_ADDRESS": self.address, "RAY_AUTH_MODE": "token",
               "DATABASE_URL": self.database_url, "APPIUM_URL": self.appium_url, "DEVICES": str(len(self.udids)),
               "PORT": self.api.rsplit(":", 1)[1], "DATA_DIR": str(self.root / "data"),
               "RAY_NAMESPACE": "runservice-multinode", "LEASE_SECONDS": "4", "HEARTBEAT_SECONDS": "1"}
        self.launcher = subprocess.Popen([sys.executable, "launcher.py"], cwd=REPO, env=env, start_new_session=True,
                                         stdout=open(self.root / "launcher.log", "ab"), stderr=subprocess.STDOUT)

    @property
    def udids(self) -> list[str]:
        return [udid for udids in HOSTS.values() for udid in udids]

    def start_host(self, name: str) -> None:
        self.nodes[name] = device_node(name, self.address, HOSTS[name], self.root)

    def health(self) -> dict | None:
        try:
            answer = httpx.get(f"{self.api}/health", timeout=5)
        except httpx.HTTPError:
            return None
        return answer.json() if answer.status_code == 200 else None

    def waiting(self) -> list[str] | None:
        """The devices no live node offers, as /health reports them (None while it does not answer)."""
        health = self.health()
        return health["details"]["waiting"] if health else None

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")[-3000:]

    def named_actors(self) -> list[tuple[str, str]]:
        """(namespace, name) of every named actor alive on the cluster, as another driver sees them."""
        script = (f"import json, ray; ray.init(address={self.address!r}, logging_level='ERROR'); "
                  "print(json.dumps(ray.util.list_named_actors(all_namespaces=True)))")
        done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "RAY_AUTH_MODE": "token"},
                              capture_output=True, text=True, timeout=120, check=True)
        return sorted((a["namespace"], a["name"]) for a in json.loads(done.stdout.strip().splitlines()[-1]))

    def stop_service(self) -> None:
        if self.launcher and self.launcher.poll() is None:
            os.killpg(self.launcher.pid, signal.SIGTERM)
            try:
                self.launcher.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.launcher.pid, signal.SIGKILL)

    def stop(self) -> None:
        self.stop_service()
        for node in [*self.nodes.values(), self.head]:
            node.stop()


@pytest.fixture
def cluster(postgres_url: str, appium_server: str) -> Iterator[Cluster]:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "multinode" WITH (FORCE)')
        conn.execute('CREATE DATABASE "multinode"')
    root = Path(tempfile.mkdtemp(prefix="rs-mn-"))  # short: Ray's socket paths live under it
    cluster = Cluster(root, appium_server, with_database(postgres_url, "multinode"))
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def started_by(events: list[dict]) -> list[tuple[int, str]]:
    """(attempt, udid) of each run.started, in order."""
    return [(e["data"]["attempt"], e["data"]["workerId"].split("/")[0].removeprefix("device-"))
            for e in events if e["event"] == "run.started"]


def holder(api: httpx.Client, run_id: str) -> str | None:
    run = api.get(f"/run/{run_id}").json()
    return run["workerId"].split("/")[0].removeprefix("device-") if run["status"] == "running" else None


@pytest.mark.timeout(1200)  # three Ray nodes start and one restarts: minutes on a loaded machine
def test_runs_spread_over_hosts_survive_a_host_killed_mid_run_and_the_host_serves_again(cluster, appium_server):
    cluster.start_service()
    assert wait_for(lambda: cluster.waiting() or cluster.launcher.poll() is not None, START_SECONDS,
                    "the service, with no device host yet") == cluster.udids, cluster.log("launcher")
    for name in HOSTS:  # one after the other: a node's start is heavy on a loaded machine
        cluster.start_host(name)
        wait_for(cluster.nodes[name].ready, START_SECONDS, f"{name} to start")
    wait_for(lambda: cluster.waiting() == [], START_SECONDS, "both device hosts to offer their devices")

    with httpx.Client(base_url=cluster.api, timeout=30) as api:
        body = start_body(appium_server, app="shop", maxSteps=40)
        runs = [api.post("/run", json=body).json()["runId"] for _ in cluster.udids]
        first = wait_for(lambda: (h := {r: first_holder(api, r) for r in runs}) and all(h.values()) and h,
                         START_SECONDS, "every run to start")
        assert {host_of(udid) for udid in first.values()} == set(HOSTS)  # spread over both hosts

        on_a = wait_for(lambda: [r for r in runs if host_of(holder(api, r)) == "host-a"], START_SECONDS,
                        "a run on host-a")
        wait_for(lambda: all(api.get(f"/run/{r}").json()["lastEventSeq"] > 15 for r in on_a), RUN_SECONDS,
                 "host-a's runs to be under way")
        on_a = [r for r in on_a if holder(api, r)]  # still running as the host dies
        cluster.nodes["host-a"].kill()

        with ThreadPoolExecutor(len(runs)) as pool:
            histories = dict(zip(runs, pool.map(lambda r: read_stream(api, r), runs)))
        for run_id, events in histories.items():
            assert [e["id"] for e in events] == list(range(1, len(events) + 1))
            ends = [e for e in events if e["event"] in ("run.completed", "run.failed", "run.canceled")]
            assert [e["event"] for e in ends] == ["run.completed"] and events[-1] is ends[0], run_id
            starts = started_by(events)  # one holder at a time: each start a new attempt of another worker
            assert [a for a, _ in starts] == list(range(1, len(starts) + 1)), starts
            if run_id in on_a:  # taken over, by a device of the surviving host
                assert len(starts) == 2 and host_of(starts[1][1]) == "host-b", starts
            else:
                assert starts == [(1, first[run_id])], starts

        wait_for(lambda: cluster.waiting() == HOSTS["host-a"], START_SECONDS, "host-a's devices reported waiting")
        cluster.start_host("host-a")
        wait_for(lambda: cluster.nodes["host-a"].ready() and cluster.waiting() == [], START_SECONDS,
                 "host-a to offer its devices again")
        # more runs at once than host-b has devices: as soon as host-a's actors are back, they take some
        wait_for(lambda: served_by(api, appium_server, 3) & set(HOSTS["host-a"]), START_SECONDS,
                 "a device of host-a to take a run again")

    # the cluster outlives the launcher: its stop takes the API and the actors off it
    assert ("runservice-multinode", QUEUE_NAME) in cluster.named_actors()
    cluster.stop_service()
    assert cluster.launcher.returncode == 0, cluster.log("launcher")
    assert cluster.named_actors() == []


def first_holder(api: httpx.Client, run_id: str) -> str | None:
    worker = api.get(f"/run/{run_id}").json()["workerId"]
    return worker.split("/")[0].removeprefix("device-") if worker else None


def host_of(udid: str | None) -> str | None:
    return next((host for host, udids in HOSTS.items() if udid in udids), None)


def served_by(api: httpx.Client, appium_server: str, count: int) -> set[str]:
    """Starts `count` short runs at once and returns the devices that ran them (each completes)."""
    runs = [api.post("/run", json=start_body(appium_server, app="shop", maxSteps=5)).json()["runId"]
            for _ in range(count)]
    with ThreadPoolExecutor(count) as pool:
        histories = list(pool.map(lambda r: read_stream(api, r), runs))
    assert all(events[-1]["event"] == "run.completed" for events in histories)
    return {udid for events in histories for _, udid in started_by(events)}
