"""Real apps benchmark: the agent on DroidBot's Habitica recording, and perception of 35 real `uiautomator dump`s.

The material (DESIGN.md "Real apps") is read where it lies, REAL_APPS_DIR (default ../shared/real-apps beside
the repository); everything generated (the imported model, the single-screen apps) goes into a temporary
folder that is removed at the end, never into the repository. Like exploration_bench.py (whose pieces this
imports), it drives the product's own `AgentRun` in this process (no Ray) against a real Appium server with
the simulator, on an embedded PostgreSQL in a temporary directory.

1. Habitica: `runservice app import-droidbot` turns DroidBot's output folder into a recorded app (one screen
   per `state_str_content_free`: 7 screens from DroidBot's 160 states); the simulator serves that model (its
   model.json is the run's apkPath). Printed: screens and activities reached by step 50 / 100 / 200 for
   `dfs` and `random` (and `llm` with the local model, policy_bench.py), how many of DroidBot's 160 states
   the run reached (a model screen reached covers every state grouped into it), and the same read from
   DroidBot's own events (the N-th event as the N-th step).
2. The dumps (uiautomator-dumps/, 6 apps), each served by the simulator as a single-screen recorded app:
   actions per screen (`enumerate_actions(parse_screen(page source))`), and the time to parse and enumerate,
   p50/p99 over repeated runs, against a baseline measured in the same run and interleaved with it (the
   sample apps' start screens as the simulator serves them), so the ratio survives a noisy machine.

    .venv/bin/python benchmarks/real_apps_bench.py [--seeds 3] [--dfs-seeds 1] [--max-steps 200]
        [--policies dfs,random,llm] [--repeats 50]

Everything it starts (PostgreSQL, Appium, the model server) is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the product's packages are at the root

import exploration_bench as xb  # noqa: E402
import policy_bench  # noqa: E402
from bench_common import pct, table  # noqa: E402
from agent import findings_watch as findings  # noqa: E402
from adapters.appium import Device  # noqa: E402
from domain.exploration import enumerate_actions, parse_screen  # noqa: E402
from runservice_client import droidbot  # noqa: E402

DEFAULT_MATERIAL = REPO.parent / "shared" / "real-apps"
RUNSERVICE = str(Path(sys.executable).parent / "runservice")
HABITICA = "com.habitrpg.android.habitica"
CHECKPOINTS = (50, 100, 200)
# and one back on every screen; "leaf tap": a tap on a leaf view that does not say it is clickable
KINDS = ("tap", "type", "toggle", "long_press", "scroll", "leaf tap")


# 1. Habitica: the imported recording explored

@dataclass(frozen=True)
class Recording:
    """What DroidBot saw, by the imported model's screens: its states grouped, and when its events got there."""
    states_of: dict[str, int]  # model screen -> DroidBot states (state_str) grouped into it
    first_event: dict[str, int]  # model screen -> the first event (1-based) that started or ended in it
    state_event: dict[str, int]  # state_str -> the first event that started or ended in it
    screen_of: dict[str, str]  # state_str -> model screen
    events: int  # event files read
    files: int  # event files in the folder
    seconds: float  # from DroidBot's first event to its last (their tags: when it sent them)


def read_recording(folder: Path) -> Recording:
    """DroidBot's states and events, grouped as the importer groups them (its own functions)."""
    quiet = droidbot.Warnings()  # the import at bench start has printed what it skipped
    states = droidbot.app_states_of(droidbot.read_states(folder, quiet), HABITICA, quiet)
    _, screen_of = droidbot.group_screens(states)
    events = droidbot.read_events(folder, quiet)
    state_event: dict[str, int] = {}
    for number, (_, data) in enumerate(events, 1):
        for state in (data.get("start_state"), data.get("stop_state")):
            if state in screen_of:
                state_event.setdefault(state, number)
    first_event: dict[str, int] = {}
    for state, number in state_event.items():
        first_event[screen_of[state]] = min(number, first_event.get(screen_of[state], number))
    tags = [datetime.strptime(str(data.get("tag")), "%Y-%m-%d_%H%M%S") for _, data in events if data.get("tag")]
    return Recording(dict(Counter(screen_of.values())), first_event, state_event, screen_of, len(events),
                     len(list((folder / "events").glob("event_*.json"))), (max(tags) - min(tags)).total_seconds())


def import_habitica(material: Path, out: Path) -> dict[str, Any]:
    """The importer's own command, as a user runs it; its --json summary (with how long it took)."""
    started = time.perf_counter()
    done = subprocess.run([RUNSERVICE, "app", "import-droidbot", str(material / "droidbot-habitica"), "-o", str(out),
                           "--json"], capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise SystemExit(f"runservice app import-droidbot failed ({done.returncode}): {done.stderr.strip()}")
    return {**json.loads(done.stdout), "seconds": time.perf_counter() - started}


def model_screen_ids(model_file: Path) -> dict[str, str]:
    """The agent's screen id of each model screen (its recorded page source, parsed as the agent parses)."""
    model = json.loads(model_file.read_text())
    ids = {parse_screen((model_file.parent / screen["pageSource"]).read_bytes(), screen["activity"],
                        model["package"]).screen_id: name for name, screen in model["screens"].items()}
    assert len(ids) == len(model["screens"]), "two model screens have one screen id: reaching them is not told apart"
    return ids


@dataclass
class Reach:
    """One run's way through the model's screens, read from its agent.screen.perceived events."""
    result: Any  # exploration_bench.RunResult
    first_step: dict[str, int]  # model screen -> the first step at which the run perceived it
    unmatched: set[str]  # in-app screen ids that are no model screen (0 when the ids line up)
    sources: dict[str, str]  # model screen -> the artifact id of the first page source perceived of it
    screen_ids: int  # distinct screen ids perceived, in the app or not (the launcher, after a back on start)

    def screens_by(self, step: int) -> int:
        return sum(first <= step for first in self.first_step.values())

    def states_by(self, step: int, recording: Recording) -> int:
        return sum(recording.states_of[name] for name, first in self.first_step.items() if first <= step)

    def all_by(self, screens: set[str]) -> str:
        """The step by which the run had reached every one of `screens`."""
        if not screens <= self.first_step.keys():
            return f">{self.result.steps}"
        return str(max(self.first_step[name] for name in screens))


def reach_of(result: Any, events: list[Any], ids: dict[str, str]) -> Reach:
    first: dict[str, int] = {}
    sources: dict[str, str] = {}
    unmatched: set[str] = set()
    perceived = [event.data for event in events if event.name == "agent.screen.perceived"]
    for data in perceived:
        if data["package"] != HABITICA:
            continue
        name = ids.get(data["screenId"])
        if name is None:
            unmatched.add(data["screenId"])
        elif name not in first:
            first[name] = data["stepOrdinal"]
            sources[name] = data["artifacts"]["pageSource"]
    return Reach(result, first, unmatched, sources, len({data["screenId"] for data in perceived}))


def reachable(model: dict[str, Any]) -> set[str]:
    """The screens a crawl can reach from `start`: the first recorded transition of an action applies (as the
    simulator serves the model), so one that DroidBot saw lead elsewhere from another state of the screen
    never does. Actions compared as recorded (two that land on one node are not told apart here)."""
    applies: dict[tuple[str, str], str | None] = {}
    for transition in model["transitions"]:
        applies.setdefault((transition["from"], json.dumps(transition["action"], sort_keys=True)), transition.get("to"))
    found, todo = {model["start"]}, [model["start"]]
    while todo:
        here = todo.pop()
        for (source, _), target in applies.items():
            if source == here and target is not None and target not in found:
                found.add(target)
                todo.append(target)
    return found


def habitica_report(app: xb.App, summary: dict[str, Any], recording: Recording, reaches: list[Reach],
                    policies: list[str], max_steps: int) -> None:
    screens = app.model["screens"]
    assert set(recording.states_of) == set(screens), "DroidBot's states are not grouped as the model's screens"
    checkpoints = [n for n in CHECKPOINTS if n <= max_steps] or [max_steps]
    activity_of = {name: screen["activity"] for name, screen in screens.items()}
    can = reachable(app.model)
    rows = []
    for policy in policies:
        mine = [r for r in reaches if r.result.policy == policy]
        if not mine:
            continue
        cells = [f"{xb.mean([r.screens_by(n) for r in mine]):.1f} / "
                 f"{xb.mean([len({activity_of[s] for s, f in r.first_step.items() if f <= n}) for r in mine]):.1f}"
                 for n in checkpoints]
        rows.append([f"{policy} ({len(mine)} seed{'s' * (len(mine) > 1)}: "
                     f"{', '.join(str(r.result.seed) for r in mine)})", *cells,
                     f"{xb.mean([r.states_by(max_steps, recording) for r in mine]):.1f}",
                     ", ".join(r.all_by(can) for r in mine),
                     f"{xb.mean([r.screen_ids for r in mine]):.1f}",
                     "/".join(sorted({f"{r.result.stop_reason}@{r.result.steps}" for r in mine})),
                     f"{xb.mean([t.wall for r in mine for t in r.result.timings]) * 1000:.0f}"])
    def reached(n: int) -> list[str]:
        return [s for s, e in recording.first_event.items() if e <= n]
    rows.append([f"DroidBot (its events as steps; {recording.events} read of {recording.files} files)",
                 *[f"{len(reached(n))} / {len({activity_of[s] for s in reached(n)})}" for n in checkpoints],
                 f"{sum(recording.states_of[s] for s in reached(max_steps))} (itself: "
                 f"{sum(e <= max_steps for e in recording.state_event.values())}; "
                 f"{len(recording.state_event)} by event {recording.events})",
                 str(max(recording.first_event.get(name, recording.events + 1) for name in can)), "-",
                 f"events: {recording.events}",
                 f"{recording.seconds / recording.events * 1000:.0f}"])
    table(f"Habitica, DroidBot's recording imported ({summary['screens']} screens, {summary['transitions']} "
          f"transitions from {summary['states']} states and {summary['events']} events, in "
          f"{summary['seconds']:.1f} s): model screens / activities reached by step (of {len(screens)} / "
          f"{len(set(activity_of.values()))}; maxSteps={max_steps})",
          ["explorer", *[f"@{n}" for n in checkpoints],
           f"DroidBot states reached @{max_steps} (of {sum(recording.states_of.values())})",
           f"all {len(can)} reachable screens at step",
           "screen ids seen", "stop@steps", "ms/step"], rows)

    into = Counter(t["to"] for t in app.model["transitions"] if t["from"] != t["to"])
    per_screen = []
    for name, screen in screens.items():
        firsts = {policy: [r.first_step.get(name) for r in reaches if r.result.policy == policy] for policy in policies}
        per_screen.append([name, screen["activity"].rsplit(".", 1)[-1], str(recording.states_of[name]),
                           str(into[name]), "yes" if name in can else "no", str(recording.first_event.get(name, "-")),
                           *[", ".join(str(f) if f is not None else f">{max_steps}" for f in firsts[p]) or "-"
                             for p in policies]])
    table(f"Habitica by screen: DroidBot's states in it, recorded transitions into it (from another screen), "
          f"whether the model lets a crawl reach it ({len(can)} of {len(screens)}: the first transition recorded "
          "for an action applies), and the first step that reached it (DroidBot: its event; per seed)",
          ["screen", "activity", "states", "ways in", "reachable", "DroidBot event", *policies], per_screen)
    stray = set().union(*(r.unmatched for r in reaches))
    print(f"  in-app screens the runs perceived that are no model screen: {len(stray)}"
          + (f" ({', '.join(sorted(stray))})" if stray else " (every perception is one of the model's screens)"))


def watch_report(watched: Reach, fast: Reach, product: float, used: float) -> None:
    """The same dfs run's first steps with the product's freeze watch: what it costs, and that it changes nothing
    on a recorded app (nothing there changes late)."""
    steps = watched.result.steps
    wall = xb.mean([t.wall for t in watched.result.timings]) * 1000
    idle = xb.mean([t.seconds.get("idle_wait", 0.0) for t in watched.result.timings]) * 1000
    same = {s: f for s, f in fast.first_step.items() if f <= steps} == watched.first_step
    print(f"  With the product's freeze watch ({product} s; {used} s above): dfs seed 0, {steps} steps, "
          f"{wall:.0f} ms/step ({idle:.0f} of them idle, watching); model screens by step {steps}: "
          f"{sorted(watched.first_step)}, {'the same, at the same steps, as' if same else 'NOT the same as'} "
          f"the run above")


# 2. The uiautomator dumps, one-screen apps

@dataclass
class Source:
    group: str  # an app's package, "Habitica (7 screens)" or the baseline's label
    name: str
    text: str  # the page source as the simulator serves it
    file_actions: int | None = None  # the same counted on the file (dumps only)
    samples: list[float] = field(default_factory=list)  # seconds to parse and enumerate, one per round

    @cached_property
    def screen(self) -> Any:
        return parse_screen(self.text)

    @cached_property
    def actions(self) -> tuple[Any, ...]:
        return enumerate_actions(self.screen)

    def per_element(self) -> list[float]:
        return [seconds / len(self.screen.elements) for seconds in self.samples]


def served_page_source(appium_url: str, model_file: Path, package: str, activity: str) -> str:
    """The start screen's page source, from a simulator session on the model (the product's Device)."""
    device = Device.open_session(appium_url, {"apkPath": str(model_file), "packageName": package,
                                              "appActivity": activity}, 60.0, 30.0, xb.CAPS)
    try:
        return device.page_source()
    finally:
        device.quit()


def dump_sources(material: Path, work: Path, appium_url: str) -> list[Source]:
    """Each dump as a one-screen recorded app (its file beside a model.json in `work`), as the simulator serves it."""
    sources = []
    for dump in sorted((material / "uiautomator-dumps").glob("*/*.xml")):
        folder = work / "dumps" / dump.stem
        (folder / "screens").mkdir(parents=True)
        shutil.copyfile(dump, folder / "screens" / dump.name)
        package = dump.parent.name
        (folder / "model.json").write_text(json.dumps({
            "format": "recorded", "package": package, "start": "s0",
            "screens": {"s0": {"activity": ".Recorded", "pageSource": f"screens/{dump.name}"}}}))
        text = served_page_source(appium_url, folder / "model.json", package, ".Recorded")
        file_actions = len(enumerate_actions(parse_screen(dump.read_bytes())))
        sources.append(Source(package, dump.stem.removeprefix(package + "_"), text, file_actions))
    return sources


def time_parsing(sources: list[Source], repeats: int) -> None:
    """`repeats` rounds; each round parses and enumerates every source once, so a slow moment of the machine
    falls on the dumps and the baseline alike."""
    for _ in range(repeats):
        for source in sources:
            started = time.perf_counter()
            enumerate_actions(parse_screen(source.text))
            source.samples.append(time.perf_counter() - started)


def groups_of(sources: list[Source]) -> dict[str, list[Source]]:
    found: dict[str, list[Source]] = {}
    for source in sources:
        found.setdefault(source.group, []).append(source)
    return found


def dumps_report(dumps: list[Source], others: list[Source], repeats: int, baseline: str) -> None:
    rows = []
    groups = {**groups_of(dumps), f"all {len(dumps)} dumps": dumps, **groups_of(others)}
    for group, members in groups.items():
        actions = [len(s.actions) for s in members]
        kinds = Counter(a.kind if a.declared else "leaf tap" for s in members for a in s.actions)
        rows.append([group, str(len(members)), f"{statistics.median(len(s.screen.elements) for s in members):.0f}",
                     f"{statistics.median(actions):.0f}", str(min(actions)), str(max(actions)),
                     " ".join(f"{kind} {kinds[kind]}" for kind in KINDS if kinds[kind]),
                     str(len({s.screen.screen_id for s in members}))])
    table("Actions per screen: enumerate_actions(parse_screen(page source as the simulator serves it)); "
          "each counts one back", ["screens of", "screens", "elements (median)", "actions median", "min", "max",
                                   "actions by kind (all screens)", "distinct screen ids"], rows)
    same = sum(len(s.actions) == s.file_actions for s in dumps)
    print(f"  the served page source gives as many actions as the dump's file: {same} of {len(dumps)}")

    base = [x for s in groups[baseline] for x in s.samples]
    base_per_element = [x for s in groups[baseline] for x in s.per_element()]
    timing = []
    for group, members in groups.items():
        samples = [x for s in members for x in s.samples]
        per_element = [x for s in members for x in s.per_element()]
        timing.append([group, f"{len(members)} x {repeats}", f"{pct(samples, 50) * 1000:.2f}",
                       f"{pct(samples, 99) * 1000:.2f}", f"{pct(per_element, 50) * 1e6:.1f}",
                       f"{pct(samples, 50) / pct(base, 50):.2f}", f"{pct(samples, 99) / pct(base, 99):.2f}",
                       f"{pct(per_element, 50) / pct(base_per_element, 50):.2f}"])
    table(f"Time to parse and enumerate one page source (rounds interleaved; baseline: {baseline})",
          ["screens of", "runs", "p50 ms", "p99 ms", "p50 us/element", "p50 / baseline", "p99 / baseline",
           "us/element / baseline"], timing)


# Main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds of random (default 3); llm runs seed 0 only")
    parser.add_argument("--dfs-seeds", type=int, default=1, help="seeds of dfs (default 1: seed 0)")
    parser.add_argument("--max-steps", type=int, default=200)
    parser.add_argument("--policies", default="dfs,random", help="dfs,random (default) and llm (starts the model)")
    parser.add_argument("--repeats", type=int, default=50, help="parse-and-enumerate runs per page source")
    parser.add_argument("--freeze-watch", type=float, default=0.0,
                        help="seconds the agent watches a screen after the first tap there that changed nothing "
                             f"(the product's FREEZE_WATCH_SECONDS, {findings.FREEZE_WATCH_SECONDS}; default 0 here)")
    parser.add_argument("--watched-steps", type=int, default=20,
                        help="steps of one more dfs run with the product's freeze watch, for its time per step "
                             "(0: none)")
    args = parser.parse_args()
    material = Path(os.environ.get("REAL_APPS_DIR") or DEFAULT_MATERIAL).expanduser().resolve()
    if not (material / "droidbot-habitica").is_dir() or not (material / "uiautomator-dumps").is_dir():
        raise SystemExit(f"the real apps' material is not at {material}: set REAL_APPS_DIR to the folder that "
                         "holds droidbot-habitica/ and uiautomator-dumps/")
    policies = args.policies.split(",")
    loads = [xb.load_average()]
    print(f"material: {material}; load average {loads[0]:.2f}", flush=True)
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="real-apps-bench-"))  # all this bench writes (never the repository)
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        summary = import_habitica(material, work / "habitica")
        print(f"imported {summary['model']}: {summary['screens']} screens, {summary['transitions']} transitions, "
              f"{len(summary['warnings'])} warnings, {summary['seconds']:.1f} s", flush=True)
        model_file = Path(summary["model"])
        model = json.loads(model_file.read_text())
        habitica = xb.App("habitica", model["package"], model["screens"][model["start"]]["activity"], "",
                          "no goal", model_file=model_file)
        ids = model_screen_ids(model_file)
        recording = read_recording(material / "droidbot-habitica")

        bench = xb.start_stack(stack, "real-apps-bench-db-", llm="llm" in policies)
        answers = policy_bench.ModelAnswers(bench.clock) if "llm" in policies else None
        seeds = {"dfs": range(args.dfs_seeds), "llm": range(1)}
        watch = findings.FREEZE_WATCH_SECONDS
        stack.callback(setattr, findings, "FREEZE_WATCH_SECONDS", watch)
        plan = [(policy, seed, args.max_steps, args.freeze_watch) for policy in policies
                for seed in seeds.get(policy, range(args.seeds))]
        if args.watched_steps and args.freeze_watch != watch and "dfs" in policies:
            plan.append(("dfs", 0, args.watched_steps, watch))
        reaches, watched = [], None
        for i, (policy, seed, steps, seconds) in enumerate(plan, 1):
            findings.FREEZE_WATCH_SECONDS = seconds
            result = xb.explore(bench.runs, bench.artifacts, bench.settings, bench.timer, bench.settings.appium_url,
                                habitica, policy, seed, steps, False)
            if answers:
                result.replies = answers.take()
            reach = reach_of(result, bench.runs.run_events(result.run_id), ids)
            if seconds == args.freeze_watch:
                reaches.append(reach)
            else:
                watched = reach
            loads.append(xb.load_average())
            print(f"[{i}/{len(plan)}] habitica {policy:6s} seed {seed}, freeze watch {seconds} s: {result.status} "
                  f"{result.stop_reason} after {result.steps} steps, {result.wall:.1f} s, model screens "
                  f"{sorted(reach.first_step)}, load {loads[-1]:.1f}", flush=True)
            if result.status == "failed":
                print(f"      error: {result.error}", flush=True)
        findings.FREEZE_WATCH_SECONDS = watch

        print("serving the dumps and the sample apps' start screens ...", flush=True)
        dumps = dump_sources(material, work, bench.settings.appium_url)
        baseline = f"sample apps' start screens ({len(xb.APPS)})"
        others = [Source(baseline, app.name, served_page_source(bench.settings.appium_url, app.model_path,
                                                                app.package, app.activity)) for app in xb.APPS]
        explored = max(reaches, key=lambda r: len(r.sources)).sources  # the run that reached most model screens
        others += [Source(f"Habitica ({len(explored)} screens, as served in a run)", name,
                          bench.artifacts.get(artifact)[0].decode()) for name, artifact in sorted(explored.items())]
        time_parsing(dumps + others, args.repeats)
        loads.append(xb.load_average())

        habitica_report(habitica, summary, recording, reaches, policies, args.max_steps)
        if watched:
            watch_report(watched, next(r for r in reaches if (r.result.policy, r.result.seed) == ("dfs", 0)),
                         watch, args.freeze_watch)
        if answers:
            policy_bench.report([r.result for r in reaches], (habitica,))
        dumps_report(dumps, others, args.repeats, baseline)
        print(f"\n  Machine: {loads[0]:.2f} / {loads[-1]:.2f} load average (1 min) at start / end, {max(loads):.2f} "
              f"at most (read after each run), on a {os.cpu_count()}-core machine")
    print(f"\nstopped PostgreSQL, Appium{' and the model server' if 'llm' in policies else ''}; removed {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
