"""Faults benchmark: time and a dying device against a crawl (DESIGN.md "Time and faults").

On apps/news.json (a splash screen, a feed that loads, a "rate us" dialog on the second launch, a tap that
freezes the app 6 s), the product's AgentRun runs in-process (no Ray) with dfs; every figure is read back
from the run's events:

- without faults: activities reached and steps used, and the run's stop;
- with `appium:simFaults` `serverCrashAfter` at several points: whether the run completed, its steps against
  the run without the fault, recoveries and their time (p50 / max of `agent.device.recovered` seconds);
- the cost of settling on a screen that never changes: page-source reads per step against the run's
  other Appium calls per step.

Run it on the code before a change and after (same machine, same command) to compare:

    .venv/bin/python benchmarks/faults_bench.py [--max-steps 40] [--crash-after 30,60,120,200]
"""

from __future__ import annotations

import argparse
import statistics
from contextlib import ExitStack
from typing import Any

import exploration_bench as bench  # first: it puts the repository on sys.path
from agent.agent_run import AgentRun
from bench_common import table
from domain.application import RunRequest

NEWS = bench.App("news", "com.example.news", ".SplashActivity", "", "")


def run_news(stack: bench.BenchStack, max_steps: int, faults: dict[str, Any] | None) -> dict[str, Any]:
    runs, settings = stack.runs, stack.settings
    request = dict(apk_path=str(NEWS.model_path), appium_server_url=settings.appium_url, package_name=NEWS.package,
                   app_activity=NEWS.activity, max_steps=max_steps)
    # The faults go in as the device's capabilities: every version of the agent opens its sessions with those
    # (a run's own `capabilities` reach the session only since they exist).
    caps = {**bench.CAPS, "appium:simFaults": faults} if faults else dict(bench.CAPS)
    run = runs.request_run(RunRequest(**request))
    run_id = str(bench.ULID.from_uuid(run.id))
    runs.start_run(run_id, bench.WORKER_ID, 600)
    stack.timer.steps = []
    stack.clock.calls.clear()
    AgentRun(runs, stack.artifacts, settings.worker_settings(), run_id, caps, **bench.WORKER).execute()
    return figures(runs.run_events(run_id), list(stack.timer.steps), runs.get_run(run_id), stack.clock)


def figures(events: list[Any], timings: list[Any], final: Any, clock: bench.Clock) -> dict[str, Any]:
    perceived = {e.data["screenId"]: e.data["activity"] for e in events if e.name == "agent.screen.perceived"}
    recovered = [e.data["seconds"] for e in events if e.name == "agent.device.recovered"]
    steps = [e.data["stepOrdinal"] for e in events
             if e.name == "agent.node.started" and e.data["nodeName"] == "Perceive"]
    sources = clock.calls.get("page_source", 0)
    return {
        "stop": f"{final.status} {final.stop_reason}",
        "steps": len(steps),
        "gapless": steps == list(range(1, len(steps) + 1)),
        "activities": len(set(perceived.values())),
        "recoveries": len(recovered),
        "recovery_p50": statistics.median(recovered) if recovered else None,
        "recovery_max": max(recovered) if recovered else None,
        "sources_per_step": sources / max(1, len(steps)),
        "appium_per_step": sum(t.calls.get("appium", 0) for t in timings) / max(1, len(timings)),
    }


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-steps", type=int, default=40)
    parser.add_argument("--crash-after", default="30,60,120,200", help="serverCrashAfter values (commands)")
    args = parser.parse_args()
    variants = [("no fault", None)] + [(f"serverCrashAfter {n}", {"serverCrashAfter": int(n)})
                                       for n in args.crash_after.split(",")]
    rows = []
    with ExitStack() as stack:
        services = bench.start_stack(stack, "faults-bench-")
        services.clock.wrap(bench.appium_module.Device, "page_source", "page_source", nested=True)
        for name, faults in variants:
            found = run_news(services, args.max_steps, faults)
            print(f"{name:22} {found['stop']} after {found['steps']} steps", flush=True)
            rows.append((name, found))
    baseline = rows[0][1]["steps"]
    table(f"news ({len(NEWS.activities)} activities in the model), dfs, maxSteps {args.max_steps}",
          ["variant", "stop", "steps", "vs no fault", "no gap", "activities", "recoveries", "recovery p50 s",
           "max s"],
          [[name, f["stop"], f["steps"], f"{f['steps'] / baseline:.2f}x" if baseline else "-", f["gapless"],
            f["activities"], f["recoveries"], seconds(f["recovery_p50"]), seconds(f["recovery_max"])]
           for name, f in rows])
    table("Page-source reads per step (settling costs at most one more on a screen that never changes)",
          ["variant", "page sources / step", "Appium calls / step"],
          [[name, f"{f['sources_per_step']:.2f}", f"{f['appium_per_step']:.2f}"] for name, f in rows])


if __name__ == "__main__":
    main()
