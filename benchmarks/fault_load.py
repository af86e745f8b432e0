"""Fault-and-load script: injects each fault into a running service under load and prints,
per fault, runs started, finished, lost and duplicated, and the recovery time; then fuzzes
the API from its OpenAPI schema and prints the cases tried.

    .venv/bin/python benchmarks/fault_load.py [--runs 6] [--fuzz 200]

Starts its own embedded PostgreSQL, Appium with the simulator, a local Ray and the
service (temporary DATA_DIR, free ports), and stops them all at the end. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import ray  # noqa: E402
from httpx_sse import connect_sse  # noqa: E402
from hypothesis import HealthCheck, given, settings as hypothesis_settings  # noqa: E402

import bootstrap  # noqa: E402
import launcher  # noqa: E402
from config.settings import Settings  # noqa: E402
from storage.postgres import EmbeddedPostgres  # noqa: E402

TERMINAL = {"run.completed", "run.failed", "run.canceled"}
RUN_DEADLINE_SECONDS = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := check()):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
    return result


class Load:
    def __init__(self, api: httpx.Client, settings: Settings) -> None:
        self.api, self.settings = api, settings

    def body(self, steps: int) -> dict[str, Any]:
        return {"apkPath": str(REPO / "apps" / "shop.json"), "appiumServerUrl": self.settings.appium_url,
                "packageName": "com.example.shop", "appActivity": ".ShopHomeActivity", "maxSteps": steps}

    def start(self, count: int, steps: int) -> list[str]:
        return [self.api.post("/run", json=self.body(steps)).json()["runId"] for _ in range(count)]

    def events(self, run_id: str) -> list[tuple[int, str, dict]]:
        try:
            with connect_sse(self.api, "GET", f"/run/{run_id}/stream", timeout=RUN_DEADLINE_SECONDS) as source:
                return [(int(e.id), e.event, json.loads(e.data)) for e in source.iter_sse() if e.data]
        except httpx.HTTPError:
            return []

    def events_until_started(self, run_id: str) -> list[tuple[int, str, dict]]:
        """The run's events up to run.started (the stream is left once it has started)."""
        seen = []
        with connect_sse(self.api, "GET", f"/run/{run_id}/stream", timeout=RUN_DEADLINE_SECONDS) as source:
            for e in source.iter_sse():
                if e.data:
                    seen.append((int(e.id), e.event, json.loads(e.data)))
                    if e.event == "run.started" or e.event in TERMINAL:
                        break
        return seen

    def healthy(self) -> bool:
        try:
            return self.api.get("/health", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False


def judge(events: list[tuple[int, str, dict]]) -> str:
    """finished, lost (no terminal event in time) or duplicated (something happened twice)."""
    terminals = sum(name in TERMINAL for _, name, _ in events)
    attempts = [data["attempt"] for _, name, data in events if name == "run.started"]
    gapless = [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    if terminals > 1 or len(attempts) != len(set(attempts)) or not gapless:
        return "duplicated"
    return "finished" if terminals == 1 else "lost"


def measure(load: Load, service: bootstrap.Service, name: str, inject: Callable[[], None], runs: int) -> dict:
    run_ids = load.start(runs, steps=12)
    wait_until(lambda: any(ray.get(w.status.remote())["currentRun"] for w in service.workers), 60)
    injected = time.monotonic()
    inject()
    wait_until(load.healthy, 120)
    probe = wait_until(lambda: _accepted(load), 120)  # recovered: a new run is accepted and starts
    recovered = probe and any(name == "run.started" for _, name, _ in load.events_until_started(probe))
    recovery = time.monotonic() - injected if recovered else float("nan")
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda r: judge(load.events(r)), run_ids + ([probe] if probe else [])))
    return {"fault": name, "started": len(verdicts), "finished": verdicts.count("finished"),
            "lost": verdicts.count("lost"), "duplicated": verdicts.count("duplicated"), "recovery_s": recovery}


def _accepted(load: Load) -> str | None:
    try:
        answer = load.api.post("/run", json=load.body(steps=2), timeout=10)
    except httpx.HTTPError:
        return None
    return answer.json()["runId"] if answer.status_code == 201 else None


def faults(service: bootstrap.Service, pg: EmbeddedPostgres) -> dict[str, Callable[[], None]]:
    def kill_busy_worker() -> None:
        busy = next(w for w in service.workers if ray.get(w.status.remote())["currentRun"])
        ray.kill(busy, no_restart=False)

    def duplicate_deliveries() -> None:
        for row in httpx.get(f"{service.api_url}/runs", params={"limit": 50}).json()["runs"]:
            ray.get(service.queue.put.remote(row["run_id"]))

    def restart_postgres() -> None:
        pg.stop(mode="fast")
        time.sleep(2)  # the outage itself: what the service must ride through
        pg.start()

    return {
        "device actor killed mid-run": kill_busy_worker,
        "queue actor killed": lambda: ray.kill(service.queue, no_restart=False),
        "projector killed": lambda: ray.kill(service.projector, no_restart=False),
        "duplicate deliveries": duplicate_deliveries,
        "PostgreSQL restarted": restart_postgres,
    }


def fuzz(api_url: str, examples: int) -> tuple[int, int]:
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    schema.config.update(base_url=api_url)
    tried, errors = 0, 0
    for operation in [r.ok() for r in schema.exclude(path_regex=r".*/stream$").get_all_operations()]:
        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=examples, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))
        def one(case) -> None:
            nonlocal tried, errors
            tried += 1
            response = case.call(timeout=30)
            errors += response.status_code >= 500 or "Traceback" in response.text

        one()
    return tried, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="runs in flight when each fault is injected")
    parser.add_argument("--fuzz", type=int, default=200, help="fuzz examples per API operation")
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as data:
        pg = EmbeddedPostgres(Path(data) / "postgres").start()
        stack.callback(pg.stop)
        settings = Settings(database_url=pg.url, data_dir=Path(data), port=free_port(), appium_port=free_port(),
                            ray_dashboard_port=free_port(), devices=3, lease_seconds=5, heartbeat_seconds=1,
                            log_level="WARNING")
        settings = settings.model_copy(update={"appium_url": launcher.start_appium(settings, stack)})
        launcher.start_ray(settings, stack)
        service = bootstrap.start_service(settings)
        load = Load(stack.enter_context(httpx.Client(base_url=service.api_url, timeout=30)), settings)
        rows = [measure(load, service, name, inject, args.runs) for name, inject in faults(service, pg).items()]
        tried, errors = fuzz(service.api_url, args.fuzz)
    print(f"\n{'fault':<30}{'started':>9}{'finished':>10}{'lost':>6}{'duplicated':>12}{'recovery s':>12}")
    for row in rows:
        print(f"{row['fault']:<30}{row['started']:>9}{row['finished']:>10}{row['lost']:>6}{row['duplicated']:>12}"
              f"{row['recovery_s']:>12.1f}")
    print(f"\nfuzz: {tried} cases tried over the API's operations, {errors} answered 5xx or a stack trace")
    clean = all(r["lost"] == 0 and r["duplicated"] == 0 for r in rows) and errors == 0
    print("target: zero lost or duplicated in every row, no 5xx:", "met" if clean else "NOT met")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
