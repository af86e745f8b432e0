"""Where POST /run's CPU goes: the stack's processes profiled under admission load.

Starts PostgreSQL, Appium, a local Ray and the service with DEVICES=0 (every run stays
queued), then for each endpoint (the no-op `POST /ping` with the same body, the baseline,
and `POST /run`) sends `--clients` back-to-back clients for `--seconds` and prints:
requests/s, and CPU milliseconds per request of each process of the stack (psutil), so the
difference between the two rows is what admitting a run costs and where. With `--py-spy`
it also samples the API replica, the Serve proxy, the projector and the queue during the
POST /run load and prints each one's hottest functions (self and total time); sampling
slows what it samples, so POST /run's requests/s is lower then than without it.

    .venv/bin/python benchmarks/admission_profile.py [--clients 8] [--seconds 10] [--py-spy]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
import psycopg  # noqa: E402

import bootstrap  # noqa: E402
import launcher  # noqa: E402
from bench_common import free_port, table  # noqa: E402
from config.settings import Settings  # noqa: E402
from service_bench import APP, hammer  # noqa: E402

PROFILED = ("ServeReplica", "ProxyActor", "Projector", "JobQueue")


def stack_processes(postgres_pid: int) -> dict[int, str]:
    """pid -> a short name, for every process of the stack (this driver's descendants and PostgreSQL's)."""
    names = {}
    for process in [*psutil.Process().children(recursive=True), psutil.Process(postgres_pid),
                    *psutil.Process(postgres_pid).children()]:
        try:
            cmdline = " ".join(process.cmdline())
        except psutil.Error:
            continue
        if "py-spy" in cmdline:
            continue
        names[process.pid] = short_name(process, cmdline)
    return names


def short_name(process: psutil.Process, cmdline: str) -> str:
    if "postgres" in process.name():
        return "postgres"
    if "appium" in cmdline or process.name() == "node":
        return "appium"
    for name in (*PROFILED, "ServeController", "raylet", "gcs_server", "dashboard", "DashboardAgent",
                 "RuntimeEnvAgent"):
        if name in cmdline:
            return name
    return "other"


def cpu_seconds(pids: dict[int, str]) -> Counter[str]:
    used: Counter[str] = Counter()
    for pid, name in pids.items():
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        used[name] += times.user + times.system
    return used


def profile(pids: dict[int, str], seconds: float, out: Path) -> list[subprocess.Popen]:
    py_spy = str(Path(sys.executable).parent / "py-spy")
    records = []
    for pid, name in pids.items():
        if name in PROFILED:
            records.append(subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                                             "--rate", "100", "--format", "raw", "--nonblocking",
                                             "--output", str(out / f"{name}.txt")],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return records


def hottest(path: Path, top: int = 15) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    """From a py-spy raw file (collapsed stacks): the functions of this repository with the most samples
    in them (total), the functions anywhere with the most samples of their own (self), and all samples."""
    ours: Counter[str] = Counter()
    own: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        samples += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            if (REPO / frame.rpartition(" ")[2]).is_file():  # py-spy names a library's files by their package
                ours[frame] += int(count)
    return ours.most_common(top), own.most_common(top), samples


def frame_name(frame: str) -> str:
    """'function (path/file.py:line)' -> 'function path/file.py', the path relative to the repository."""
    function, _, where = frame.partition(" (")
    return f"{function} {where.rsplit(':', 1)[0].replace(str(REPO) + '/', '')}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--py-spy", action="store_true")
    args = parser.parse_args()
    with ExitStack() as stack:
        data_dir = Path(tempfile.mkdtemp(prefix="admission-profile-"))
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        settings = Settings(data_dir=data_dir, database_url=None, appium_url=None, appium_port=free_port(),
                            ray_address=None, port=free_port(), ray_dashboard_port=free_port(), devices=0,
                            device_udids="", ray_namespace="admission-profile")
        database_url = launcher.start_postgres(settings, stack)
        appium_url = launcher.start_appium(settings, stack)
        settings = settings.model_copy(update={"database_url": database_url, "appium_url": appium_url})
        postgres_pid = int((settings.embedded_database_dir / "postmaster.pid").read_text().split()[0])
        launcher.start_ray(settings, stack)
        service = bootstrap.start_service(settings)  # holds the actors: they live while it does
        api = f"http://127.0.0.1:{settings.port}"
        body = {**APP, "appiumServerUrl": appium_url, "maxSteps": 5}
        rows, admitted = [], 0
        for name, url in (("POST /ping", f"{api}/ping"), ("POST /run", f"{api}/run")):
            hammer(url, "POST", body, args.clients, 2.0)  # warm-up: every connection open
            pids = stack_processes(postgres_pid)
            before = cpu_seconds(pids)
            records = profile(pids, args.seconds, data_dir) if args.py_spy and name == "POST /run" else []
            result = hammer(url, "POST", body, args.clients, args.seconds)
            used = cpu_seconds(pids) - before
            for record in records:
                record.wait(60)
            n = result["requests"]
            if set(result["statuses"]) - {200, 201}:
                print(f"{name}: answers {dict(result['statuses'])}", file=sys.stderr)
            admitted += n if name == "POST /run" else 0
            rows.append([name, f"{n / result['seconds']:.0f}", f"{sum(used.values()) * 1000 / n:.1f}",
                         *[f"{used[p] * 1000 / n:.1f}" for p in (*PROFILED, "postgres", "other")]])
        with psycopg.connect(database_url) as conn:  # what the projector has caught up with by now
            projected = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        print(f"runs admitted: {admitted} ({len(service.workers)} devices), in the runs table at the end: {projected}")
        table(f"CPU per request, ms, {args.clients} clients x {args.seconds:.0f} s (DEVICES=0; load average "
              f"{os.getloadavg()[0]:.1f})", ["endpoint", "req/s", "CPU ms/req", *PROFILED, "postgres", "other"], rows)
        if args.py_spy:
            for name in PROFILED:
                if (path := data_dir / f"{name}.txt").exists():
                    ours, own, samples = hottest(path)
                    print(f"\n{name}, POST /run load: {samples} samples (100/s, idle threads left out)")
                    print("  this repository's functions, samples in them:")
                    for function, count in ours:
                        print(f"    {count:6d}  {function}")
                    print("  any function, samples of its own:")
                    for function, count in own:
                        print(f"    {count:6d}  {function}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
