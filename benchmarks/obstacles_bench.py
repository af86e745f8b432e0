"""Obstacles benchmark: what a real app's obstacles cost a crawl (DESIGN.md "What real apps do to an agent").

On apps/snap.json (a camera permission, contacts asked on the second launch, a terms link into Chrome, an
unexposed web help page, a login wall, a search field), the product's AgentRun runs in-process (no Ray) and
every figure is read back from the run's events:

- screens and in-app activities reached by step 25 / 50 / 100 (screens of the app's own package only: a crawl
  that takes Chrome's page or the permission dialog for a screen of the app is not credited for it);
- steps spent outside the app (a perceived screen of another package) and exits recorded (`agent.app.left`);
- steps spent in system dialogs (a perceived permission-controller screen) and dialogs answered
  (`agent.system.dialog`, inside a step);
- the cost of the new checks per step (the keyboard query and hiding, the screen labels, the obstacle rules
  of the enumeration) against the step's own total, as timed in this process.

Run it on the code before a change and after (same machine, same command) to compare:

    .venv/bin/python benchmarks/obstacles_bench.py [--max-steps 100] [--seeds 2]
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import exploration_bench as bench  # first: it puts the repository on sys.path
from adapters import appium as appium_module
from agent.agent_run import AgentRun
from bench_common import table
from domain.application import RunRequest

SNAP = bench.App("snap", "com.example.snap", ".HomeActivity", "", "", {"username": "sam", "password": "hunter2"})
CONTROLLERS = ("com.android.permissioncontroller", "com.google.android.permissioncontroller")
CHECKPOINTS = (25, 50, 100)
# The new checks, where this version of the product has them (an older one has none: 0 ms).
NEW_CHECKS = [(appium_module.Device, "is_keyboard_shown"), (appium_module.Device, "hide_keyboard")]


@dataclass(frozen=True)
class Variant:
    name: str
    permissions: str
    inputs: bool


VARIANTS = (Variant("grant, signed in", "grant", True), Variant("deny, signed in", "deny", True),
            Variant("grant, no credentials", "grant", False))


def install_check_timers(clock: bench.Clock) -> None:
    for owner, name in NEW_CHECKS:
        if hasattr(owner, name):
            clock.wrap(owner, name, "new_checks", nested=True)
    for module_name, function in (("domain.exploration.labels", "screen_labels"),
                                  ("domain.exploration.offer", "offer")):
        module = sys.modules.get(module_name) or _import(module_name)
        if module is not None and hasattr(module, function):
            clock.wrap(module, function, "new_checks", nested=True)
            _rebind(module_name, function, getattr(module, function))


def _import(name: str) -> Any:
    try:
        return __import__(name, fromlist=["_"])
    except ImportError:
        return None


def _rebind(module_name: str, function: str, timed: Any) -> None:
    """The product imported these by name: the timed function replaces each module's own binding."""
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith(("agent.", "domain.")) and \
                getattr(module, function, None) is not None and module.__name__ != module_name:
            if getattr(getattr(module, function), "__module__", None) == module_name:
                setattr(module, function, timed)


def run_variant(stack: bench.BenchStack, variant: Variant, policy: str, seed: int, max_steps: int) -> dict[str, Any]:
    runs, settings = stack.runs, stack.settings
    run = runs.request_run(RunRequest(
        apk_path=str(SNAP.model_path), appium_server_url=settings.appium_url, package_name=SNAP.package,
        app_activity=SNAP.activity, max_steps=max_steps, inputs=SNAP.inputs if variant.inputs else {},
        permissions=variant.permissions))
    run_id = run.run_id if hasattr(run, "run_id") else str(bench.ULID.from_uuid(run.id))
    runs.start_run(run_id, bench.WORKER_ID, 600)
    stack.timer.steps = []
    AgentRun(runs, stack.artifacts, settings.worker_settings(), run_id, bench.CAPS, policy=policy, seed=seed,
             **bench.WORKER).execute()
    return figures(runs.run_events(run_id), list(stack.timer.steps), runs.get_run(run_id))


def figures(events: list[Any], timings: list[Any], final: Any) -> dict[str, Any]:
    perceived = [e.data for e in events if e.name == "agent.screen.perceived" and not e.data.get("reproducing")]
    package_of = {p["screenId"]: p["package"] for p in perceived}
    discovered = [e.data for e in events if e.name == "graph.screen.discovered"]
    own = [d for d in discovered if package_of.get(d["screenId"]) == SNAP.package]
    terminal = next(e for e in events if e.is_terminal)
    step_seconds = sum(t.wall for t in timings)
    check_seconds = sum(t.seconds.get("new_checks", 0.0) for t in timings)
    return {
        "screens": {n: len([d for d in own if d["stepOrdinal"] <= n]) for n in CHECKPOINTS},
        "activities": {n: len({d["activity"] for d in own if d["stepOrdinal"] <= n}) for n in CHECKPOINTS},
        "outside": sum(1 for p in perceived if p["package"] not in (SNAP.package, *CONTROLLERS)),
        "in_dialogs": sum(1 for p in perceived if p["package"] in CONTROLLERS),
        "exits": sum(1 for e in events if e.name == "agent.app.left"),
        "answered": sum(1 for e in events if e.name == "agent.system.dialog"),
        "labels": ",".join(terminal.data.get("labels", [])) or "-",
        "stop": f"{final.status} {final.stop_reason}",
        "step_ms": 1000 * step_seconds / max(1, len(timings)),
        "checks_ms": 1000 * check_seconds / max(1, len(timings)),
    }


def report(rows: list[tuple[str, str, dict[str, Any]]], activities: int) -> None:
    table(f"snap ({activities} activities in the model): screens / in-app activities of the app by step",
          ["variant", "policy", *[f"@{n}" for n in CHECKPOINTS], "outside steps", "exits", "dialog steps",
           "answered", "labels", "stop"],
          [[variant, policy, *[f"{f['screens'][n]} / {f['activities'][n]}" for n in CHECKPOINTS],
            f["outside"], f["exits"], f["in_dialogs"], f["answered"], f["labels"], f["stop"]]
           for variant, policy, f in rows])
    table("Cost of the new checks per step (keyboard query and hiding, screen labels, obstacle rules), ms",
          ["variant", "policy", "step total", "new checks", "share"],
          [[variant, policy, f"{f['step_ms']:.1f}", f"{f['checks_ms']:.2f}",
            f"{f['checks_ms'] / f['step_ms']:.1%}" if f["step_ms"] else "-"] for variant, policy, f in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=2, help="seeds of the random policy (dfs: seed 0)")
    args = parser.parse_args()
    rows = []
    with ExitStack() as stack:
        services = bench.start_stack(stack, "obstacles-bench-")
        install_check_timers(services.clock)
        for variant in VARIANTS:
            for policy, seed in [("dfs", 0), *[("random", s) for s in range(args.seeds)]]:
                found = run_variant(services, variant, policy, seed, args.max_steps)
                print(f"{variant.name:24} {policy:6} seed {seed}: {found['stop']}", flush=True)
                rows.append((variant.name, f"{policy} {seed}", found))
    report(rows, len(SNAP.activities))


if __name__ == "__main__":
    main()
