"""Service benchmark: the HTTP API, the live event streams and the idle footprint.

Starts an embedded PostgreSQL and an Appium server with the simulator (the
launcher's own functions, in a temporary DATA_DIR, on free ports), then runs
each phase in a child process of its own, because Ray Serve reads its
environment once per process and each phase needs a fresh Ray:

- serve-default      devices=0 (runs stay queued): POST /run vs POST /ping (a no-op
                     with the same body) throughput and latency; event -> client on an
                     open stream; crowds of viewers opening one live run's stream; memory
- serve-throughput   the same (but the crowds) with RAY_SERVE_THROUGHPUT_OPTIMIZED=1 set before ray.init
- runs               devices=2 (the default), sequential maxSteps=1 runs on the
                     simulator: POST /run returned -> run.started on the stream; then
                     admission throughput with the devices working; memory

    .venv/bin/python benchmarks/service_bench.py [--clients 8] [--seconds 3] [--rounds 5] [--runs 40]
                                                 [--viewers 50,300,1000] [--history 300]

Only 127.0.0.1 traffic. Everything started is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the product's packages are at the root

import httpx  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
from httpx_sse import connect_sse  # noqa: E402

import bootstrap  # noqa: E402
from bench_common import free_port, pct, table, wait_until  # noqa: E402
from stream_opening import stream_opening  # noqa: E402
import launcher  # noqa: E402
from config.settings import Settings  # noqa: E402
from domain.run import Run  # noqa: E402

PHASES = {
    "serve-default": {"devices": 0, "env": {}},
    "serve-throughput": {"devices": 0, "env": {"RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"}},
    "runs": {"devices": 2, "env": {}},
}
RUN_DEADLINE_SECONDS = 120.0  # one maxSteps=1 run, from POST to its terminal event
SETTLE_SECONDS = 5.0  # after start-up, before the idle footprint is read
APP = {"apkPath": str(REPO / "apps" / "notes.json"), "packageName": "com.example.notes",
       "appActivity": ".ConsentActivity"}


# Small helpers

def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# Memory: RSS of every process the stack started

def label(process: psutil.Process) -> str:
    try:
        args = process.cmdline()
    except psutil.Error:
        return "?"
    if args and args[0].startswith("ray::"):
        return args[0].split()[0].split(".")[0]  # ray::JobQueue.pull: the actor, not its current task
    script = next((Path(a).name for a in args[1:] if a.endswith(".py")), None)
    return script or (Path(args[0]).name if args else process.name())


def footprint(groups: dict[str, list[int]]) -> dict[str, Any]:
    """RSS and USS (pages no other process shares) per group of process trees, in MB."""
    out: dict[str, Any] = {}
    for group, roots in groups.items():
        seen: dict[int, psutil.Process] = {}
        for pid in roots:
            try:
                root = psutil.Process(pid)
                for p in [root, *root.children(recursive=True)]:
                    seen[p.pid] = p
            except psutil.Error:
                continue
        if group == "ray":
            seen.pop(os.getpid(), None)  # the driver is counted on its own
        rss = uss = 0.0
        parts: Counter[str] = Counter()
        for p in seen.values():
            try:
                info = p.memory_full_info()
            except psutil.Error:
                continue
            rss, uss = rss + info.rss / 2**20, uss + info.uss / 2**20
            parts[label(p)] += info.rss / 2**20
        out[group] = {"processes": len(seen), "rss": rss, "uss": uss, "parts": dict(parts.most_common())}
    return out


# Load: the same client for both endpoints

def hammer(url: str, method: str, body: dict | None, clients: int, seconds: float) -> dict[str, Any]:
    """`clients` threads, each with its own keep-alive connection, send requests back to back."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[Counter[int]] = [Counter() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(i: int) -> None:
        with httpx.Client(timeout=30) as http:
            start.wait()
            while time.perf_counter() < deadline[0]:
                began = time.perf_counter()
                try:
                    status = http.request(method, url, json=body).status_code
                except httpx.HTTPError:
                    status = -1
                latencies[i].append(time.perf_counter() - began)
                statuses[i][status] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.perf_counter() - began
    flat = [x for each in latencies for x in each]
    codes = sum(statuses, Counter())
    return {"requests": len(flat), "seconds": elapsed, "latencies": flat, "statuses": dict(codes)}


def throughput(api: str, appium_url: str, clients: int, seconds: float, rounds: int) -> dict[str, Any]:
    body = {**APP, "appiumServerUrl": appium_url, "maxSteps": 5}
    endpoints = {"GET /ping": ("GET", f"{api}/ping", None), "POST /ping": ("POST", f"{api}/ping", body),
                 "POST /run": ("POST", f"{api}/run", body)}
    for method, url, payload in endpoints.values():  # warm-up: connections, imports, caches
        hammer(url, method, payload, clients, 1.0)
    merged: dict[str, dict[str, Any]] = {name: {"requests": 0, "seconds": 0.0, "latencies": [], "statuses": Counter()}
                                         for name in endpoints}
    round_ratios = []  # POST /run / POST /ping in each round: how much the machine moved meanwhile
    for _ in range(rounds):  # interleaved, so a burst of load elsewhere hits both
        rps = {}
        for name, (method, url, payload) in endpoints.items():
            result = hammer(url, method, payload, clients, seconds)
            rps[name] = result["requests"] / result["seconds"]
            merged[name]["requests"] += result["requests"]
            merged[name]["seconds"] += result["seconds"]
            merged[name]["latencies"] += result["latencies"]
            merged[name]["statuses"].update(result["statuses"])
        round_ratios.append(rps["POST /run"] / rps["POST /ping"])
    return {"round_ratios": round_ratios,
            **{name: {"rps": m["requests"] / m["seconds"], "p50": pct(m["latencies"], 50) * 1000,
                      "p99": pct(m["latencies"], 99) * 1000, "requests": m["requests"],
                      "statuses": {str(k): v for k, v in m["statuses"].items()}} for name, m in merged.items()}}


# Event saved -> SSE arrival

class StreamReader:
    """Reads one run's SSE stream in a thread; notes when each event id arrives."""

    def __init__(self, api: str, run_id: str) -> None:
        self.arrived: dict[int, float] = {}
        self.events: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._read, args=(api, run_id), daemon=True)
        self.thread.start()

    def _read(self, api: str, run_id: str) -> None:
        try:
            with httpx.Client(base_url=api, timeout=httpx.Timeout(60, read=120)) as http:
                with connect_sse(http, "GET", f"/run/{run_id}/stream") as source:
                    for sse in source.iter_sse():
                        if not sse.data:  # a keep-alive comment (httpx-sse repeats the last id on it)
                            continue
                        now, wall = time.perf_counter(), time.time()
                        with self.changed:
                            self.arrived[int(sse.id)] = now
                            self.events.append({"id": int(sse.id), "event": sse.event, "data": json.loads(sse.data),
                                                "at": now, "wall": wall})
                            self.changed.notify_all()
        except BaseException as error:
            self.error = error
        finally:
            with self.changed:
                self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], seconds: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate() or not self.thread.is_alive(), timeout=seconds) \
                and predicate()


def delivery_latency(api: str, database_url: str, appium_url: str, events: int) -> dict[str, Any]:
    """Save events on a run of our own (no device takes it: devices=0) and time their arrival."""
    from domain.application import RunRequest, RunService
    from storage.postgres import event_store_env
    from ulid import ULID

    runs = RunService(env=event_store_env(database_url))
    try:
        run = runs.request_run(RunRequest(apk_path=APP["apkPath"], appium_server_url=appium_url,
                                          package_name=APP["packageName"], app_activity=APP["appActivity"]))
        run_id = str(ULID.from_uuid(run.id))
        runs.start_run(run_id, "bench", 600)
        reader = StreamReader(api, run_id)
        if not reader.wait_for(lambda: 2 in reader.arrived, 30):  # history replayed: the stream is live
            raise RuntimeError(f"stream did not replay the run's history: {reader.error!r}")
        saves, after_return, after_start = [], [], []
        for i in range(events):
            began = time.perf_counter()
            saved = runs.record(run_id, Run.discover_screen, step_ordinal=i, screen_id=f"bench{i:04d}",
                                activity=".BenchActivity")
            returned = time.perf_counter()
            if not reader.wait_for(lambda: saved.version in reader.arrived, 10):
                raise RuntimeError(f"event {saved.version} never arrived: {reader.error!r}")
            arrival = reader.arrived[saved.version]
            saves.append(returned - began)
            after_return.append(arrival - returned)
            after_start.append(arrival - began)
            time.sleep(0.01)  # one event at a time, as a step's events come
        runs.complete_run(run_id, "max_steps", {})
        reader.thread.join(30)
    finally:
        runs.close()
    ms = lambda xs, q: pct(xs, q) * 1000  # noqa: E731
    ts_to_client = [e["wall"] - ts_of(e["data"]) for e in reader.events if e["event"] == "graph.screen.discovered"]
    return {"events": events, "ts_to_client": {"p50": ms(ts_to_client, 50), "p99": ms(ts_to_client, 99)},
            "save": {"p50": ms(saves, 50), "p99": ms(saves, 99)},
            "arrival_after_return": {"p50": ms(after_return, 50), "p99": ms(after_return, 99)},
            "arrival_after_start": {"p50": ms(after_start, 50), "p99": ms(after_start, 99)}}


# POST /run returned -> run.started on the stream

def start_latency(api: str, appium_url: str, runs: int, warmup: int = 2) -> dict[str, Any]:
    """Sequential runs with a free device; each run's stream is opened as soon as POST returns."""
    body = {**APP, "appiumServerUrl": appium_url, "maxSteps": 1,
            "inputs": {"username": "alice", "password": "secret"}}
    rows = []
    with httpx.Client(base_url=api, timeout=httpx.Timeout(60, read=120)) as http:
        for i in range(warmup + runs):
            began = time.perf_counter()
            response = http.post("/run", json=body)
            returned = time.perf_counter()
            response.raise_for_status()
            run_id = response.json()["runId"]
            first = started = None
            seen: dict[str, dict] = {}
            with connect_sse(http, "GET", f"/run/{run_id}/stream") as source:
                for sse in source.iter_sse():  # the server closes after the terminal event
                    if time.perf_counter() - returned > RUN_DEADLINE_SECONDS:
                        break  # keep-alives arrive every 15 s, so a stuck run ends here
                    if not sse.data:  # a keep-alive comment (httpx-sse repeats the last id on it)
                        continue
                    now = time.perf_counter()
                    first = first or now
                    seen.setdefault(sse.event, json.loads(sse.data))
                    if sse.event == "run.started":
                        started = now
                    if sse.event in ("run.completed", "run.failed", "run.canceled"):
                        break
            ended = time.perf_counter()
            terminal = next((seen[k] for k in ("run.completed", "run.failed", "run.canceled") if k in seen), {})
            if i >= warmup:
                rows.append({"post": returned - began, "first": first - returned,
                             "started": (started - returned) if started else None,
                             "dispatch": server_gap(seen.get("run.queued"), seen.get("run.started")),
                             "run": ended - returned, "stopReason": terminal.get("stopReason")})
            print(f"    {f'warm-up {i + 1}' if i < warmup else f'run {i + 1 - warmup:3d}/{runs}'}: "
                  f"run.started {1000 * (started - returned) if started else float('nan'):6.1f} ms after POST, "
                  f"{terminal.get('stopReason')}", file=sys.stderr, flush=True)
    started_ms = [r["started"] * 1000 for r in rows if r["started"] is not None]
    col = lambda key: [r[key] * 1000 for r in rows if r[key] is not None]  # noqa: E731
    return {"runs": len(rows), "missing_started": len(rows) - len(started_ms),
            "stop_reasons": dict(Counter(r["stopReason"] for r in rows)),
            **{key: {"p50": pct(col(key), 50), "p99": pct(col(key), 99)}
               for key in ("post", "first", "started", "dispatch", "run")}}


def ts_of(data: dict[str, Any]) -> float:
    """An event's own timestamp (`ts`, UTC, ms resolution) as a Unix time."""
    from datetime import datetime
    return datetime.fromisoformat(data["ts"].replace("Z", "+00:00")).timestamp()


def live_run_with_history(database_url: str, appium_url: str, events: int) -> tuple[str, int]:
    """A running run (held by a worker named `bench`; no device takes it) with `events` events of history."""
    from domain.application import RunRequest, RunService
    from storage.postgres import event_store_env
    from ulid import ULID

    runs = RunService(env=event_store_env(database_url))
    try:
        run = runs.request_run(RunRequest(apk_path=APP["apkPath"], appium_server_url=appium_url,
                                          package_name=APP["packageName"], app_activity=APP["appActivity"]))
        run_id = str(ULID.from_uuid(run.id))
        last = runs.start_run(run_id, "bench", 3600).version
        for i in range(events - last):
            last = runs.record(run_id, Run.discover_screen, step_ordinal=i, screen_id=f"s{i:04d}",
                               activity=".BenchActivity").version
        return run_id, last
    finally:
        runs.close()


def server_gap(queued: dict | None, started: dict | None) -> float | None:
    """run.queued -> run.started by the events' own timestamps (ms resolution, server clock)."""
    from datetime import datetime
    if not queued or not started:
        return None
    parse = lambda ts: datetime.fromisoformat(ts.replace("Z", "+00:00"))  # noqa: E731
    return (parse(started["ts"]) - parse(queued["ts"])).total_seconds()


# A phase, in its own process

def run_phase(args: argparse.Namespace) -> None:
    phase = PHASES[args.phase]
    settings = Settings(database_url=args.database_url, appium_url=args.appium_url, data_dir=Path(args.data_dir),
                        ray_address=None, ray_namespace=f"bench-{args.phase}", host="127.0.0.1", port=free_port(),
                        ray_dashboard_port=free_port(), devices=phase["devices"], device_udids="")
    result: dict[str, Any] = {"phase": args.phase, "devices": phase["devices"], "load_start": load_average()}
    # Ray's processes are this driver's descendants (ray.init starts them); RAY_SERVE_* were set
    # in this process's environment by the parent, before anything imported Ray.
    groups = {"postgres": [args.postgres_pid], "appium": [args.appium_pid], "ray": [os.getpid()]}
    with ExitStack() as stack:
        started = time.perf_counter()
        launcher.start_ray(settings, stack)
        time.sleep(SETTLE_SECONDS)
        result["memory_bare_ray"] = footprint(groups)
        service = bootstrap.start_service(settings)  # holds the actor handles: the actors live while it does
        api = f"http://127.0.0.1:{settings.port}"
        wait_until(lambda: httpx.get(f"{api}/health", timeout=5).status_code == 200, 120, "GET /health")
        result["startup_seconds"] = time.perf_counter() - started
        time.sleep(SETTLE_SECONDS)
        result["memory_idle"] = footprint(groups)
        result["driver_rss"] = psutil.Process().memory_info().rss / 2**20
        if args.phase.startswith("serve"):
            print("    throughput: GET /ping and POST /run ...", file=sys.stderr, flush=True)
            result["throughput"] = throughput(api, args.appium_url, args.clients, args.seconds, args.rounds)
            print("    event saved -> SSE arrival ...", file=sys.stderr, flush=True)
            result["delivery"] = delivery_latency(api, args.database_url, args.appium_url, args.events)
            if args.phase == "serve-default":
                print(f"    stream opening: {args.viewers} viewers of one live run ...", file=sys.stderr, flush=True)
                run_id, last_seq = live_run_with_history(args.database_url, args.appium_url, args.history)
                crowds = [1] + [int(n) for n in args.viewers.split(",")]
                result["opening"] = {"history": last_seq,
                                     "crowds": stream_opening(api, run_id, last_seq, crowds)}
        else:
            print(f"    {args.runs} sequential runs (maxSteps=1) ...", file=sys.stderr, flush=True)
            result["start"] = start_latency(api, args.appium_url, args.runs)
            print("    throughput with the devices working the runs admitted ...", file=sys.stderr, flush=True)
            result["throughput"] = throughput(api, args.appium_url, args.clients, args.seconds, args.rounds)
        result["load_end"] = load_average()
        result["workers"] = len(service.workers)
    Path(args.out).write_text(json.dumps(result))


# The parent: PostgreSQL and Appium for all phases, then the report

def with_database(url: str, name: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def appium_pid(port: int) -> int:
    for child in psutil.Process().children(recursive=True):
        try:
            if "appium" in " ".join(child.cmdline()) and str(port) in " ".join(child.cmdline()):
                return child.pid
        except psutil.Error:
            continue
    raise RuntimeError("Appium process not found")


def main(args: argparse.Namespace) -> int:
    results, failed = [], []
    with ExitStack() as stack:
        data_dir = Path(tempfile.mkdtemp(prefix="service-bench-"))
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        boot = Settings(data_dir=data_dir, database_url=None, appium_url=None, appium_port=free_port())
        print("starting PostgreSQL and Appium ...", file=sys.stderr, flush=True)
        database_url = launcher.start_postgres(boot, stack)
        appium_url = launcher.start_appium(boot, stack)
        postgres_pid = int((boot.embedded_database_dir / "postmaster.pid").read_text().split()[0])
        for name in args.phases.split(","):
            print(f"phase {name} ...", file=sys.stderr, flush=True)
            out = data_dir / f"{name}.json"
            command = [sys.executable, __file__, "--phase", name, "--out", str(out),
                       "--database-url", with_database(database_url, f"bench_{name.replace('-', '_')}"),
                       "--appium-url", appium_url, "--data-dir", str(data_dir / name),
                       "--postgres-pid", str(postgres_pid), "--appium-pid", str(appium_pid(boot.appium_port)),
                       "--clients", str(args.clients), "--seconds", str(args.seconds), "--rounds", str(args.rounds),
                       "--runs", str(args.runs), "--events", str(args.events), "--viewers", args.viewers,
                       "--history", str(args.history)]
            env = {**os.environ, **PHASES[name]["env"]}
            for key in ("RAY_ADDRESS", "DATABASE_URL", "APPIUM_URL", "DEVICE_UDIDS"):
                env.pop(key, None)  # every phase brings its own
            child = subprocess.Popen(command, env=env)
            try:
                child.wait(timeout=1800)
            except BaseException:  # Ctrl-C or the timeout: let the child stop its Ray before we go on
                child.send_signal(signal.SIGINT)
                child.wait(timeout=120)
                raise
            if child.returncode != 0 or not out.exists():
                failed.append(name)
                print(f"phase {name} failed (exit code {child.returncode}); going on", file=sys.stderr, flush=True)
                continue
            results.append(json.loads(out.read_text()))
    print("stopped PostgreSQL and Appium", file=sys.stderr, flush=True)
    if results:
        report(results, args)
    if failed:
        print(f"\nFAILED phases: {', '.join(failed)} (see the messages above)")
    return 1 if failed else 0


# Report

def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    by_phase = {r["phase"]: r for r in results}
    rows = []
    for name in ("serve-default", "serve-throughput", "runs"):
        r = by_phase.get(name)
        if not r or "throughput" not in r:
            continue
        t = r["throughput"]
        for endpoint in ("GET /ping", "POST /ping", "POST /run"):
            e = t[endpoint]
            errors = sum(v for k, v in e["statuses"].items() if not k.startswith("2"))
            rows.append([f"{name} (devices={r['devices']})", endpoint, f"{e['rps']:.0f}", f"{e['p50']:.1f}",
                         f"{e['p99']:.1f}", e["requests"], errors])
        ratio = t["POST /run"]["rps"] / t["POST /ping"]["rps"]
        target = f"target >= 0.8: {verdict(ratio >= 0.8)}" if r["devices"] == 0 else "(devices working: reported)"
        rows.append([name, "POST /run / POST /ping", f"{ratio:.2f}", "", "", "", target])
        per_round = sorted(t["round_ratios"])
        rows.append([name, "the same, per round", f"{statistics.median(per_round):.2f}", "", "", "",
                     f"min {per_round[0]:.2f}, max {per_round[-1]:.2f}"])
    if rows:
        table(f"Admission: {args.clients} concurrent keep-alive clients, {args.rounds} x {args.seconds:g} s "
              "per endpoint, interleaved; baseline POST /ping, a no-op taking POST /run's body (devices=0: every "
              "POSTed run stays queued)",
              ["config", "endpoint", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx"], rows)

    rows = []
    for name in ("serve-default", "serve-throughput"):
        r = by_phase.get(name)
        if not r:
            continue
        d = r["delivery"]
        ok = d["ts_to_client"]["p50"] < 25 and d["ts_to_client"]["p99"] < 100
        rows.append([name, d["events"], f"{d['save']['p50']:.2f}", f"{d['save']['p99']:.2f}",
                     f"{d['arrival_after_return']['p50']:.2f}", f"{d['arrival_after_return']['p99']:.2f}",
                     f"{d['ts_to_client']['p50']:.2f}", f"{d['ts_to_client']['p99']:.2f}",
                     f"ts->client p50 < 25, p99 < 100: {verdict(ok)}"])
    if rows:
        table("Event to client, ms: RunService.record in the bench process, an open SSE stream reading "
              "(baseline: the save itself; 'ts->client' is the event's own timestamp to its arrival)",
              ["config", "events", "save p50", "save p99", "return->SSE p50", "p99", "ts->client p50", "p99",
               "target"], rows)

    r = by_phase.get("serve-default")
    if r and "opening" in r:
        rows = []
        for c in r["opening"]["crowds"]:
            n = c["viewers"]
            target = {300: f"slowest < 3 s: {verdict(c['served'] == n and c['history_max'] < 3)}",
                      1000: f"all served, no error: {verdict(c['served'] == n and not c['errors'])}"}.get(
                          n, "baseline" if n == 1 else "")
            rows.append([n, c["served"], c["held_at_once"], c["server_open_streams"],
                         f"{c['first_p50'] * 1000:.0f}", f"{c['first_max'] * 1000:.0f}",
                         f"{c['history_p50'] * 1000:.0f}", f"{c['history_max'] * 1000:.0f}", c["errors"] or "",
                         f"{c['ping_p50'] * 1000:.0f}", f"{c['ping_max'] * 1000:.0f}", target])
        table(f"Stream opening: N viewers open one live run's stream at once ({r['opening']['history']} events of "
              "history), ms; baselines: 1 viewer alone, and N no-op GET /ping sent at once",
              ["viewers", "served", "held at once", "server open", "first p50", "first max", "history p50",
               "history max", "errors", "N pings p50", "N pings max", "target"], rows)

    r = by_phase.get("runs")
    if r:
        s = r["start"]
        names = {"post": "POST /run latency", "first": "POST returned -> first event (run.queued, replayed): baseline",
                 "started": "POST returned -> run.started on the stream",
                 "dispatch": "run.queued ts -> run.started ts (server clock, ms resolution)",
                 "run": "POST returned -> terminal event (whole maxSteps=1 run)"}
        rows = [[label_, f"{s[key]['p50']:.1f}", f"{s[key]['p99']:.1f}"] for key, label_ in names.items()]
        table(f"Run start latency: {s['runs']} sequential runs, devices=2, maxSteps=1 on the simulator (notes app), "
              f"ms; stop reasons {s['stop_reasons']}",
              ["figure", "p50", "p99"], rows)
        print(f"  target run.started p50 < 50 ms: {verdict(s['started']['p50'] < 50)}"
              + (f"  ({s['missing_started']} runs without run.started)" if s["missing_started"] else ""))

    rows = []
    for r in results:
        for when in ("memory_bare_ray", "memory_idle"):
            m = r[when]
            total = sum(m[g]["rss"] for g in ("postgres", "appium", "ray"))
            total_uss = sum(m[g]["uss"] for g in ("postgres", "appium", "ray"))
            rows.append([r["phase"], r["devices"], "bare ray.init" if when == "memory_bare_ray" else "service idle",
                         *[f"{m[g]['rss']:.0f} ({m[g]['processes']})" for g in ("postgres", "appium", "ray")],
                         f"{total:.0f}", f"{total_uss:.0f}"])
    table("Idle footprint, MB RSS (processes): PostgreSQL, Appium, Ray processes; 'bare ray.init' is the baseline "
          f"before the actors and Serve start ({SETTLE_SECONDS:g} s settle)",
          ["phase", "devices", "when", "postgres", "appium", "ray", "RSS sum", "USS sum"], rows)
    default = by_phase.get("runs") or results[0]
    parts = default["memory_idle"]["ray"]["parts"]
    print(f"  Ray processes of the '{default['phase']}' stack, MB RSS: "
          + ", ".join(f"{k} {v:.0f}" for k, v in parts.items()))
    print(f"  (the driver process, launcher's role here, adds {default['driver_rss']:.0f} MB RSS)")
    print("\n  Start-up (ray.init -> /health 200): "
          + ", ".join(f"{r['phase']} {r['startup_seconds']:.1f} s" for r in results))
    print("  Load average (1 min) at start / end of each phase on this 2-core machine: "
          + ", ".join(f"{r['phase']} {r['load_start']:.1f}/{r['load_end']:.1f}" for r in results))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=10,
                        help="interleaved rounds: a burst of other load spreads over them (one round reads 0.6-1.1)")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--events", type=int, default=60, help="events saved for the SSE delivery figure")
    parser.add_argument("--viewers", default="50,300,1000", help="crowds opening one run's stream at once")
    parser.add_argument("--history", type=int, default=300, help="events of the run the crowds open")
    child = parser.add_argument_group("internal: one phase in a child process")
    for name in ("--phase", "--out", "--database-url", "--appium-url", "--data-dir"):
        child.add_argument(name)
    child.add_argument("--postgres-pid", type=int)
    child.add_argument("--appium-pid", type=int)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    sys.exit(run_phase(arguments) or 0 if arguments.phase else main(arguments))
