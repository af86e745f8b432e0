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
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
from bench_common import free_port  # noqa: E402
import launcher  # noqa: E402
from config.settings import Settings  # noqa: E402
from storage.postgres import EmbeddedPostgres  # noqa: E402

TERMINAL = {"run.completed", "run.failed", "run.canceled"}
RUN_DEADLINE_SECONDS = 240


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

    def events_so_far(self, run_id: str) -> list[tuple[int, str, dict]]:
        """The run's stored events now, without following the stream."""
        with connect_sse(self.api, "GET", f"/run/{run_id}/stream", timeout=RUN_DEADLINE_SECONDS) as source:
            latest = int(self.api.get(f"/run/{run_id}").json()["lastEventSeq"])
            seen = []
            for e in source.iter_sse():
                if e.data:
                    seen.append((int(e.id), e.event, json.loads(e.data)))
                    if int(e.id) >= latest:
                        break
            return seen

    def listed(self) -> list[dict]:
        try:
            return self.api.get("/runs", params={"limit": 100}).json()["runs"]
        except (httpx.HTTPError, KeyError, ValueError):
            return []

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


def measure(load: Load, service: bootstrap.Service, name: str, fault: Fault, runs: int) -> dict:
    run_ids = load.start(runs, steps=12)
    wait_until(lambda: any(ray.get(w.status.remote())["currentRun"] for w in service.workers), 60)
    injected = time.monotonic()
    fault.inject()
    recovered = wait_until(lambda: fault.recovered(run_ids), 180)
    recovery = time.monotonic() - injected if recovered else float("nan")
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda r: judge(load.events(r)), run_ids))
    return {"fault": name, "started": len(verdicts), "finished": verdicts.count("finished"),
            "lost": verdicts.count("lost"), "duplicated": verdicts.count("duplicated"), "recovery_s": recovery}


def _accepted(load: Load) -> str | None:
    try:
        answer = load.api.post("/run", json=load.body(steps=2), timeout=10)
    except httpx.HTTPError:
        return None
    return answer.json()["runId"] if answer.status_code == 201 else None


@dataclass
class Fault:
    inject: Callable[[], None]
    recovered: Callable[[list[str]], bool]  # what "working again" means for this fault


def faults(service: bootstrap.Service, pg: EmbeddedPostgres, load: Load) -> dict[str, Fault]:
    def kill_busy_worker() -> None:
        busy = next(w for w in service.workers if ray.get(w.status.remote())["currentRun"])
        ray.kill(busy, no_restart=False)

    def taken_over(run_ids: list[str]) -> bool:  # the interrupted run started again elsewhere
        return any(n == "run.started" and d["attempt"] == 2 for r in run_ids for _, n, d in load.events_so_far(r))

    def duplicate_deliveries() -> None:
        for row in load.api.get("/runs", params={"limit": 50}).json()["runs"]:
            ray.get(service.queue.put.remote(row["run_id"]))

    def restart_postgres() -> None:
        pg.stop(mode="fast")
        time.sleep(2)  # the outage itself: what the service must ride through
        pg.start()

    def serving(_: list[str]) -> bool:  # healthy, and a new run is accepted and listed
        probe = load.healthy() and _accepted(load)
        return bool(probe) and wait_until(lambda: probe in {r["run_id"] for r in load.listed()}, 60) is not None

    return {
        "device actor killed mid-run": Fault(kill_busy_worker, taken_over),
        "queue actor (and its projections) killed": Fault(lambda: ray.kill(service.queue, no_restart=False), serving),
        "duplicate deliveries": Fault(duplicate_deliveries, serving),
        "PostgreSQL restarted": Fault(restart_postgres, serving),
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
            if response.status_code >= 500 or "Traceback" in response.text:
                errors += 1
                print(f"  {case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

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
        rows = [measure(load, service, name, fault, args.runs) for name, fault in faults(service, pg, load).items()]
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
