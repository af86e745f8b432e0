"""Pause/resume benchmark: does a run that continues elsewhere cover the app in as many steps?

Drives the product's own `AgentRun` in this process (no Ray) against a real Appium
server with the simulator, on an embedded PostgreSQL in a temporary directory. For
each sample app it explores once without a pause (the baseline, measured in the same
run), then again with one pause at 25%, 50% and 75% of the baseline's steps (the pause
written as the API writes it, the resume by a new agent as a free device would), once
taken over from a lost worker at 50%, and once paused at 50% and resumed with a policy
started afresh (what the rebuild from the run's events saves). Figures are read back
from the runs' own events: steps until `explored`, screens and transitions found, and
the pause latency (the request stored -> `run.paused` stored).

    .venv/bin/python benchmarks/pause_resume_bench.py [--apps notes,shop,settings]

Everything it starts (PostgreSQL, Appium) is stopped at the end.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the product's packages are at the root

from bench_common import table  # noqa: E402
from exploration_bench import start_services  # noqa: E402
from agent.agent_run import AgentRun  # noqa: E402
from config.settings import Settings  # noqa: E402
from domain.application import RunRequest, RunService  # noqa: E402
from domain.exploration import DepthFirstPolicy  # noqa: E402
from storage.artifacts import ArtifactStore  # noqa: E402
from storage.postgres import event_store_env  # noqa: E402
from ulid import ULID  # noqa: E402

CAPS = {"appium:automationName": "Simulator"}
APPS = {"notes": ("com.example.notes", ".ConsentActivity", {"username": "alice", "password": "secret"}),
        "shop": ("com.example.shop", ".ShopHomeActivity", {}),
        "settings": ("com.example.settings", ".SettingsActivity", {}),
        "recipes": ("com.example.recipes", ".RecipesHomeActivity", {})}
MAX_STEPS = 400


@dataclass
class Outcome:
    variant: str
    stop_reason: str
    steps: int
    screens: int
    transitions: int
    pause_ms: float | None = None


class Bench:
    def __init__(self, database_url: str, appium_url: str, settings: Settings) -> None:
        self.worker_runs, self.api = RunService(env=event_store_env(database_url)), RunService(env=event_store_env(database_url))
        self.artifacts = ArtifactStore(database_url)
        self.settings, self.appium_url = settings, appium_url

    def close(self) -> None:
        self.artifacts.close()
        self.worker_runs.close()
        self.api.close()

    def request(self, app: str) -> str:
        package, activity, inputs = APPS[app]
        run = self.api.request_run(RunRequest(
            apk_path=str(REPO / "apps" / f"{app}.json"), appium_server_url=self.appium_url, package_name=package,
            app_activity=activity, max_steps=MAX_STEPS, inputs=inputs))
        return str(ULID.from_uuid(run.id))

    def agent(self, run_id: str, worker: str) -> AgentRun:
        self.worker_runs.start_run(run_id, worker, 600)
        return AgentRun(self.worker_runs, self.artifacts, self.settings.worker_settings(), run_id, dict(CAPS),
                        worker_id=worker)

    def outcome(self, variant: str, run_id: str, pause_ms: float | None = None) -> Outcome:
        events = self.api.run_events(run_id)
        metrics = events[-1].data.get("metrics", {})
        return Outcome(variant, events[-1].data.get("stopReason", events[-1].name), metrics.get("steps", 0),
                       metrics.get("screensDiscovered", 0), metrics.get("transitions", 0), pause_ms)

    def unpaused(self, app: str) -> Outcome:
        run_id = self.request(app)
        self.agent(run_id, "w1").execute()
        return self.outcome("no pause (baseline)", run_id)

    def interrupted(self, app: str, variant: str, at_step: int, how: str) -> Outcome:
        """`how`: "pause" (then resume), "takeover" (another worker takes it over)."""
        run_id = self.request(app)
        first = self.agent(run_id, "w1")
        thread = threading.Thread(target=_swallow_lease_lost, args=(first,), daemon=True)
        thread.start()
        while self.api.get_run(run_id).last_step < at_step and thread.is_alive():
            time.sleep(0.01)  # polling interval
        pause_ms = None
        if how == "pause":
            asked = self.api.pause_run(run_id)
            thread.join()
            paused = [e for e in self.api.events.get(asked.id) if type(e).__name__ == "Paused"][-1]
            requested = [e for e in self.api.events.get(asked.id) if type(e).__name__ == "PauseRequested"][-1]
            pause_ms = (paused.timestamp - requested.timestamp).total_seconds() * 1000
            self.api.resume_run(run_id)
            self.agent(run_id, "w2").execute()
        else:
            successor = self.agent(run_id, "w2")  # w1's lease lapsed: the queue offered the run again
            thread.join()
            successor.execute()
        return self.outcome(variant, run_id, pause_ms)


def _swallow_lease_lost(agent: AgentRun) -> None:
    try:
        agent.execute()
    except Exception:
        pass


def without_rebuild() -> Any:
    """The policy as it was before the rebuild existed: a continued run starts exploring afresh."""
    original = DepthFirstPolicy.restore
    DepthFirstPolicy.restore = lambda self, history: None
    return lambda: setattr(DepthFirstPolicy, "restore", original)


def bench_app(bench: Bench, app: str) -> list[Outcome]:
    baseline = bench.unpaused(app)
    print(f"  {app}: baseline {baseline.stop_reason} after {baseline.steps} steps", flush=True)
    outcomes = [baseline]
    for share in (0.25, 0.5, 0.75):
        at = max(1, round(baseline.steps * share))
        outcomes.append(bench.interrupted(app, f"paused at step {at} ({share:.0%})", at, "pause"))
    half = max(1, baseline.steps // 2)
    outcomes.append(bench.interrupted(app, f"taken over at step {half}", half, "takeover"))
    restore = without_rebuild()
    try:
        outcomes.append(bench.interrupted(app, f"paused at step {half}, policy afresh", half, "pause"))
    finally:
        restore()
    for o in outcomes[1:]:
        print(f"    {o.variant}: {o.stop_reason} after {o.steps} steps", flush=True)
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default="notes,shop,settings")
    args = parser.parse_args()
    with ExitStack() as stack:
        settings = start_services(stack, "pause-bench-")
        bench = Bench(settings.database_url, settings.appium_url, settings)
        stack.callback(bench.close)
        for app in args.apps.split(","):
            outcomes = bench_app(bench, app)
            base = outcomes[0]
            table(f"{app}: steps until explored, against the same app explored without a pause", [
                "run", "stop", "steps", "x baseline", "screens", "transitions", "pause ms"], [
                [o.variant, o.stop_reason, o.steps, f"{o.steps / max(base.steps, 1):.2f}", o.screens, o.transitions,
                 "" if o.pause_ms is None else f"{o.pause_ms:.0f}"] for o in outcomes])
    print("\nstopped PostgreSQL and Appium")
    return 0


if __name__ == "__main__":
    sys.exit(main())
