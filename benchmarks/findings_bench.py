"""Findings benchmark: the seeded bugs of the sample apps, found by dfs against random, and what reading
logcat every step costs.

Drives the product's own `AgentRun` in this process (no Ray) against a real Appium server with the
simulator, on an embedded PostgreSQL in a temporary directory, with exploration_bench.py's stack, runs
and step timers. Each app is explored by each policy once per seed (the seed is the policy's and the
simulator's `appium:simSeed`, which decides which taps of the recipes app's flaky crash crash), and the
figures are read back from the runs' own events:

- bugs found of the bugs seeded (apps/README.md "Seeded bugs", encoded below as app, kind, activity,
  element and rule), by kind: a seeded bug is found when an `agent.finding.detected` has its kind and
  activity, an `actionId` on its element and, for accessibility, its `details.rule`; findings that match
  no seeded bug are listed;
- steps to the first crash (the `stepOrdinal` of the first crash finding), the reproduction rate
  (`agent.finding.reproduced`: reproduced / attempts over crash and ANR findings), findings per run;
- the cost of reading logcat every step: a timer around `adapters.appium.Device.logcat` (and around
  `Verification`, the Verify node's work, which reads it) in this process gives its share of each step; and, after
  those runs, per app `--pairs` pairs of dfs runs (seed 0, the same path), one with `Device.logcat`
  returning [] without asking the device and one reading it, alternating: the step time without the
  read, in the same bench run.

    .venv/bin/python benchmarks/findings_bench.py [--seeds 3] [--max-steps 150] [--apps notes,shop]
        [--policies dfs,random]

Everything it starts (PostgreSQL, Appium) is stopped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from exploration_bench import APPS, CAPS, RunResult, StepTiming, explore, load_average, mean, ms, start_stack
from bench_common import table
from adapters import appium as appium_module
from agent import verification


@dataclass(frozen=True)
class Bug:
    """A seeded bug, as its finding shows it: kind, the activity of the triggering action's (or the
    element's) screen, the element's resource id (its action is `<kind>:id/<element>`), the ATF rule."""
    app: str
    kind: str  # crash | anr | accessibility
    activity: str
    element: str
    rule: str | None = None

    def matches(self, finding: dict[str, Any]) -> bool:
        return (finding["kind"] == self.kind and finding["activity"] == self.activity
                and (finding.get("actionId") or "").endswith(f":id/{self.element}")
                and (self.rule is None or finding["details"].get("rule") == self.rule))

    @property
    def label(self) -> str:
        return f"{self.app} {self.kind} {self.activity} {self.element}" + (f" ({self.rule})" if self.rule else "")


SEEDED = (  # apps/README.md "Seeded bugs": every bug there is
    Bug("notes", "crash", ".EditorActivity", "save"),  # behind a form: a title and a reminder typed
    Bug("notes", "crash", ".HomeActivity", "sync"),
    Bug("notes", "accessibility", ".NoteActivity", "delete", "SpeakableTextPresentCheck"),
    Bug("settings", "crash", ".system.DevelopmentSettingsActivity", "bug_report"),
    Bug("settings", "anr", ".applications.AppInfoActivity", "clear_cache"),
    Bug("settings", "accessibility", ".wifi.WifiSettingsActivity", "scan_qr", "TouchTargetSizeCheck"),
    Bug("shop", "accessibility", ".ShopHomeActivity", "scan", "SpeakableTextPresentCheck"),
    Bug("shop", "accessibility", ".ShopHomeActivity", "dismiss_banner", "TouchTargetSizeCheck"),
    Bug("recipes", "crash", ".CookingModeActivity", "next_step"),  # flaky: one tap in two, by appium:simSeed
    Bug("recipes", "accessibility", ".RecipeDetailActivity", "favourite", "TouchTargetSizeCheck"),
)
KINDS = ("crash", "anr", "accessibility")
KIND_GROUPS = [(k,) for k in KINDS] + [KINDS]  # each kind, then all
REPRODUCIBLE = ("crash", "anr")


@dataclass
class Run:
    result: RunResult
    logcat: bool  # False: Device.logcat returned [] without asking the device
    detected: list[dict[str, Any]]  # the agent.finding.detected events' data
    reproduced: dict[str, dict[str, Any]]  # findingId -> agent.finding.reproduced's data
    occurrences: Counter[str] = field(default_factory=Counter)  # findingId -> detected + recurred

    @property
    def seeded(self) -> list[Bug]:
        return [b for b in SEEDED if b.app == self.result.app]

    def found(self, bug: Bug) -> dict[str, Any] | None:
        """The first finding that is this bug."""
        return next((f for f in self.detected if bug.matches(f)), None)

    @property
    def unexpected(self) -> list[dict[str, Any]]:
        return [f for f in self.detected if not any(b.matches(f) for b in self.seeded)]

    @property
    def first_crash(self) -> int | None:
        return min((f["stepOrdinal"] for f in self.detected if f["kind"] == "crash"), default=None)

    def reproduction(self) -> tuple[int, int, int, int]:
        """(reproduced, attempts, findings reproduced at least once, crash and ANR findings)."""
        mine = [self.reproduced.get(f["findingId"], {}) for f in self.detected if f["kind"] in REPRODUCIBLE]
        return (sum(r.get("reproduced", 0) for r in mine), sum(r.get("attempts", 0) for r in mine),
                sum(r.get("reproduced", 0) > 0 for r in mine), len(mine))


def read_findings(runs: Any, result: RunResult, logcat: bool) -> Run:
    events = runs.run_events(result.run_id)
    detected = [e.data for e in events if e.name == "agent.finding.detected"]
    run = Run(result, logcat, detected, {e.data["findingId"]: e.data for e in events
                                         if e.name == "agent.finding.reproduced"})
    run.occurrences.update(e.data["findingId"] for e in events
                           if e.name in ("agent.finding.detected", "agent.finding.recurred"))
    return run


# Timing: the logcat read's share of each step, and a run without it.

def install_logcat_timers(clock: Any) -> None:
    """Device.logcat and the Verify node (Verification) timed on their own (`nested`: also inside the step's other
    timed calls), so each StepTiming says how long its Verify and its logcat read took."""
    clock.wrap(appium_module.Device, "logcat", "logcat", nested=True)
    clock.wrap(verification.Verification, "__call__", "verify", nested=True)


@contextmanager
def logcat_unread() -> Iterator[None]:
    """The agent reads no logcat: Device.logcat returns [] without a call to the device (findings come
    from the dialogs alone, as on a server that cannot read logcat, but without the error)."""
    timed = appium_module.Device.logcat
    appium_module.Device.logcat = lambda device: []
    try:
        yield
    finally:
        appium_module.Device.logcat = timed


# Report

def median_ms(values: list[float]) -> str:
    return ms(statistics.median(values)).strip() if values else "-"


def fraction(found: float, of: int) -> str:
    return f"{found:.1f}/{of}" if of else "-"


def by_kind_cells(mine: list[Run], seeded: list[Bug]) -> list[str]:
    """Per kind, then in all: seeded bugs found (mean over the runs) / seeded."""
    cells = []
    for kinds in KIND_GROUPS:
        bugs = [b for b in seeded if b.kind in kinds]
        cells.append(fraction(mean([sum(r.found(b) is not None for b in bugs) for r in mine]), len(bugs)))
    return cells


def report(found_runs: list[Run], compared: list[Run], apps: list[Any], policies: list[str], max_steps: int,
           loads: list[float]) -> None:
    rows, bug_rows, run_rows = [], [], []
    for policy in policies:
        every = [r for r in found_runs if r.result.policy == policy]
        for app in apps:
            mine = [r for r in every if r.result.app == app.name]
            seeded = [b for b in SEEDED if b.app == app.name]
            if not mine:
                continue
            always = sum(all(r.found(b) for r in mine) for b in seeded)
            ever = sum(any(r.found(b) for r in mine) for b in seeded)
            rows.append([f"{app.name} {policy}", len(mine), *by_kind_cells(mine, seeded), f"{always}/{len(seeded)}",
                         f"{ever}/{len(seeded)}"])
            firsts = [r.first_crash for r in mine]
            reached = [f for f in firsts if f is not None]
            done, attempts, once, reproducible = (sum(x) for x in zip(*(r.reproduction() for r in mine)))
            run_rows.append([
                f"{app.name} {policy}", ", ".join("-" if f is None else str(f) for f in firsts),
                f"{mean(reached):.1f}" if reached else "-",
                f"{done}/{attempts}" + (f" ({done / attempts:.0%})" if attempts else ""), f"{once}/{reproducible}",
                f"{mean([len(r.detected) for r in mine]):.1f}",
                f"{mean([sum(r.occurrences.values()) for r in mine]):.1f}",
                f"{mean([len(r.unexpected) for r in mine]):.1f}",
                "/".join(sorted({f"{r.result.stop_reason}@{r.result.steps}" for r in mine}))])
        if every and len(apps) > 1:  # per seed, the bugs its runs (one an app) found; mean over seeds
            seeded = [b for b in SEEDED if b.app in {a.name for a in apps}]
            seeds = sorted({r.result.seed for r in every})
            cells = [fraction(mean([sum(r.found(b) is not None for r in every if r.result.seed == s
                                        for b in r.seeded if b.kind in kinds) for s in seeds]),
                              sum(b.kind in kinds for b in seeded)) for kinds in KIND_GROUPS]
            rows.append([f"all apps {policy}", f"{len(seeds)} seeds", *cells, "", ""])
    table(f"Seeded bugs found (mean over seeds: found / seeded; maxSteps={max_steps})",
          ["app policy", "runs", "crash", "anr", "accessibility", "all", "in every seed", "in any seed"], rows)

    for bug in (b for b in SEEDED if b.app in {a.name for a in apps}):
        cells = []
        for policy in policies:
            mine = [r for r in found_runs if r.result.app == bug.app and r.result.policy == policy]
            steps = [(r.found(bug) or {}).get("stepOrdinal") for r in mine]
            cells += [f"{sum(s is not None for s in steps)}/{len(mine)}",
                      ", ".join("-" if s is None else str(s) for s in steps)]
        bug_rows.append([bug.label, *cells])
    table("Each seeded bug: runs that found it, and the step of its finding per seed ('-': not found)",
          ["bug (app kind activity element (rule))", *[c for p in policies for c in (f"{p} found", f"{p} step")]],
          bug_rows)

    table("Per run: steps to the first crash, reproduction of crash and ANR findings, findings",
          ["app policy", "first crash step per seed", "mean (of found)", "reproduced/attempts",
           "findings reproduced >= once", "findings/run", "occurrences/run", "not seeded/run", "stop@steps"],
          run_rows)

    strays = Counter((r.result.app, f["kind"], f["activity"], f.get("actionId"),
                      f["details"].get("rule") or f["details"].get("exception") or "")
                     for r in found_runs for f in r.unexpected)
    if strays:
        table("Findings that match no seeded bug (runs they were found in)",
              ["app", "kind", "activity", "actionId", "rule / exception", "runs"],
              [[*key, n] for key, n in sorted(strays.items(), key=lambda kv: (kv[0][0], -kv[1]))])
    else:
        print("\n  Every finding is a seeded bug.")

    report_logcat(found_runs, compared, apps)
    print(f"\n  Machine: {loads[0]:.2f} / {loads[-1]:.2f} load average (1 min) at start / end, {max(loads):.2f} at most"
          " (read after each run), on a 2-core machine")


def step_cells(steps: list[StepTiming]) -> list[str]:
    logcat = [t.seconds.get("logcat", 0.0) for t in steps]
    verify = [t.seconds.get("verify", 0.0) for t in steps]
    wall = sum(t.wall for t in steps)
    return [str(len(steps)), median_ms([t.wall for t in steps]), median_ms(verify), median_ms(logcat),
            f"{mean([t.calls.get('logcat', 0) for t in steps]):.2f}",
            f"{sum(logcat) / wall:.1%}" if wall else "-",
            f"{sum(logcat) / sum(verify):.1%}" if sum(verify) else "-"]


def report_logcat(found_runs: list[Run], compared: list[Run], apps: list[Any]) -> None:
    rows = []
    for app in apps:
        steps = [t for r in found_runs if r.result.app == app.name for t in r.result.timings]
        if steps:
            rows.append([app.name, *step_cells(steps)])
    rows.append(["all", *step_cells([t for r in found_runs for t in r.result.timings])])
    table("Reading logcat every step: its share of the step (all runs with logcat; medians over steps, ms)",
          ["app", "steps", "step", "Verify", "logcat read", "reads/step", "logcat/step time", "logcat/Verify time"],
          rows)

    paired = []
    for app in apps:
        read = [r for r in compared if r.result.app == app.name and r.logcat]
        unread = [r for r in compared if r.result.app == app.name and not r.logcat]
        if not read or not unread:
            continue
        on = [t.wall for r in read for t in r.result.timings]
        off = [t.wall for r in unread for t in r.result.timings]
        less = [t.wall - t.seconds.get("logcat", 0.0) for r in read for t in r.result.timings]
        paired.append([f"{app.name} {read[0].result.policy} seed {read[0].result.seed}",
                       f"{len(read)} / {len(unread)}", f"{len(on)} / {len(off)}", median_ms(on), median_ms(less),
                       median_ms(off), f"{statistics.median(on) / statistics.median(off):.2f}x",
                       f"{mean(on) * 1000:.1f} / {mean(off) * 1000:.1f}",
                       f"{mean([sum(r.found(b) is not None for b in r.seeded) for r in read]):.1f} / "
                       f"{mean([sum(r.found(b) is not None for b in r.seeded) for r in unread]):.1f} of {len(read[0].seeded)}",
                       f"{stacks(read)} / {stacks(unread)}"])
    if paired:
        table("The same runs without the read (Device.logcat patched to return [] without asking the device),"
              " alternating with runs that read it, after the runs above; step ms",
              ["run", "runs with / without", "steps with / without", "median with logcat", "with, minus its read",
               "median without", "with / without", "mean with / without", "seeded bugs found with / without",
               "crash+ANR findings with a stack"], paired)


def stacks(runs: list[Run]) -> str:
    """Crash and ANR findings with frames from logcat, per run."""
    return f"{mean([sum(bool(f['details'].get('frames')) for f in r.detected if f['kind'] in REPRODUCIBLE) for r in runs]):.1f}"


# Main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1: the policy's and appium:simSeed")
    parser.add_argument("--max-steps", type=int, default=150)
    parser.add_argument("--apps", default=",".join(a.name for a in APPS))
    parser.add_argument("--policies", default="dfs,random")
    parser.add_argument("--pairs", type=int, default=2,
                        help="per app, pairs of dfs runs (seed 0) without and with logcat, after the others (0: none)")
    args = parser.parse_args()
    apps = [a for a in APPS if a.name in args.apps.split(",")]
    policies = args.policies.split(",")
    loads = [load_average()]
    with ExitStack() as stack:
        bench = start_stack(stack, "findings-bench-")
        install_logcat_timers(bench.clock)
        # (app, policy, seed, logcat read, compared): the runs compared come last, with every app's screens
        # drawn once already (the simulator keeps its screenshots: a first run on an app is slower).
        plan = [(app, policy, seed, True, False) for app in apps for seed in range(args.seeds) for policy in policies]
        plan += [(app, "dfs", 0, logcat, True) for app in apps for _ in range(args.pairs) for logcat in (False, True)]
        found_runs, compared = [], []
        for i, (app, policy, seed, logcat, comparing) in enumerate(plan, 1):
            with ExitStack() as patches:
                if not logcat:
                    patches.enter_context(logcat_unread())
                result = explore(bench.runs, bench.artifacts, bench.settings, bench.timer, bench.settings.appium_url,
                                 app, policy, seed, args.max_steps, False, caps={**CAPS, "appium:simSeed": seed})
            run = read_findings(bench.runs, result, logcat)
            (compared if comparing else found_runs).append(run)
            loads.append(load_average())
            kinds = Counter(f["kind"] for f in run.detected)
            done, attempts, _, _ = run.reproduction()
            print(f"[{i:2d}/{len(plan)}] {app.name:8s} {policy:6s} seed {seed}{'' if logcat else ' logcat []'}: "
                  f"{result.status} {result.stop_reason} after {result.steps} steps, "
                  f"{sum(run.found(b) is not None for b in run.seeded)}/{len(run.seeded)} seeded bugs, "
                  f"findings {dict(kinds)}, first crash at {run.first_crash}, reproduced {done}/{attempts}, "
                  f"{result.wall:.1f} s, load {loads[-1]:.1f}", flush=True)
            if result.status == "failed":
                print(f"      error: {result.error}", flush=True)
        report(found_runs, compared, apps, policies, args.max_steps, loads)
    print("\nstopped PostgreSQL and Appium")
    return 0


if __name__ == "__main__":
    sys.exit(main())
