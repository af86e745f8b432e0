"""Exploration benchmark: the built-in policy (dfs) against the random baseline (and llm), on every sample app.

Drives the product's own `AgentRun` in this process (no Ray) against a real Appium
server with the simulator, on an embedded PostgreSQL in a temporary directory, and
reads the figures back from the run's own events:

- discovery: screens and activities found by step 25, 50, 100, 200
  (`graph.screen.discovered` events, their `stepOrdinal` and `activity`);
- steps to a goal: a run with a goal quoting a text deep in the app stops with
  `goal_reached`; the `run.completed` metrics say at which step;
- time per step: wall time of each `ExplorationStep.run_step`, split by timing wrappers
  put around the Device methods (Appium), RunService writes/reads (event store),
  ArtifactStore.put (artifacts), the observer's idle sleeps and the model's answers;
- with `--policies ...,llm`: the local model server (scripts/llm_server.py) is started too, and
  policy_bench.py adds the model's calls, tokens, latency, fallbacks and answers.

    .venv/bin/python benchmarks/exploration_bench.py [--seeds 3] [--max-steps 200] [--apps notes,shop]
        [--policies dfs,random,llm] [--dfs-seeds 1]

Everything it starts (PostgreSQL, Appium, the model server) is stopped at the end.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
import types
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the product's packages are at the root

from bench_common import free_port, table  # noqa: E402
import policy_bench  # noqa: E402
import launcher  # noqa: E402
from adapters import appium as appium_module  # noqa: E402
from agent import observer, step as exploration  # noqa: E402
from agent.agent_run import AgentRun  # noqa: E402
from agent.run_writer import RunWriter  # noqa: E402
from config.settings import Settings  # noqa: E402
from domain.application import RunService, RunRequest  # noqa: E402
from domain.exploration import goal_text, parse_screen, screen_shows  # noqa: E402
from storage.artifacts import ArtifactStore  # noqa: E402
from storage.postgres import event_store_env  # noqa: E402
from storage.schema import create_tables  # noqa: E402
from ulid import ULID  # noqa: E402

CHECKPOINTS = (25, 50, 100, 200)
CAPS = {"appium:automationName": "Simulator"}
WORKER_ID = "bench"  # the run is started for this worker; the agent writes as it
# AgentRun names its writer (worker_id) once runs are leased to one worker; older versions do not.
WORKER = {"worker_id": WORKER_ID} if "worker_id" in inspect.signature(AgentRun).parameters else {}


@dataclass(frozen=True)
class App:
    name: str
    package: str
    activity: str
    goal: str  # quotes a text that only a deep screen shows
    goal_path: str  # for the reader: where that text is
    inputs: dict[str, str] = field(default_factory=dict)
    model_file: Path | None = None  # the model the simulator serves (the run's apkPath); default apps/<name>.json

    @property
    def model_path(self) -> Path:
        return self.model_file or REPO / "apps" / f"{self.name}.json"

    @property
    def model(self) -> dict[str, Any]:
        return json.loads(self.model_path.read_text())

    @property
    def activities(self) -> set[str]:
        return {screen["activity"] for screen in self.model["screens"].values()}

    @property
    def screens(self) -> int:
        return len(self.model["screens"])


APPS = (
    App("notes", "com.example.notes", ".ConsentActivity", 'Open the "Apache License 2.0" text',
        "consent > login (alice/secret) > home > settings > about > licenses",
        {"username": "alice", "password": "secret"}),
    App("settings", "com.example.settings", ".SettingsActivity", 'Find the Wi-Fi "MAC address"',
        "main > network > wifi > network detail > advanced"),
    App("shop", "com.example.shop", ".ShopHomeActivity", 'Place an order: "Your order is on its way"',
        "home > product > cart > checkout (name, address) > confirmation"),
    App("recipes", "com.example.recipes", ".RecipesHomeActivity", 'Find the "Gluten free" option',
        "home, scrolled > settings > dietary preferences"),
)


# Timing: wrappers around the product's own methods, installed in this process only.

class Clock:
    """Time spent in wrapped calls, by category; a call made inside another timed call is not counted twice."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._inside = threading.local()
        self._restore: list[Callable[[], None]] = []

    def wrap(self, owner: Any, name: str, category: str, nested: bool = False) -> None:
        """`nested`: a part of another timed call (its time is counted in both)."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if nested:
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    self.seconds[category] += time.perf_counter() - started
                    self.calls[category] += 1
            if getattr(self._inside, "busy", False):
                return original(*args, **kwargs)
            self._inside.busy = True
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[category] += time.perf_counter() - started
                self.calls[category] += 1
                self._inside.busy = False

        setattr(owner, name, timed)
        self._restore.append(lambda: setattr(owner, name, original))

    def snapshot(self) -> tuple[dict[str, float], Counter[str]]:
        return dict(self.seconds), Counter(self.calls)

    def restore(self) -> None:
        for undo in reversed(self._restore):
            undo()


DEVICE_METHODS = ("page_source", "screenshot_png", "current_activity", "current_package", "is_app_installed",
                  "install_app", "activate_app", "terminate_app", "app_state", "tap", "type_text", "back", "quit")


@dataclass
class StepTiming:
    wall: float
    seconds: dict[str, float]
    calls: Counter[str]


class StepTimer:
    """Wraps ExplorationStep.run_step: one StepTiming per exploration step, with the clock's deltas."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.steps = clock, []
        original = exploration.ExplorationStep.run_step
        timer = self

        def run(step_self: Any, step: int, screen: Any) -> Any:
            before_s, before_c = clock.snapshot()
            started = time.perf_counter()
            try:
                return original(step_self, step, screen)
            finally:
                wall = time.perf_counter() - started
                after_s, after_c = clock.snapshot()
                timer.steps.append(StepTiming(wall, {k: after_s.get(k, 0.0) - before_s.get(k, 0.0) for k in after_s},
                                              after_c - before_c))

        exploration.ExplorationStep.run_step = run
        clock._restore.append(lambda: setattr(exploration.ExplorationStep, "run_step", original))


def install_timers(clock: Clock) -> StepTimer:
    for name in DEVICE_METHODS:
        clock.wrap(appium_module.Device, name, "appium")
    clock.wrap(RunWriter, "flush", "store_write")  # one batched save: a step's events in one write
    clock.wrap(RunService, "events_after", "store_read")  # the cancel check before every node
    clock.wrap(RunService, "save", "store_save", nested=True)  # the INSERT part of a write
    clock.wrap(ArtifactStore, "put", "artifacts")
    sleeping = types.SimpleNamespace(**{k: getattr(time, k) for k in ("monotonic", "perf_counter", "time")})
    sleeping.sleep = time.sleep
    observer.time = sleeping  # only the observer's module sees this namespace
    clock.wrap(sleeping, "sleep", "idle_wait")
    clock._restore.append(lambda: setattr(observer, "time", time))
    return StepTimer(clock)


# The stack

def start_services(stack: ExitStack, prefix: str) -> Settings:
    """PostgreSQL (tables created) and Appium with the simulator, in a temporary data directory on free ports,
    stopped when `stack` closes; the settings to run agents on them (no stop for lack of progress)."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
    boot = Settings(data_dir=data_dir, database_url=None, appium_url=None, appium_port=free_port())
    print("starting PostgreSQL and Appium ...", flush=True)
    database_url = launcher.start_postgres(boot, stack)
    appium_url = launcher.start_appium(boot, stack)
    create_tables(database_url)
    return boot.model_copy(update={"database_url": database_url, "appium_url": appium_url,
                                   "no_progress_steps": 1000, "run_timeout_seconds": 3600.0})


@dataclass
class BenchStack:
    settings: Settings
    runs: RunService
    artifacts: ArtifactStore
    clock: Clock
    timer: StepTimer


def start_stack(stack: ExitStack, prefix: str, llm: bool = False) -> BenchStack:
    """`start_services` (and the model server with `llm`), the run service and artifact store on them, and
    the step timers installed in this process; all closed, stopped and removed when `stack` closes."""
    settings = start_services(stack, prefix)
    llm_url = policy_bench.start_model_server(stack) if llm else None
    settings = settings.model_copy(update={"llm_base_url": llm_url})
    runs = RunService(env=event_store_env(settings.database_url))
    stack.callback(runs.close)
    artifacts = ArtifactStore(settings.database_url)
    stack.callback(artifacts.close)
    clock = Clock()
    stack.callback(clock.restore)
    return BenchStack(settings, runs, artifacts, clock, install_timers(clock))


# Runs

@dataclass
class RunResult:
    app: str
    policy: str
    seed: int
    goal: bool
    steps: int
    status: str
    stop_reason: str
    wall: float
    screens_at: dict[int, int]
    activities_at: dict[int, int]
    activities: set[str]
    timings: list[StepTiming]
    events: int
    error: str = ""
    goal_step: int | None = None  # first step whose perceived screen shows the app's goal text
    metrics: dict[str, Any] = field(default_factory=dict)  # run.completed's
    llm_calls: list[dict[str, Any]] = field(default_factory=list)  # the agent.llm.called events' data
    replies: list[tuple[str, Any, int]] = field(default_factory=list)  # (purpose, ModelReply, max_tokens)
    run_id: str = ""


def explore(runs: RunService, artifacts: ArtifactStore, settings: Settings, timer: StepTimer, appium_url: str,
            app: App, policy: str, seed: int, max_steps: int, goal: bool,
            caps: dict[str, Any] = CAPS) -> RunResult:
    """`caps`: the device's capabilities (the simulator's; e.g. with `appium:simSeed`)."""
    run = runs.request_run(RunRequest(
        apk_path=str(app.model_path), appium_server_url=appium_url, package_name=app.package,
        app_activity=app.activity, max_steps=max_steps, goal=app.goal if goal else None, inputs=app.inputs))
    run_id = str(ULID.from_uuid(run.id))
    runs.start_run(run_id, WORKER_ID, 600)
    timer.steps = []
    started = time.perf_counter()
    AgentRun(runs, artifacts, settings.worker_settings(), run_id, caps, policy=policy, seed=seed, **WORKER).execute()
    wall = time.perf_counter() - started
    final = runs.get_run(run_id)
    events = runs.run_events(run_id)
    result = summarize(app, policy, seed, goal, final, events, wall, list(timer.steps))
    result.goal_step = first_goal_step(events, artifacts, app)
    result.run_id = run_id
    return result


def first_goal_step(events: list[Any], artifacts: ArtifactStore, app: App) -> int | None:
    """The step at which a goal run would have stopped: dfs's and random's choices do not depend
    on the goal, so a run without one follows the same path; checked with the product's own
    goal test on the page source the run stored for each perceived screen."""
    wanted, shows = goal_text(app.goal), {}
    for event in events:
        if event.name != "agent.screen.perceived":
            continue
        source_id = event.data["artifacts"]["pageSource"]
        if source_id not in shows:
            source = artifacts.get(source_id)[0]
            shows[source_id] = screen_shows(parse_screen(source, event.data["activity"], event.data["package"]), wanted)
        if shows[source_id]:
            return event.data["stepOrdinal"]
    return None


def summarize(app: App, policy: str, seed: int, goal: bool, final: Any, events: list[Any], wall: float,
              timings: list[StepTiming]) -> RunResult:
    """Discovery per checkpoint, from the run's own events only."""
    package_of = {e.data["screenId"]: e.data["package"] for e in events if e.name == "agent.screen.perceived"}
    discovered = [e.data for e in events if e.name == "graph.screen.discovered"]
    terminal = next(e for e in events if e.is_terminal)
    steps = terminal.data.get("metrics", {}).get("steps", len(timings))
    screens_at, activities_at = {}, {}
    for n in CHECKPOINTS:
        upto = [d for d in discovered if d["stepOrdinal"] <= n]
        screens_at[n] = len(upto)
        activities_at[n] = len({d["activity"] for d in upto if package_of.get(d["screenId"]) == app.package})
    in_app = {d["activity"] for d in discovered if package_of.get(d["screenId"]) == app.package}
    return RunResult(app.name, policy, seed, goal, steps, final.status, final.stop_reason or "", wall,
                     screens_at, activities_at, in_app, timings, len(events), terminal.data.get("error", ""),
                     metrics=terminal.data.get("metrics", {}),
                     llm_calls=[e.data for e in events if e.name == "agent.llm.called"])


# Report

def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def report(results: list[RunResult], max_steps: int, loads: list[float], policies: list[str]) -> None:
    coverage = [r for r in results if not r.goal]
    checkpoints = [n for n in CHECKPOINTS if n <= max_steps] or [max_steps]
    rows = []
    verdicts = []
    for app in APPS:
        total_acts = len(app.activities)
        for policy in policies:
            mine = [r for r in coverage if r.app == app.name and r.policy == policy]
            if not mine:
                continue
            label = f"{app.name} {policy}" + (f" (mean of {len(mine)} seeds)" if len(mine) > 1 else "")
            scr = [f"{mean([r.screens_at[n] for r in mine]):.1f}" for n in checkpoints]
            act = [f"{mean([r.activities_at[n] for r in mine]):.1f}" for n in checkpoints]
            end = "/".join(sorted({f"{r.stop_reason}@{r.steps}" for r in mine}))
            rows.append([label, *[f"{s} / {a}" for s, a in zip(scr, act)], f"{total_acts} / {app.screens}", end])
        dfs = [r for r in coverage if r.app == app.name and r.policy == "dfs"]
        rnd = [r for r in coverage if r.app == app.name and r.policy == "random"]
        if dfs and rnd:
            found = mean([len(r.activities & app.activities) / len(app.activities) for r in dfs])
            ratio = mean([r.screens_at[50] for r in dfs]) / max(mean([r.screens_at[50] for r in rnd]), 1e-9)
            verdicts.append([app.name, f"{found:.0%}", "PASS" if found >= 1 else "FAIL",
                             f"{ratio:.2f}x", "PASS" if ratio >= 1.5 else "FAIL",
                             ", ".join(sorted(app.activities - set().union(*(r.activities for r in dfs)))) or "-"])
    table(f"Discovery by step (screens / in-app activities found by that step; maxSteps={max_steps})",
          ["app policy", *[f"@{n}" for n in checkpoints], "model acts/screens", "stop@steps"], rows)
    table(f"Targets: dfs finds every activity of the model by {max_steps} steps; dfs screens@50 >= 1.5x random",
          ["app", "dfs activities", "", "dfs/random screens@50", "", "activities dfs missed"], verdicts)

    goal_rows = []
    for app in APPS:
        for policy in policies:
            mine = [r for r in coverage if r.app == app.name and r.policy == policy]
            if not mine or policy in policy_bench.SEES_GOAL:
                continue  # its path depends on the goal: only its goal runs below say when it gets there
            reached = [r.goal_step for r in mine if r.goal_step is not None]
            shown = ", ".join(str(r.goal_step) if r.goal_step is not None else f">{r.steps}" for r in mine)
            goal_rows.append([f"{app.name} {policy}", shown, f"{len(reached)}/{len(mine)}",
                              f"{mean(reached):.1f}" if reached else "-", ""])
        for r in (r for r in results if r.goal and r.app == app.name):
            seen = ("" if r.goal_step == r.steps
                    else f", text seen at {r.goal_step}" if r.goal_step else ", text not seen")
            goal_rows.append([f"{app.name} {r.policy} goal run, seed {r.seed}", str(r.steps),
                              *(["1/1", str(r.steps)] if r.stop_reason == "goal_reached" else ["0/1", "-"]),
                              f"{r.stop_reason} (a run with the goal set{seen})"])
    table("Steps to the goal (step whose perceived screen shows the goal text; '>N': not within the run)",
          ["app policy", "per seed", "reached", "mean of reached", "check"], goal_rows)
    print("  goals: " + "; ".join(f"{a.name}: {a.goal!r} ({a.goal_path})" for a in APPS))

    time_rows = []
    for app in APPS:
        for policy in policies:
            steps = [t for r in results if r.app == app.name and r.policy == policy for t in r.timings]
            if steps:
                time_rows.append([f"{app.name} {policy}", *timing_cells(steps)])
    every = [t for r in results for t in r.timings]
    time_rows.append(["all", *timing_cells(every)])
    table("Time per exploration step, ms (mean over steps; 'agent own' = total - Appium - model)",
          ["app policy", "steps", "total", "Appium", "model", "agent own", "store write", "(of which save)",
           "store read", "artifacts", "idle wait", "compute", "writes/step", "Appium calls/step"], time_rows)
    own = mean([t.wall - t.seconds.get("appium", 0) - t.seconds.get("model", 0) for t in every]) * 1000
    compute = mean([compute_of(t) for t in every]) * 1000
    print(f"\n  Target agent own < 20 ms/step: {own:.1f} ms -> {'PASS' if own < 20 else 'FAIL'}"
          f"  (of which pure compute, without event store, artifacts and idle waits: {compute:.1f} ms)")
    writes = sum(t.calls.get("store_write", 0) for t in every) or 1
    per_write = sum(t.seconds.get("store_write", 0) for t in every) / writes * 1000
    per_save = sum(t.seconds.get("store_save", 0) for t in every) / writes * 1000
    print(f"  One event-store write (RunWriter.flush: a batch of events in one save): {per_write:.2f} ms on average"
          f" ({per_save:.2f} ms of it in save, {per_write - per_save:.2f} ms reloading after conflicts);"
          f" {mean([t.calls.get('store_write', 0) for t in every]):.1f} writes per step")
    if "llm" in policies:
        policy_bench.report(results, APPS)
    print(f"\n  Machine: {loads[0]:.2f} / {loads[-1]:.2f} load average (1 min) at start / end, {max(loads):.2f} at most"
          " (read after each run), on a 2-core machine")


def compute_of(t: StepTiming) -> float:
    return t.wall - sum(t.seconds.get(k, 0) for k in ("appium", "model", "store_write", "store_read", "artifacts",
                                                      "idle_wait"))


def timing_cells(steps: list[StepTiming]) -> list[str]:
    def avg(key: str) -> float:
        return mean([t.seconds.get(key, 0.0) for t in steps])
    total = mean([t.wall for t in steps])
    return [str(len(steps)), ms(total), ms(avg("appium")), ms(avg("model")), ms(total - avg("appium") - avg("model")),
            ms(avg("store_write")),
            ms(avg("store_save")), ms(avg("store_read")), ms(avg("artifacts")), ms(avg("idle_wait")), ms(mean([compute_of(t) for t in steps])),
            f"{mean([t.calls.get('store_write', 0) for t in steps]):.1f}",
            f"{mean([t.calls.get('appium', 0) for t in steps]):.1f}"]


# Main

def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the random baseline and of llm (default 3)")
    parser.add_argument("--dfs-seeds", type=int, default=1, help="seeds of dfs (default 1: seed 0)")
    parser.add_argument("--max-steps", type=int, default=200)
    parser.add_argument("--apps", default=",".join(a.name for a in APPS))
    parser.add_argument("--policies", default="dfs,random", help="dfs,random (default) and llm (starts the model)")
    args = parser.parse_args()
    apps = [a for a in APPS if a.name in args.apps.split(",")]
    policies = args.policies.split(",")
    loads = [load_average()]  # at the start, then after every run
    with ExitStack() as stack:
        bench = start_stack(stack, "exploration-bench-", llm="llm" in policies)
        runs, artifacts, settings, timer = bench.runs, bench.artifacts, bench.settings, bench.timer
        appium_url = settings.appium_url
        answers = policy_bench.ModelAnswers(bench.clock)
        seeds = {"dfs": range(args.dfs_seeds)}
        plan = [(app, policy, seed, False) for app in apps for policy in policies
                for seed in seeds.get(policy, range(args.seeds))]
        plan += [(app, "dfs", 0, True) for app in apps if "dfs" in policies]  # cross-checks the dfs runs' goal steps
        # The llm policy puts the goal in its questions and asks whether a screen fulfils it: only a run
        # with the goal set says when it gets there.
        plan += [(app, "llm", seed, True) for app in apps if "llm" in policies for seed in range(args.seeds)]
        results = []
        for i, (app, policy, seed, goal) in enumerate(plan, 1):
            result = explore(runs, artifacts, settings, timer, appium_url, app, policy, seed, args.max_steps, goal)
            result.replies = answers.take()
            results.append(result)
            loads.append(load_average())
            print(f"[{i:2d}/{len(plan)}] {app.name:8s} {policy:6s} seed {seed} {'goal' if goal else 'cover'}: "
                  f"{result.status} {result.stop_reason} after {result.steps} steps, {result.events} events, "
                  f"{result.wall:.1f} s, goal text seen at step {result.goal_step}, load {loads[-1]:.1f}", flush=True)
            if result.status == "failed":
                print(f"      error: {result.error}", flush=True)
        report(results, args.max_steps, loads, policies)
    print(f"\nstopped PostgreSQL, Appium{' and the model server' if 'llm' in policies else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
