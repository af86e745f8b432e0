"""App memory benchmark: runs that start from the app's map (`memory: warm`) against runs that start from nothing.

Starts its own PostgreSQL, Appium (simulator), Ray and the service (Ray Serve, two devices), as page_bench.py does,
and drives it over HTTP only. Every app model is copied under a package of each arm's own (in a temporary folder
the service's APP_ROOTS includes), so each arm's warm runs recall only the runs named here (the map is per tenant
and package). For shop and settings (and their next versions, shop-v2 and settings-v2):

1. Same version. `full`: a cold run of v1 explored to the end, then a warm run of v1 (the plain case: the warm
   run's steps against the cold run's, target <= 40%). `cut`: a first cold run stopped at 40% of the full run's
   steps, then a warm run and a second cold run; measured: the steps until every screen of the full app is
   reached (the second cold run's discovered screens; the full run in `full` has as many, under its package).
   A screen is reached at the step of its `graph.screen.discovered` event, and by a warm run also at step 0 when
   the map knew it (a screen the first run discovered or led to: what `knownFromMemory` counts).
2. New version. `next`: a cold run of v1, then a warm run of v2 (its map: that one cold run), then a cold run of
   v2 (cold runs read no map, so it changes nothing for the warm one); the screens to reach are the head ids of
   GET /runs/diff?base=<v1 run>&head=<cold v2 run>'s screensAdded and screensChanged.
3. Findings of the warm v2 run (GET /run/{id}/findings `history`, GET /run/{id} `fixed`) against what the
   versions were built to hold (apps/README.md "Seeded bugs").
4. Rebuilding the map: once the service is stopped, --rebuild-runs runs (about --rebuild-steps steps each, with
   the events a dfs step records: seven nodes, the screen, the action, new screens and transitions, findings and
   their reproductions) recorded with RunService into a database of their own; then the map's tables are dropped
   and replayed by actors.projector.app_map_runner until caught up. Baseline: the same replay of the screen
   graph (screen_graph_runner) over the same events.

Parts 1-3 run --repeats times, each repeat under packages of its own. A screen id hashes the package, and dfs
breaks ties between equally near screens by their ids: another package is another (repeatable) path, so the
repeats show how much a figure owes to the tie-breaks.

    .venv/bin/python benchmarks/app_memory_bench.py [--apps shop,settings] [--repeats 3] [--cut 0.4]
        [--rebuild-runs 100] [--rebuild-steps 50] [--rounds 2] [--out result.json]

Prints one table (plus notes on anything that looked off). Everything it starts is stopped at the end; all
traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the product's packages are at the root

import httpx  # noqa: E402
import psycopg  # noqa: E402
from httpx_sse import connect_sse  # noqa: E402
from psycopg.sql import SQL, Identifier  # noqa: E402
from ulid import ULID  # noqa: E402

import bootstrap  # noqa: E402
import launcher  # noqa: E402
from bench_common import free_port, table  # noqa: E402
from actors.projector import app_map_runner, screen_graph_runner  # noqa: E402
from config.settings import Settings  # noqa: E402
from domain.app_map import AppMapProjection  # noqa: E402
from domain.application import RunRequest, RunService  # noqa: E402
from domain.screen_graph import ScreenGraphProjection  # noqa: E402
from storage.app_map_view import open_app_map_view  # noqa: E402
from storage.graph_view import open_graph_view  # noqa: E402
from storage.postgres import event_store_env  # noqa: E402
from storage.schema import create_tables  # noqa: E402

MAX_STEPS = 400  # every sample app is explored well within it
RUN_SECONDS = 600  # a run not over by then: something is wrong, the bench stops
TARGET = 0.4  # the issue's: a warm run of the same version needs at most 40% of a cold run's steps


@dataclass(frozen=True)
class App:
    name: str
    activity: str
    next_version: str  # the model of its next version, apps/<next_version>.json
    # apps/README.md "Seeded bugs" by version: (kind, activity, element) -> rule (accessibility) or ""
    bugs: dict[str, dict[tuple[str, str, str], str]]


SHOP_A11Y = {("accessibility", ".ShopHomeActivity", "scan"): "SpeakableTextPresentCheck",
             ("accessibility", ".ShopHomeActivity", "dismiss_banner"): "TouchTargetSizeCheck"}
SETTINGS_KEPT = {("anr", ".applications.AppInfoActivity", "clear_cache"): "",
                 ("accessibility", ".wifi.WifiSettingsActivity", "scan_qr"): "TouchTargetSizeCheck"}
APPS = {
    "shop": App("shop", ".ShopHomeActivity", "shop-v2", {"v1": SHOP_A11Y, "v2": SHOP_A11Y}),
    "settings": App("settings", ".SettingsActivity", "settings-v2", {
        "v1": {**SETTINGS_KEPT, ("crash", ".system.DevelopmentSettingsActivity", "bug_report"): ""},
        "v2": {**SETTINGS_KEPT, ("crash", ".battery.BatterySaverActivity", "turn_on_now"): ""}}),
}


# Runs through the service


@dataclass
class Done:
    """A finished run, from its SSE stream."""
    label: str
    run_id: str
    package: str
    events: list[dict[str, Any]]
    wall: float

    @property
    def end(self) -> dict[str, Any]:
        return self.events[-1]["data"]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.end.get("metrics", {})

    @property
    def steps(self) -> int:
        return self.metrics.get("steps", 0)

    @property
    def stop(self) -> str:
        return self.end.get("stopReason") or self.events[-1]["event"]

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e["data"] for e in self.events if e["event"] == name]

    @property
    def discovered(self) -> dict[str, int]:
        """Screen id -> the step it was first seen at in this run."""
        first: dict[str, int] = {}
        for d in self.named("graph.screen.discovered"):
            first.setdefault(d["screenId"], d["stepOrdinal"])
        return first

    @property
    def led_to(self) -> set[str]:
        return {d["toScreen"] for d in self.named("graph.transition.discovered") if d.get("toScreen")}

    @property
    def recalled(self) -> dict[str, Any]:
        return next(iter(self.named("agent.memory.recalled")), {})


class Client:
    def __init__(self, api_url: str, appium_url: str, models: Path) -> None:
        self.api_url, self.appium_url, self.models = api_url, appium_url, models
        self.http = httpx.Client(base_url=api_url, timeout=60)
        self.lock = threading.Lock()
        self.log: list[str] = []

    def copy(self, model: str, package: str) -> str:
        """apps/<model>.json under `package`: runs of it share a map with no other arm's."""
        content = json.loads((REPO / "apps" / f"{model}.json").read_text())
        content["package"] = package
        path = self.models / f"{package}-{model}.json"
        path.write_text(json.dumps(content))
        return str(path)

    def run(self, label: str, app: App, model: str, package: str, memory: str, max_steps: int = MAX_STEPS) -> Done:
        body = {"apkPath": self.copy(model, package), "appiumServerUrl": self.appium_url, "packageName": package,
                "appActivity": app.activity, "maxSteps": max_steps, "memory": memory}
        started = time.perf_counter()
        with self.lock:
            answer = self.http.post("/run", json=body)
        answer.raise_for_status()
        run_id = answer.json()["runId"]
        events = []
        with httpx.Client(base_url=self.api_url, timeout=httpx.Timeout(60, read=180)) as client, \
                connect_sse(client, "GET", f"/run/{run_id}/stream") as source:
            for sse in source.iter_sse():  # the keep-alive comments come as empty messages
                if sse.data:
                    events.append({"event": sse.event, "data": json.loads(sse.data)})
                if time.perf_counter() - started > RUN_SECONDS:
                    raise TimeoutError(f"{label}: run {run_id} not over within {RUN_SECONDS} s")
        done = Done(label, run_id, package, events, time.perf_counter() - started)
        kfm = done.metrics.get("knownFromMemory")
        print(f"  {label:34s} {done.stop:>9s} after {done.steps:3d} steps, {len(done.discovered):2d} screens"
              + (f", knownFromMemory {kfm}" if kfm is not None else "") + f", {done.wall:5.1f} s", flush=True)
        return done

    def get(self, path: str, **params: Any) -> Any:
        with self.lock:
            answer = self.http.get(path, params=params)
        answer.raise_for_status()
        return answer.json()


def reach(targets: set[str], discovered: dict[str, int], known: set[str] = frozenset()) -> int | None:
    """The step by which every target was reached (None if some never were): a screen is reached at its
    discovery step, or at step 0 when known from memory."""
    at = [0 if sid in known else discovered.get(sid) for sid in targets]
    return None if None in at else max(at, default=0)


def activity_of(run: Done, screen_id: str) -> str:
    return next((d["activity"] for d in run.named("graph.screen.discovered") if d["screenId"] == screen_id), "?")


# 1-3: one app, one repeat


def bench_app(client: Client, app: App, cut: float, tag: str) -> dict[str, Done | int]:
    """The runs of the three arms, each under a package of its own (`tag` names the repeat); `next` alongside."""
    package = {arm: f"com.example.mem{arm}{app.name}{tag}" for arm in ("full", "cut", "next")}

    def new_version_arm() -> tuple[Done, Done, Done]:
        v1 = client.run(f"{app.name} {tag} next: v1 cold", app, app.name, package["next"], "cold")
        warm = client.run(f"{app.name} {tag} next: v2 warm", app, app.next_version, package["next"], "warm")
        cold = client.run(f"{app.name} {tag} next: v2 cold", app, app.next_version, package["next"], "cold")
        return v1, warm, cold

    with ThreadPoolExecutor(1) as pool:
        later = pool.submit(new_version_arm)
        full = client.run(f"{app.name} {tag} full: v1 cold", app, app.name, package["full"], "cold")
        cut_at = max(1, round(cut * full.steps))
        first = client.run(f"{app.name} {tag} cut: v1 cold, maxSteps {cut_at}", app, app.name, package["cut"],
                           "cold", cut_at)
        plain = client.run(f"{app.name} {tag} full: v1 warm", app, app.name, package["full"], "warm")
        warm = client.run(f"{app.name} {tag} cut: v1 warm", app, app.name, package["cut"], "warm")
        second = client.run(f"{app.name} {tag} cut: v1 cold again", app, app.name, package["cut"], "cold")
        v1, next_warm, next_cold = later.result()
    return {"full": full, "plain": plain, "first": first, "warm": warm, "second": second, "v1": v1,
            "next_warm": next_warm, "next_cold": next_cold, "cut_at": cut_at}


def same_version(app: App, tag: str, r: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    full, plain, first, warm, second = r["full"], r["plain"], r["first"], r["warm"], r["second"]
    every = set(second.discovered)  # every screen of the app, under the cut arm's package
    if len(every) != len(full.discovered):
        notes.append(f"{app.name} {tag}: the two full cold runs of v1 found {len(full.discovered)} and {len(every)} "
                     "screens")
    known = set(first.discovered) | first.led_to  # what the map held when the warm run started
    kfm = warm.metrics.get("knownFromMemory")
    if kfm != len(known - set(warm.discovered)):
        notes.append(f"{app.name} {tag} cut: warm knownFromMemory {kfm}, but {len(known - set(warm.discovered))} "
                     "screens the first run saw or led to were not visited by the warm run")
    cold_reach, warm_reach = reach(every, second.discovered), reach(every, warm.discovered, known)
    if warm_reach is None:
        lost = sorted(every - known - set(warm.discovered))
        notes.append(f"{app.name} {tag} cut: the warm run never reached {len(lost)} of the app's {len(every)} "
                     f"screens (stop {warm.stop} at {warm.steps}): "
                     + ", ".join(sorted({activity_of(second, s) for s in lost})))
    # The plain case: every screen of a whole cold run, again on the same version
    plain_known = set(full.discovered) | full.led_to
    pkfm = plain.metrics.get("knownFromMemory") or 0
    if len(plain.discovered) + pkfm < len(full.discovered):
        notes.append(f"{app.name} {tag} plain: warm screensDiscovered {len(plain.discovered)} + knownFromMemory "
                     f"{pkfm} < the cold run's {len(full.discovered)} screens")
    plain_ratio = plain.steps / full.steps if full.steps else float("nan")
    return {
        "cut": {"screens": len(every), "cutAt": r["cut_at"], "fullSteps": full.steps, "cold": cold_reach,
                "coldSteps": second.steps, "coldStop": second.stop, "warm": warm_reach,
                "knownAtStart": len(known & every), "knownFromMemory": kfm, "warmSteps": warm.steps,
                "warmStop": warm.stop, "firstPlusWarm": first.steps + warm.steps,
                "ratio": warm_reach / cold_reach if warm_reach is not None and cold_reach else None},
        "plain": {"screens": len(full.discovered), "coldSteps": full.steps, "coldStop": full.stop,
                  "coldLastNewScreen": reach(set(full.discovered), full.discovered), "warmSteps": plain.steps,
                  "warmStop": plain.stop, "warmVisited": len(plain.discovered), "knownFromMemory": pkfm,
                  "warmReach": reach(set(plain.discovered) | plain_known, plain.discovered, plain_known),
                  "ratio": plain_ratio, "met": plain.stop == "explored" and plain_ratio <= TARGET}}


def new_version(client: Client, app: App, tag: str, r: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    v1, warm, cold = r["v1"], r["next_warm"], r["next_cold"]
    drift = client.get("/runs/diff", base=v1.run_id, head=cold.run_id)
    added = {s["screenId"] for s in drift["screensAdded"]}
    changed = {c["headScreenId"] for c in drift["screensChanged"]}
    wanted = added | changed
    cold_reach, warm_reach = reach(wanted, cold.discovered), reach(wanted, warm.discovered)
    if warm_reach is None:
        notes.append(f"{app.name} {tag} next: the warm v2 run never reached some new or changed screens: "
                     + ", ".join(sorted({activity_of(cold, s) for s in wanted if s not in warm.discovered})))
    recalled = warm.recalled
    if recalled.get("sameVersion") is not False or recalled.get("runs") != 1:
        notes.append(f"{app.name} {tag} next: the warm v2 run recalled {recalled} (expected 1 earlier run, another "
                     "version)")
    run = client.get(f"/run/{warm.run_id}")
    if (run.get("drift") or {}).get("base") != v1.run_id:
        notes.append(f"{app.name} {tag} next: GET /run/{{warm v2}} has drift base "
                     f"{(run.get('drift') or {}).get('base')}, expected the v1 run {v1.run_id}")
    return {"added": len(added), "changed": len(changed), "cold": cold_reach, "coldSteps": cold.steps,
            "coldStop": cold.stop, "warm": warm_reach, "warmSteps": warm.steps, "warmStop": warm.stop,
            "ratio": warm_reach / cold_reach if warm_reach is not None and cold_reach else None,
            "fixed": run["fixed"]}


def bug_of(finding: dict[str, Any]) -> tuple[str, str, str]:
    element = (finding.get("actionId") or "").rpartition(":id/")[2]
    return finding["kind"], finding["activity"], element


def findings_of(client: Client, app: App, tag: str, r: dict[str, Any], fixed: list[dict[str, Any]],
                notes: list[str]) -> dict[str, Any]:
    """The warm v2 run's findings new, known and fixed, against what the versions were built to hold."""
    v1, warm = r["v1"], r["next_warm"]
    old, new = app.bugs["v1"], app.bugs["v2"]
    expected = {"new": set(new) - set(old), "known": set(new) & set(old),
                "fixed": {b for b in set(old) - set(new) if b[0] in ("crash", "anr")}}
    findings = client.get(f"/run/{warm.run_id}/findings")["findings"]
    if any("history" not in f for f in findings):
        time.sleep(1.0)  # the map's projection may lag the findings view a moment: asked again once
        again = client.get(f"/run/{warm.run_id}/findings")["findings"]
        notes.append(f"{app.name} {tag} next: {sum('history' not in f for f in findings)} of {len(findings)} "
                     "findings of the warm v2 run had no `history` right after its stream ended "
                     f"({sum('history' not in f for f in again)} a second later)")
        findings = again
    by_signature = {f["signature"]: bug_of(f) for f in client.get(f"/run/{v1.run_id}/findings")["findings"]}
    measured: dict[str, list[tuple[str, str, str]]] = {"new": [], "known": [], "fixed": [], "no history": []}
    for f in findings:
        status = (f.get("history") or {}).get("status", "no history")
        measured[status].append(bug_of(f))
        if status == "known" and f["history"].get("firstRunId") != v1.run_id:
            notes.append(f"{app.name} {tag} next: known finding {bug_of(f)} first met in {f['history']}, expected "
                         f"the v1 run {v1.run_id}")
    measured["fixed"] = [by_signature.get(x["signature"], (x["kind"], "?", x.get("title", ""))) for x in fixed]
    expected["no history"] = set()
    return {status: {"expected": sorted(expected[status]), "measured": sorted(got),
                     "match": sorted(got) == sorted(expected[status])} for status, got in measured.items()}


# 1-3: the rows, over the repeats


def joined(values: list[Any], fmt: str = "{}") -> str:
    """The repeats' values, one per repeat; once if they are all the same."""
    cells = [("-" if v is None else fmt.format(v)) for v in values]
    return cells[0] if len(set(cells)) == 1 else " / ".join(cells)


def median_of(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.median(known):.2f}" if known else "-"


def app_rows(app: App, figures: list[dict[str, Any]]) -> list[list[Any]]:
    cut = [f["same"]["cut"] for f in figures]
    plain = [f["same"]["plain"] for f in figures]
    nxt = [f["next"] for f in figures]

    def j(rows: list[dict[str, Any]], key: str, fmt: str = "{}") -> str:
        return joined([row[key] for row in rows], fmt)

    ratios = [c["ratio"] for c in cut]
    rows = [[f"{app.name}: steps until every screen of the app ({j(cut, 'screens')}) is reached, after a first cold "
             f"run cut at {j(cut, 'cutAt')} of {j(cut, 'fullSteps')} steps",
             f"2nd cold {j(cut, 'cold')} (ends {j(cut, 'coldStop')} @{j(cut, 'coldSteps')})",
             f"warm {j(cut, 'warm')} ({j(cut, 'knownAtStart')} known at 0; ends {j(cut, 'warmStop')} "
             f"@{j(cut, 'warmSteps')}, knownFromMemory {j(cut, 'knownFromMemory')})",
             f"{joined(ratios, '{:.2f}')} (median {median_of(ratios)})",
             f"first + warm run: {j(cut, 'firstPlusWarm')} steps"]]
    met = sum(p["met"] for p in plain)
    rows.append([f"{app.name}: steps until every screen of the first run ({j(plain, 'screens')}) is reached, same "
                 "version (the plain case)",
                 f"cold {j(plain, 'coldSteps')} (ends {j(plain, 'coldStop')}; last new screen @"
                 f"{j(plain, 'coldLastNewScreen')})",
                 f"warm {j(plain, 'warmSteps')} (ends {j(plain, 'warmStop')}; {j(plain, 'warmVisited')} visited + "
                 f"{j(plain, 'knownFromMemory')} known; all reached by step {j(plain, 'warmReach')})",
                 f"{joined([p['ratio'] for p in plain], '{:.2f}')}",
                 f"<= {TARGET:.2f}: {'met' if met == len(plain) else 'NOT met'} ({met} of {len(plain)})"])
    ratios = [n["ratio"] for n in nxt]
    rows.append([f"{app.name} -> {app.next_version}: steps until every new or changed screen ({j(nxt, 'added')} "
                 f"added, {j(nxt, 'changed')} changed) is reached",
                 f"cold v2 {j(nxt, 'cold')} (ends {j(nxt, 'coldStop')} @{j(nxt, 'coldSteps')})",
                 f"warm v2 {j(nxt, 'warm')} (ends {j(nxt, 'warmStop')} @{j(nxt, 'warmSteps')})",
                 f"{joined(ratios, '{:.2f}')} (median {median_of(ratios)})",
                 "whole run, warm / cold: " + joined([n["warmSteps"] / max(n["coldSteps"], 1) for n in nxt],
                                                     "{:.2f}")])
    for status in ("new", "known", "fixed", "no history"):
        found = [f["findings"][status] for f in figures]
        if status == "no history" and not any(x["measured"] for x in found):
            continue
        matched = sum(x["match"] for x in found)
        rows.append([f"{app.name} -> {app.next_version}: findings of the warm v2 run, {status}",
                     f"expected {len(found[0]['expected'])}: {label(found[0]['expected'])}",
                     joined([f"measured {len(x['measured'])}: {label(x['measured'])}" for x in found]), "",
                     f"match: {'yes' if matched == len(found) else 'NO'} ({matched} of {len(found)})"])
    return rows


def label(bugs: Any) -> str:
    return ", ".join(f"{kind} {element or activity}" for kind, activity, element in sorted(bugs)) or "-"


# 4: rebuilding the map


NODES = ("Perceive", "EnumerateActions", "ChooseAction", "Act", "Verify", "DetectProgress", "ShouldContinue")
APPS_RECORDED, SCREENS, BUTTONS = 4, 60, 7  # apps, screens per version, buttons per screen (and back)


def sid(*parts: Any) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:12]


def record_runs(runs: RunService, count: int, steps: int) -> tuple[int, float]:
    """`count` runs of APPS_RECORDED apps, three versions each in log order, half of them warm, each about `steps`
    steps of the events a dfs step records (agent/step.py): seven nodes started and finished (EnumerateActions
    with the action ids offered), the screen perceived (its outline), discovered when new to the run, the
    action, the transition when new, accessibility findings on two screens, a crash (fixed in the last version)
    and an ANR with their reproductions. One save per run. Returns (events stored, seconds)."""
    rng = random.Random(11)
    started, worker = time.perf_counter(), "device-sim-0/BENCH"
    for i in range(count):
        package, version = f"com.example.recorded{i % APPS_RECORDED}", 10 + i * 3 // count
        warm = i % 2 == 1
        run = runs.request_run(RunRequest(f"/apps/recorded{i % APPS_RECORDED}.json", "http://127.0.0.1:4723",
                                          package, ".Screen0Activity", max_steps=steps, memory="warm" if warm else "cold",
                                          app_version={"versionCode": version, "versionName": f"1.{version}"}))
        run_id = str(ULID.from_uuid(run.id))
        runs.start_run(run_id, worker, lease_seconds=3600)
        run = runs.get_run(run_id)

        def screen(k: int) -> str:  # a screen changes in a version where (k + version) % 9 == 0
            return sid(package, version if (k + version) % 9 == 0 else "base", k)

        if warm:
            run.recall_memory(worker, step_ordinal=0, runs=i // APPS_RECORDED, screens=SCREENS, same_version=True,
                              previous_version=None, base_run_id=None, cold=False, note="recorded")
        seen, taken, stack, k, n = set(), set(), [0], 0, 0
        while n < steps:
            n += 1
            here = screen(k)
            offered = [f"tap:id/b{j}" for j in range(BUTTONS)] + ["back"]
            untried = [a for a in offered if (here, a) not in taken]
            choice = untried[0] if untried and rng.random() < 0.8 else rng.choice(offered)
            action = {"kind": "back" if choice == "back" else "tap", "label": choice, "action_id": choice,
                      "declared": True}
            for node in NODES:
                run.start_node(node, n, worker)
                if node == "Perceive":
                    run.record_screen(worker, step_ordinal=n, screen_id=here, activity=f".Screen{k % 15}Activity",
                                      package=package, element_count=BUTTONS + 3, artifacts={
                                          "pageSource": f"ps-{run_id}-{n}", "screenshot": f"png-{run_id}-{n}"},
                                      elements=[f'TextView#title "Screen {k}"', 'ImageButton#nav "Navigate up"']
                                      + [f'Button#b{j} "Item {k}.{j}"' for j in range(BUTTONS)])
                    if here not in seen:
                        seen.add(here)
                        run.discover_screen(worker, step_ordinal=n, screen_id=here, activity=f".Screen{k % 15}Activity")
                        if k in (0, 8):
                            run.detect_finding(worker, finding_id=f"a11y-{run_id}-{k}", kind="accessibility",
                                               title=f"Touch target too small on Screen{k}",
                                               signature=sid(package, "a11y", k), step_ordinal=n, screen_id=here,
                                               activity=f".Screen{k % 15}Activity", action_id="tap:id/b0",
                                               details={"rule": "TouchTargetSizeCheck"}, artifacts={})
                detail: dict[str, Any] = {"durationMs": 12.5}
                if node == "EnumerateActions":
                    detail |= {"actions": len(offered), "actionIds": offered, "avoided": 0}
                if node == "ChooseAction":
                    detail |= {"action": action}
                if node == "Act":
                    run.record_action(worker, step_ordinal=n, screen_id=here, action=action)
                if node == "Verify":
                    k = walk(run, worker, n, here, k, choice, action, stack, taken, version, package, screen)
                run.finish_node(node, n, "SUCCESS", detail, worker)
        run.start_node("Stop", n, worker)
        run.finish_node("Stop", n, "SUCCESS", {"stopReason": "max_steps"}, worker)
        run.complete("max_steps", {"steps": n, "screensDiscovered": len(seen)}, worker)
        runs.save(run)
    with runs.recorder.datastore.transaction(commit=False) as curs:
        curs.execute(SQL("SELECT count(*) AS n FROM {}").format(Identifier(runs.recorder.events_table_name)))
        events = curs.fetchone()["n"]
    return events, time.perf_counter() - started


def walk(run: Any, worker: str, n: int, here: str, k: int, choice: str, action: dict[str, Any], stack: list[int],
         taken: set[tuple[str, str]], version: int, package: str, screen: Callable[[int], str]) -> int:
    """Where `choice` on screen `k` leads (the screen index next), with the transition recorded when new."""
    new = (here, choice) not in taken
    taken.add((here, choice))
    j = -1 if choice == "back" else int(choice.rsplit("b", 1)[1])
    if k == 1 and j == 2 and version < 12 or k == 15 and j == 4:  # a crash (fixed in the last version), an ANR
        kind = "crash" if k == 1 else "anr"
        fid = f"{kind}-{run.id}-{n}"
        run.detect_finding(worker, finding_id=fid, kind=kind, title=f"{kind} on Screen{k}",
                           signature=sid(package, kind, k), step_ordinal=n, screen_id=here,
                           activity=f".Screen{k % 15}Activity", action_id=choice, details={}, artifacts={})
        run.record_reproduction(worker, finding_id=fid, attempts=2, reproduced=2, steps=[
            {"kind": "tap", "actionId": choice, "fromScreen": here, "toScreen": None}])
        stack[:] = [0]
        return 0
    if j == -1:
        to = stack.pop() if len(stack) > 1 else 0
    elif j == 6:
        to = k  # changes nothing
    elif j == 5 and k % 7 == 0:  # leaves the app: relaunched at the start
        if new:
            run.discover_transition(worker, step_ordinal=n, from_screen=here, action=action, to_screen=None,
                                    left_to="com.android.chrome")
        stack[:] = [0]
        return 0
    else:
        to = (k * 5 + j * 7 + 1) % SCREENS
        stack.append(k)
    if new:
        run.discover_transition(worker, step_ordinal=n, from_screen=here, action=action, to_screen=screen(to))
    return to


@dataclass
class Replay:
    name: str
    events: int  # of the projection's topics
    seconds: list[float] = field(default_factory=list)


def replay(env: dict[str, str], url: str, name: str, topics: tuple[str, ...], open_view: Callable[[Any], Any],
           runner_of: Callable[[Any], Any], log: tuple[str, int]) -> float:
    """Drops the projection's tables, creates them empty (as the service does at start-up), and times its runner
    from its start until it has tracked the last notification of its topics."""
    view = open_view(env)
    view.drop_tables()
    view.datastore.close()
    create_tables(url)
    table_name, _ = log
    with psycopg.connect(url) as conn:
        last = conn.execute(SQL("SELECT max(notification_id) FROM {} WHERE topic = ANY(%s)").format(
            Identifier(table_name)), (list(topics),)).fetchone()[0]
    started = time.perf_counter()
    runner = runner_of(env)
    try:
        while not runner.view.has_tracking_id(runner.app.name, last):
            if runner.is_interrupted.is_set():
                raise RuntimeError(f"{name} runner stopped: {runner.error!r}")
            time.sleep(0.01)
        seconds = time.perf_counter() - started
    finally:
        runner.close()
        runner.view.datastore.close()
    return seconds


def bench_rebuild(database_url: str, count: int, steps: int, rounds: int) -> dict[str, Any]:
    url = urlunparse(urlparse(database_url)._replace(path="/rebuild"))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "rebuild" WITH (FORCE)')
        conn.execute('CREATE DATABASE "rebuild"')
    create_tables(url)
    env = event_store_env(url)
    runs = RunService(env=env)
    try:
        print(f"  recording {count} runs of about {steps} steps ...", flush=True)
        events, seconds = record_runs(runs, count, steps)
        table_name = runs.recorder.events_table_name
        with psycopg.connect(url) as conn:
            in_topics = {name: conn.execute(SQL("SELECT count(*) FROM {} WHERE topic = ANY(%s)").format(
                Identifier(table_name)), (list(topics),)).fetchone()[0]
                for name, topics in (("graph", ScreenGraphProjection.topics), ("map", AppMapProjection.topics))}
        print(f"  {events} events recorded in {seconds:.1f} s; the map reads {in_topics['map']} of them, the screen "
              f"graph {in_topics['graph']}", flush=True)
        graph = Replay("screen graph (baseline)", in_topics["graph"])
        app_map = Replay("app map", in_topics["map"])
        for i in range(rounds):
            for what, topics, opener, runner in ((graph, ScreenGraphProjection.topics, open_graph_view,
                                                  screen_graph_runner),
                                                 (app_map, AppMapProjection.topics, open_app_map_view,
                                                  app_map_runner)):
                what.seconds.append(replay(env, url, what.name, topics, opener, runner, (table_name, events)))
                print(f"  round {i + 1}: {what.name} replayed in {what.seconds[-1]:.2f} s", flush=True)
        map_view = open_app_map_view(env)
        try:
            rows = map_view.all_rows()
        finally:
            map_view.datastore.close()
        with psycopg.connect(url) as conn:
            node_finished = conn.execute(SQL("SELECT count(*) FROM {} WHERE topic LIKE %s").format(
                Identifier(table_name)), ("%:Run.NodeFinished",)).fetchone()[0]
        return {"events": events, "recordSeconds": seconds, "graph": graph, "map": app_map, "runs": count,
                "steps": steps, "rows": {name: len(r) for name, r in rows.items()}, "nodeFinished": node_finished}
    finally:
        runs.close()


def rebuild_rows(r: dict[str, Any], real_per_step: float, notes: list[str]) -> list[list[Any]]:
    graph, app_map, events = r["graph"], r["map"], r["events"]
    notes.append(f"map rebuild: the recorded runs have {events / r['runs'] / r['steps']:.1f} events a step, "
                 f"{r['rows']['app_findings'] / r['runs']:.1f} findings a run; the cold runs above "
                 f"{real_per_step:.1f} events a step. The map reads every agent.node.finished (its topics cannot "
                 f"tell EnumerateActions' apart): {r['nodeFinished']} of the {app_map.events} events it read")
    g, m = statistics.median(graph.seconds), statistics.median(app_map.seconds)
    return [[f"map rebuild: drop its tables, replay {r['runs']} runs ({events} events, {r['rows']['app_screens']} "
             f"screen rows) until caught up (median of {len(graph.seconds)})",
             f"screen graph {g:.2f} s ({graph.events} events read, {graph.events / g:.0f}/s; {events / g:.0f} of the "
             f"log/s)",
             f"app map {m:.2f} s ({app_map.events} events read, {app_map.events / m:.0f}/s; {events / m:.0f} of the "
             f"log/s)", f"{m / g:.2f}", ""]]


# Main


def start_service(stack: ExitStack, boot: Settings, database_url: str, models: Path, devices: int
                  ) -> tuple[bootstrap.Service, str]:
    """Appium, Ray and the service; the Service returned holds the actors' handles: keep it while runs go on."""
    appium_url = launcher.start_appium(boot, stack)
    settings = boot.model_copy(update={
        "database_url": database_url, "appium_url": appium_url, "port": free_port(), "devices": devices,
        "ray_dashboard_port": free_port(), "ray_namespace": "app-memory-bench", "run_timeout_seconds": 3600.0,
        "app_roots": (REPO / "apps", models), "log_level": "WARNING"})
    launcher.start_ray(settings, stack)
    return bootstrap.start_service(settings), appium_url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default="shop,settings")
    parser.add_argument("--cut", type=float, default=0.4, help="the first cold run's share of the full run's steps")
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3,
                        help="each app's arms again under other packages (other screen ids: other dfs ties)")
    parser.add_argument("--rebuild-runs", type=int, default=100)
    parser.add_argument("--rebuild-steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="replays of each projection (the median is shown)")
    parser.add_argument("--out", help="also write the figures as JSON here")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill stops what the bench started too
    apps = [APPS[name] for name in args.apps.split(",") if name]
    loads, began = [os.getloadavg()[0]], time.perf_counter()
    rows: list[list[Any]] = []
    notes: list[str] = []
    figures: dict[str, Any] = {}
    with ExitStack() as stack:
        data_dir = Path(tempfile.mkdtemp(prefix="app-memory-bench-"))
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        models = data_dir / "models"
        models.mkdir()
        boot = Settings(data_dir=data_dir, database_url=None, appium_url=None, appium_port=free_port())
        print("starting PostgreSQL, Appium, Ray and the service ...", flush=True)
        database_url = launcher.start_postgres(boot, stack)
        with ExitStack() as service_stack:
            service, appium_url = start_service(service_stack, boot, database_url, models, args.devices)
            client = Client(service.api_url, appium_url, models)
            service_stack.callback(client.http.close)
            print(f"runs ({args.devices} devices; {args.repeats} repeats, each app's repeats one after the other, "
                  "the apps and each repeat's arms at once) ...", flush=True)
            # A repeat's packages are named after it: the same screen ids, so the same runs, every bench run.
            # Each repeat's other ids order the dfs's ties otherwise (domain/exploration/graph.py: route).
            plan = [(app, f"r{i}") for i in range(args.repeats) for app in apps]
            with ThreadPoolExecutor(len(apps)) as pool:
                done = list(pool.map(lambda job: bench_app(client, job[0], args.cut, job[1]), plan))
            loads.append(os.getloadavg()[0])
            per_app: dict[str, list[dict[str, Any]]] = {app.name: [] for app in apps}
            for (app, tag), runs in zip(plan, done):
                nxt = new_version(client, app, tag, runs, notes)
                per_app[app.name].append({"same": same_version(app, tag, runs, notes), "next": nxt,
                                          "findings": findings_of(client, app, tag, runs, nxt.pop("fixed"), notes)})
            for app in apps:
                rows += app_rows(app, per_app[app.name])
            figures.update(per_app)
            cold_runs = [r[k] for r in done for k in ("full", "second", "v1", "next_cold")]
            real_per_step = statistics.fmean(len(r.events) / max(r.steps, 1) for r in cold_runs)
            runs_seconds = time.perf_counter() - began
        print("stopped the service; the map's rebuild ...", flush=True)
        rebuild = bench_rebuild(database_url, args.rebuild_runs, args.rebuild_steps, args.rounds)
        loads.append(os.getloadavg()[0])
        rows += rebuild_rows(rebuild, real_per_step, notes)
        figures["rebuild"] = {"events": rebuild["events"], "graphSeconds": rebuild["graph"].seconds,
                              "mapSeconds": rebuild["map"].seconds, "graphEvents": rebuild["graph"].events,
                              "mapEvents": rebuild["map"].events, "rows": rebuild["rows"]}
    table("App memory: warm runs (from the app's map) against cold ones, and the map's rebuild; baselines from "
          "the same bench run", ["figure", "baseline", "measured", "ratio", "target / check"], rows)
    for note in notes:
        print(f"  note: {note}")
    print(f"\n  {runs_seconds:.0f} s of runs, {time.perf_counter() - began:.0f} s in all; load average {loads[0]:.1f} "
          f"at start, {max(loads):.1f} at most, on {os.cpu_count()} cores")
    if args.out:
        Path(args.out).write_text(json.dumps(figures, default=str, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
