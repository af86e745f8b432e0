"""Memory benchmark: the whole stack's idle PSS, process by process, against a bare Ray with its dashboard.

Starts `launcher.py` (what `make run` runs) with DEVICES=2 and the Ray dashboard on,
in a temporary DATA_DIR on free ports, waits for /health and for its processes to
settle, and reads each process's PSS (proportional set size: a page shared by n
processes counts 1/n in each, so the sum is what the stack really costs the
machine) and USS (the pages no other process shares). The stack is the launcher
and all its descendants (the Ray driver, Ray's GCS, raylet, dashboard, agents and
workers, Appium) plus the embedded PostgreSQL (postmaster.pid, and its backends).
Then it runs a few short runs on the simulator and reads the same again, idle.

The baseline, measured first in the same run: a bare `ray.init` with the dashboard
(num_cpus=2) and nothing else, in a process of its own, read the same way.

    .venv/bin/python benchmarks/memory_bench.py [--devices 2] [--runs 4]

Target: the stack's idle total <= 1.2 GiB PSS. Only 127.0.0.1 traffic. Everything started is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_common import free_port, table  # noqa: E402

PYTHON = sys.executable
START_SECONDS = 300.0
SETTLE_POLLS = 8  # the same processes this many seconds in a row: start-up is over
TARGET_GIB = 1.2
MIB = 2**20
BARE_RAY = """
import ray, time
ray.init(address="local", include_dashboard=True, dashboard_host="127.0.0.1", dashboard_port={port},
         num_cpus=2, log_to_driver=False)
print("ready", flush=True)
time.sleep(3600)
"""


def label(process: psutil.Process) -> str:
    """What a process is, from its command line (pids differ between runs, labels don't)."""
    args = process.cmdline()
    joined = " ".join(args)
    if not args:
        return process.name()
    if args[0].startswith("ray::"):
        return args[0].split()[0].split(".")[0]  # ray::JobQueue.pull: the actor, not its current task
    if args[0].startswith("ray-dashboard-"):
        return "dashboard module " + args[0].split()[0].removeprefix("ray-dashboard-").removesuffix("-0")
    if args[0].startswith("postgres:"):
        return "postgres backend" if "[local]" in joined else "postgres " + args[0].removeprefix("postgres: ")
    for needle, name in (("launcher.py --driver", "Ray driver (launcher.py --driver)"), ("launcher.py", "launcher"),
                         ("gcs_server", "Ray GCS"), ("raylet/raylet", "raylet"), ("dashboard/dashboard.py", "dashboard"),
                         ("log_monitor.py", "Ray log monitor"), ("monitor.py", "Ray autoscaler monitor"),
                         ("forkserver", "dashboard forkserver"), ("resource_tracker", "dashboard resource tracker"),
                         ("appium", "Appium (node)"), ("bin/postgres", "postgres postmaster"), ("-c", "bare ray.init driver")):
        if needle in joined:
            return name
    return Path(args[0]).name


def tree(root: int, data_dir: Path | None = None) -> list[psutil.Process]:
    """The process `root`, its descendants, and (with data_dir) the embedded PostgreSQL, which pg_ctl detaches."""
    top = psutil.Process(root)
    processes = [top, *top.children(recursive=True)]
    postmaster = data_dir / "postgres" / "postmaster.pid" if data_dir else None
    if postmaster and postmaster.exists():
        pg = psutil.Process(int(postmaster.read_text().split()[0]))
        processes += [pg, *pg.children()]
    return processes


def settle(root: int, data_dir: Path | None) -> None:
    """Waits until the same processes have been there SETTLE_POLLS seconds in a row (prestarted workers come and go)."""
    seen, same = set(), 0
    while same < SETTLE_POLLS:
        time.sleep(1)  # a poll interval: the condition is "no change for a while"
        now = {p.pid for p in tree(root, data_dir)}
        same = same + 1 if now == seen else 0
        seen = now


def measure(root: int, data_dir: Path | None = None) -> dict[str, list[tuple[float, float]]]:
    """label -> [(PSS MiB, USS MiB) per process]."""
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for process in tree(root, data_dir):
        try:
            info = process.memory_full_info()
            out[label(process)].append((info.pss / MIB, info.uss / MIB))
        except psutil.NoSuchProcess:
            continue
    return out


def total(sample: dict[str, list[tuple[float, float]]]) -> float:
    return sum(pss for rows in sample.values() for pss, _ in rows)


def healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait(condition, seconds: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {seconds} s (exit code {process.poll()})")
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group, as a process manager stops a service; what is left, SIGKILL."""
    stack = tree(process.pid) if process.poll() is None else []
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(stack, timeout=60)
    for p in alive:
        p.kill()


def baseline() -> dict[str, list[tuple[float, float]]]:
    errors = tempfile.TemporaryFile()
    bare = subprocess.Popen([PYTHON, "-c", BARE_RAY.format(port=free_port())], stdout=subprocess.PIPE,
                            stderr=errors, start_new_session=True, text=True)
    try:
        if bare.stdout.readline().strip() != "ready":
            errors.seek(0)
            raise RuntimeError(f"bare ray.init did not start: {errors.read().decode()[-2000:]}")
        settle(bare.pid, None)
        return measure(bare.pid)
    finally:
        stop(bare)


def start_run(api: str, appium_url: str) -> str:
    body = {"apkPath": str(REPO / "apps" / "notes.json"), "appiumServerUrl": appium_url,
            "packageName": "com.example.notes", "appActivity": ".ConsentActivity", "maxSteps": 10,
            "inputs": {"username": "alice", "password": "secret"}}
    request = urllib.request.Request(f"{api}/run", json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["runId"]


def finished(api: str, run_id: str) -> bool:
    with urllib.request.urlopen(f"{api}/run/{run_id}", timeout=30) as response:
        return json.load(response)["status"].lower() in ("completed", "failed", "canceled", "cancelled")


def service(devices: int, runs: int) -> tuple[dict, dict]:
    port, appium_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RAY_ADDRESS", "APPIUM_URL")}
        env.update(PORT=str(port), APPIUM_PORT=str(appium_port), RAY_DASHBOARD_PORT=str(free_port()),
                   DATA_DIR=str(data_dir), DEVICES=str(devices), LOG_LEVEL="WARNING")
        log = open(Path(tmp) / "launcher.log", "wb")
        launcher = subprocess.Popen([PYTHON, str(REPO / "launcher.py")], cwd=REPO, env=env, start_new_session=True,
                                    stdout=log, stderr=subprocess.STDOUT)
        api = f"http://127.0.0.1:{port}"
        try:
            wait(lambda: healthy(api), START_SECONDS, "/health", launcher)
            settle(launcher.pid, data_dir)
            idle = measure(launcher.pid, data_dir)
            print(f"  idle after start: {total(idle) / 1024:.2f} GiB", file=sys.stderr)
            run_ids = [start_run(api, f"http://127.0.0.1:{appium_port}") for _ in range(runs)]
            for run_id in run_ids:
                wait(lambda: finished(api, run_id), 300, f"run {run_id}", launcher)
            settle(launcher.pid, data_dir)
            after = measure(launcher.pid, data_dir)
            return idle, after
        except Exception:
            print((Path(tmp) / "launcher.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            stop(launcher)


def report(bare: dict, idle: dict, after: dict, runs: int) -> None:
    def cell(sample: dict, name: str) -> str:
        rows = sample.get(name, [])
        return f"{sum(p for p, _ in rows):.1f}" + (f" ({len(rows)})" if len(rows) > 1 else "") if rows else "-"

    def uss(sample: dict, name: str) -> str:
        rows = sample.get(name, [])
        return f"{sum(u for _, u in rows):.1f}" if rows else "-"

    names = sorted(set(idle) | set(after), key=lambda n: -sum(p for p, _ in idle.get(n, after.get(n, []))))
    table("Stack, MiB per process kind (count when more than one)",
          ["process", "PSS idle", "USS idle", f"PSS after {runs} runs"],
          [[n, cell(idle, n), uss(idle, n), cell(after, n)] for n in names])
    table("Baseline: bare ray.init with the dashboard, MiB", ["process", "PSS", "USS"],
          [[n, cell(bare, n), uss(bare, n)] for n in sorted(bare, key=lambda n: -sum(p for p, _ in bare[n]))])
    gib = total(idle) / 1024
    table("Totals, PSS", ["what", "GiB", "MiB", "x baseline"], [
        ["bare ray.init with dashboard (baseline)", f"{total(bare) / 1024:.2f}", f"{total(bare):.0f}", "1.00"],
        ["stack idle after start", f"{gib:.2f}", f"{total(idle):.0f}", f"{total(idle) / total(bare):.2f}"],
        [f"stack idle after {runs} runs", f"{total(after) / 1024:.2f}", f"{total(after):.0f}",
         f"{total(after) / total(bare):.2f}"],
    ])
    print(f"\n  target: idle <= {TARGET_GIB} GiB ({TARGET_GIB * 1024:.0f} MiB) PSS: "
          f"{'met' if gib <= TARGET_GIB else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--runs", type=int, default=4, help="short runs on the simulator before the second reading")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    bare = baseline()
    idle, after = service(args.devices, args.runs)
    report(bare, idle, after, args.runs)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f} (2 cores: well above, other work was competing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
