"""Where POST /run's CPU goes: the stack's processes profiled under admission load.

Starts PostgreSQL, Appium, a local Ray and the service with DEVICES=0 (every run stays
queued), then for each endpoint (the no-op `POST /ping` with the same body, the baseline,
and `POST /run`) sends `--clients` back-to-back clients for `--seconds` and prints:
requests/s, and CPU milliseconds per request of each process of the stack (psutil), so the
difference between the two rows is what admitting a run costs and where (processes grouped
as `bench_common.GROUPS` says). With `--py-spy` it also samples the API replica, the Serve
proxy and the queue (with the projections it hosts) during the POST /run load and prints each
one's hottest functions (self and total time); sampling slows what it samples, so POST /run's
requests/s is lower then than without it. `--profiles-dir` keeps py-spy's raw stacks.

    .venv/bin/python benchmarks/admission_profile.py [--clients 8] [--seconds 10] [--py-spy [--profiles-dir D]]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
import psycopg  # noqa: E402

import bootstrap  # noqa: E402
import launcher  # noqa: E402
from bench_common import cpu_seconds, free_port, group_of, read_profile, start_py_spy, table  # noqa: E402
from config.settings import Settings  # noqa: E402
from service_bench import APP, hammer  # noqa: E402

PROFILED = ("api", "proxy", "queue")  # groups of bench_common.GROUPS: the replica, Serve's proxy, ...
COLUMNS = (*PROFILED, "postgres", "ray")


def stack_processes(postgres_pid: int) -> list[psutil.Process]:
    """Every process of the stack: this driver's descendants but py-spy, and PostgreSQL's (not this process,
    whose threads are the load)."""
    postgres = psutil.Process(postgres_pid)
    processes = [*psutil.Process().children(recursive=True), postgres, *postgres.children()]
    return [p for p in processes if not is_py_spy(p)]


def is_py_spy(process: psutil.Process) -> bool:
    try:
        return process.name() == "py-spy"
    except psutil.Error:
        return True  # gone: nothing to count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--py-spy", action="store_true")
    parser.add_argument("--profiles-dir", type=Path, help="keep py-spy's raw profiles (collapsed stacks) here")
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
        profiles = args.profiles_dir or data_dir
        rows, admitted = [], 0
        for name, url in (("POST /ping", f"{api}/ping"), ("POST /run", f"{api}/run")):
            hammer(url, "POST", body, args.clients, 2.0)  # warm-up: every connection open
            processes = stack_processes(postgres_pid)
            before = cpu_seconds(processes)
            records = {group_of(p): start_py_spy(p.pid, args.seconds, profiles / f"{group_of(p)}.txt", rate=100)
                       for p in processes if group_of(p) in PROFILED} if args.py_spy and name == "POST /run" else {}
            result = hammer(url, "POST", body, args.clients, args.seconds)
            after = cpu_seconds(processes)
            used = {group: after[group] - before.get(group, 0) for group in after}
            for record in records.values():
                record.wait(60)
            n = result["requests"]
            if set(result["statuses"]) - {200, 201}:
                print(f"{name}: answers {dict(result['statuses'])}", file=sys.stderr)
            admitted += n if name == "POST /run" else 0
            rows.append([name, f"{n / result['seconds']:.0f}", f"{sum(used.values()) * 1000 / n:.1f}",
                         *[f"{used.get(group, 0) * 1000 / n:.1f}" for group in COLUMNS]])
        with psycopg.connect(database_url) as conn:  # what the runs projection has caught up with by now
            projected = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        print(f"runs admitted: {admitted} ({len(service.workers)} devices), in the runs table at the end: {projected}")
        table(f"CPU per request, ms, {args.clients} clients x {args.seconds:.0f} s (DEVICES=0; load average "
              f"{os.getloadavg()[0]:.1f})", ["endpoint", "req/s", "CPU ms/req", *COLUMNS], rows)
        if args.py_spy:
            for group in PROFILED:
                if (path := profiles / f"{group}.txt").exists():
                    found = read_profile(path, top=15)
                    print(f"\n{group}, POST /run load: {found['samples']} samples of work (100/s)")
                    for title, functions in (("this repository's functions, samples in them", found["ours"]),
                                             ("any function, samples of its own", found["own"])):
                        print(f"  {title}:")
                        for function, count in functions:
                            print(f"    {count:6d}  {function}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
