"""Scale benchmark: 2, 8, 32 and 64 simulated devices on this machine, each exploring a sample
app with maxSteps 100 (one run per device, all started at once), and a table of:

- PSS per device actor (psutil memory_full_info().pss, MiB), idle and at the end of the wave;
- total steps/s and events appended/s over the wave (runs table: steps_taken, last_event_seq);
- p50/p99 of a step's wall time and of the agent's own time in it (the step less its waits on
  Appium and the store), from the service's own histograms on the node's metrics endpoint;
- queue wait p50/max (run.queued -> run.started): a device idling while runs are queued shows here;
- CPU: the machine's use over the wave and the share of each group of processes (Appium,
  PostgreSQL, device actors, Ray's own, the API), i.e. which saturates first; load average.

The baseline is the 2-device row of the same run: ratios are against it. At --profile-at devices
it samples one device actor with py-spy for --profile-seconds and prints where it spends time.

    .venv/bin/python benchmarks/scale_bench.py [--devices 2,8,32,64] [--max-steps 100] [--app shop]

Starts its own embedded PostgreSQL and Appium server (one for all devices), a local Ray per
phase (in a process of its own) and the service; stops them all. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402

from bench_common import cpu_seconds, free_port, group_of, read_profile, start_py_spy, table, wait_until  # noqa: E402
from config.settings import Settings  # noqa: E402
from storage.postgres import EmbeddedPostgres  # noqa: E402

APPS = {"shop": ("com.example.shop", ".ShopHomeActivity"), "recipes": ("com.example.recipes", ".RecipesActivity"),
        "notes": ("com.example.notes", ".ConsentActivity"), "settings": ("com.example.settings", ".SettingsActivity")}
TERMINAL = {"completed", "failed", "canceled"}
BUCKET = re.compile(r'^ray_runservice_(\w+)_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$')


# What the processes of this phase use

class Processes:
    """This phase's processes (its descendants, Appium's and PostgreSQL's), grouped."""

    def __init__(self, extra_roots: list[int]) -> None:
        self.roots = [os.getpid(), *extra_roots]

    def all(self) -> list[psutil.Process]:
        found = []
        for pid in self.roots:
            try:
                root = psutil.Process(pid)
                found += [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
        return found

    def cpu_seconds(self) -> dict[str, float]:
        return cpu_seconds(self.all())

    def device_pss(self) -> list[float]:
        pss = []
        for process in self.all():
            if group_of(process) == "devices":
                try:
                    pss.append(process.memory_full_info().pss / 2**20)
                except psutil.Error:
                    continue
        return pss

    def device_pids(self) -> list[int]:
        return [p.pid for p in self.all() if group_of(p) == "devices"]


# The node's metrics endpoint

def metrics_text() -> str:
    import ray
    texts = []
    for node in ray.nodes():
        if node["Alive"]:
            with urllib.request.urlopen(f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics",
                                        timeout=10) as response:
                texts.append(response.read().decode())
    return "\n".join(texts)


def histograms(text: str) -> dict[str, list[tuple[float, float]]]:
    """name -> [(upper bound, cumulative count)], summed over every process's series."""
    sums: dict[str, Counter] = defaultdict(Counter)
    for line in text.splitlines():
        if match := BUCKET.match(line):
            sums[match[1]][float(match[2])] += float(match[3])
    return {name: sorted(counts.items()) for name, counts in sums.items()}


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """Prometheus's histogram_quantile: linear within the bucket that holds the q-th observation."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank, lower, below = q * buckets[-1][1], 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * ((rank - below) / (count - below) if count > below else 0)
        lower, below = upper, count
    return lower


# One phase, in its own process

def run_phase(args: argparse.Namespace) -> None:
    import ray

    import bootstrap

    devices = args.phase
    settings = Settings(database_url=args.database_url, appium_url=args.appium_url, data_dir=Path(args.data_dir),
                        ray_address=None, ray_namespace=f"scale-{devices}", port=free_port(), devices=devices,
                        device_udids="", no_progress_steps=10_000, run_timeout_seconds=3600,
                        lease_seconds=120, heartbeat_seconds=5)
    processes = Processes([args.appium_pid, args.postgres_pid])
    result: dict[str, Any] = {"devices": devices}
    for attempt in range(3):  # a loaded machine can exceed Ray's own start-up deadlines
        try:
            ray.init(address="local", namespace=settings.ray_namespace, include_dashboard=False, num_cpus=2,
                     log_to_driver=False, resources=settings.device_resources())
            break
        except Exception as error:
            ray.shutdown()
            if attempt == 2 or "timed out" not in str(error):
                raise
    try:
        service = bootstrap.start_service(settings)
        api = httpx.Client(base_url=service.api_url, timeout=60)
        wait_until(lambda: api.get("/health").status_code == 200, 300, "/health")
        wait_until(lambda: len(processes.device_pss()) >= devices, 300, "every device actor's process")
        result["pss_idle"] = processes.device_pss()
        package, activity = APPS[args.app]
        body = {"apkPath": str(REPO / "apps" / f"{args.app}.json"), "appiumServerUrl": args.appium_url,
                "packageName": package, "appActivity": activity, "maxSteps": args.max_steps}
        cpu_before, load_before = processes.cpu_seconds(), os.getloadavg()
        started = time.perf_counter()
        run_ids = [api.post("/run", json=body).json()["runId"] for _ in range(devices)]
        if args.profile:
            time.sleep(min(30.0, args.profile_seconds))  # the wave is under way: every device busy
            result["profile"] = profile(processes.device_pids()[0], args.profile_seconds, args.data_dir)
        rows = wait_until(lambda: finished(api, run_ids), args.wave_seconds, "every run to end")
        wall = time.perf_counter() - started
        result["pss_end"] = processes.device_pss()
        cpu_after, load_after = processes.cpu_seconds(), os.getloadavg()
        result.update(wall=wall, load=(load_before[0], load_after[0]),
                      cpu={g: cpu_after[g] - cpu_before.get(g, 0) for g in cpu_after},
                      steps=sum(r["steps_taken"] for r in rows), events=sum(r["last_event_seq"] for r in rows),
                      statuses=Counter(f"{r['status']}/{r['stop_reason']}" for r in rows),
                      queue_waits=[(r["started_at"] - r["created_at"]).total_seconds() for r in rows if r["started_at"]])
        steps = result["steps"]
        found = wait_until(lambda: (h := histograms(metrics_text())) and
                           h.get("step_seconds", [(0, 0)])[-1][1] >= steps * 0.95 and h, 120, "the step histograms")
        result["quantiles"] = {name: [quantile(found.get(name, []), q) for q in (0.5, 0.99)]
                               for name in ("step_seconds", "step_agent_seconds", "appium_seconds",
                                            "event_append_seconds")}
    finally:
        ray.shutdown()
    Path(args.out).write_text(json.dumps(result, default=str))


def finished(api: httpx.Client, run_ids: list[str]) -> list[dict] | None:
    rows = {r["run_id"]: r for r in api.get("/runs", params={"limit": 500}).json()["runs"]}
    mine = [rows.get(run_id) for run_id in run_ids]
    if not all(row and row["status"] in TERMINAL for row in mine):
        return None
    from datetime import datetime
    for row in mine:
        for key in ("created_at", "started_at"):
            row[key] = datetime.fromisoformat(row[key]) if row[key] else None
    return mine


def profile(pid: int, seconds: float, data_dir: str) -> dict[str, Any]:
    """py-spy samples one device actor: the functions it spends its time in (self and total)."""
    out = Path(data_dir) / f"profile-{pid}.txt"
    record = start_py_spy(pid, seconds, out)
    if record.wait() != 0:
        raise RuntimeError(f"py-spy record: {record.stderr.read()[-500:]}")
    py_spy = str(Path(sys.executable).parent / "py-spy")
    dump = subprocess.run([py_spy, "dump", "--pid", str(pid), "--nonblocking"], capture_output=True, text=True).stdout
    return {**read_profile(out), "dump": dump[:3000]}


# The parent: PostgreSQL and Appium for all phases, then the table

def with_database(url: str, name: str) -> str:
    from urllib.parse import urlparse, urlunparse
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def start_appium(stack: ExitStack, log: Path) -> tuple[str, int]:
    port = free_port()
    process = subprocess.Popen([str(REPO / "scripts" / "start-appium.sh")], start_new_session=True,
                               env={**os.environ, "APPIUM_PORT": str(port)}, stdout=open(log, "wb"),
                               stderr=subprocess.STDOUT)
    stack.callback(lambda: (os.killpg(process.pid, 15), process.wait(30)))
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/status", timeout=2):
                return True
        except OSError:
            return False
    wait_until(ready, 240, "Appium")
    return url, process.pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", default="2,8,32,64")
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--app", default="shop", choices=sorted(APPS))
    parser.add_argument("--profile-at", type=int, default=64, help="devices at which one device actor is profiled")
    parser.add_argument("--profile-seconds", type=float, default=20)
    parser.add_argument("--wave-seconds", type=float, default=3600)
    parser.add_argument("--phase", type=int, help=argparse.SUPPRESS)
    for hidden in ("database-url", "appium-url", "data-dir", "out"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    parser.add_argument("--appium-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--postgres-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        run_phase(args)
        return
    home = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    results = []
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, home, True)
        postgres = EmbeddedPostgres(home / "pg").start()
        stack.callback(postgres.stop)
        appium_url, appium_pid = start_appium(stack, home / "appium.log")
        postgres_pid = int((home / "pg" / "postmaster.pid").read_text().split()[0])
        stack.callback(lambda: results and report(results))  # what was measured, even when interrupted
        for devices in [int(n) for n in args.devices.split(",")]:
            print(f"  {devices} devices ...", file=sys.stderr, flush=True)
            out = home / f"phase-{devices}.json"
            command = [sys.executable, __file__, "--phase", str(devices), "--max-steps", str(args.max_steps),
                       "--app", args.app, "--database-url", with_database(postgres.url, f"scale_{devices}"),
                       "--appium-url", appium_url, "--data-dir", str(home / f"data-{devices}"), "--out", str(out),
                       "--appium-pid", str(appium_pid), "--postgres-pid", str(postgres_pid),
                       "--profile-seconds", str(args.profile_seconds), "--wave-seconds", str(args.wave_seconds)]
            if devices == args.profile_at:
                command.append("--profile")
            phase = subprocess.run(command, capture_output=True, text=True)
            if phase.returncode != 0 or not out.exists():
                print(f"  {devices} devices failed:\n{phase.stderr[-3000:]}", file=sys.stderr)
                continue
            results.append(json.loads(out.read_text()))


def report(results: list[dict]) -> None:
    base = results[0]
    base_rate = base["steps"] / base["wall"]
    rows = []
    for r in results:
        rate = r["steps"] / r["wall"]
        q = r["quantiles"]
        waits = sorted(r["queue_waits"])
        rows.append([r["devices"], f"{_mean(r['pss_idle']):.0f}/{max(r['pss_end'] or [0]):.0f}",
                     f"{rate:.1f}", f"{rate / base_rate:.2f}x", f"{r['events'] / r['wall']:.0f}",
                     _ms(q["step_seconds"]), _ms(q["step_agent_seconds"]), _ms(q["appium_seconds"]),
                     _ms(q["event_append_seconds"]),
                     f"{waits[len(waits) // 2]:.1f}/{waits[-1]:.1f}" if waits else "-",
                     f"{r['steps']}", f"{r['wall']:.0f}", f"{r['load'][0]:.1f}->{r['load'][1]:.1f}"])
    table("Scale: one run per device (maxSteps as given), all started at once; ratio against the first row",
          ["devices", "PSS MiB/dev idle/max", "steps/s", "ratio", "events/s", "step ms p50/p99",
           "agent own ms p50/p99", "appium ms p50/p99", "append ms p50/p99", "queue wait s p50/max",
           "steps", "wall s", "load 1m"], rows)
    cpu_rows = []
    for r in results:
        used = sum(r["cpu"].values())
        top = sorted(r["cpu"].items(), key=lambda kv: -kv[1])
        cpu_rows.append([r["devices"], f"{used / r['wall'] * 100:.0f}%",
                         "  ".join(f"{g} {s / r['wall'] * 100:.0f}%" for g, s in top if s / r["wall"] >= 0.01),
                         ", ".join(f"{k} x{v}" for k, v in r["statuses"].items())])
    table("CPU over the wave (100% = one core; the machine has 2): by group of processes, and how the runs ended",
          ["devices", "CPU used", "by group", "runs"], cpu_rows)
    for r in results:
        if "profile" in r:
            p = r["profile"]
            table(f"py-spy on one device actor at {r['devices']} devices: {p['samples']} samples, self time",
                  ["function (file)", "samples"], [[f, n] for f, n in p["own"]])
            table("... and the repository's functions by total time", ["function (file)", "samples"],
                  [[f, n] for f, n in p["ours"]])
    sys.stdout.flush()


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _ms(pair: list[float | None]) -> str:
    return "/".join("-" if v is None else f"{v * 1000:.0f}" for v in pair)


if __name__ == "__main__":
    main()
