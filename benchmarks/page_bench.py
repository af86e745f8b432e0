"""Page benchmark: how fast a run page shows a run's start, and what replaying a long run costs the browser.

Starts its own PostgreSQL, Appium (simulator), Ray and the service with ONE device, and headless
Chromium (Debian's, as the browser tests use it):

- start latency: a run is queued behind a blocker run with its page already open and showing
  "queued"; the blocker is cancelled, the run starts, and the time from the `run.started` event's
  `ts` to the page showing "running" is measured. Baseline: the same event read by a plain SSE
  client (httpx-sse) in this process, on the same run at the same time.
- replay of a long run: the sample apps are explored completely in under a hundred steps, so the
  long run explores a generated app (`catalog`: --screens screens of five buttons each, written
  to a temporary folder the service's APP_ROOTS includes) with the real agent and simulator, for
  --max-steps steps; the table says how long it really was. Opened once finished. Measured: time
  to the first event, time until every event is applied, JS heap after a GC (CDP
  Performance.getMetrics), DOM nodes, and frame times during the replay (requestAnimationFrame
  deltas). Baselines in the same browser: an empty page, and the page of a 5-step run.

    .venv/bin/python benchmarks/page_bench.py [--max-steps 1000] [--screens 160] [--starts 8]

Everything it starts is stopped at the end; all traffic stays on 127.0.0.1.
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
import threading
import time
from contextlib import ExitStack
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the product's packages are at the root

import httpx  # noqa: E402
from httpx_sse import connect_sse  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

import bootstrap  # noqa: E402
import launcher  # noqa: E402
import bench_common  # noqa: E402
from bench_common import free_port, table  # noqa: E402
from config.settings import Settings  # noqa: E402

APPS = {"notes": ("com.example.notes", ".ConsentActivity"), "shop": ("com.example.shop", ".ShopHomeActivity"),
        "catalog": ("com.example.catalog", ".Screen0Activity")}
NOTES_INPUTS = {"username": "alice", "password": "secret"}
# Recorded from the first frame on (before the page's own scripts): each requestAnimationFrame's
# time, delta and the events the page had applied by then.
FRAME_PROBE = """
window.__frames = []; let last = null;
const tick = (t) => {
  if (last !== null) window.__frames.push([t, t - last, window.runPage ? window.runPage.state.events : 0]);
  last = t; requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""


def catalog_app(folder: Path, screens: int) -> Path:
    """An app big enough for a long run: every screen its own activity, five buttons to other screens."""
    def screen(i: int) -> dict[str, Any]:
        buttons = [{"id": f"s{i}_go{j}", "class": "android.widget.Button", "text": f"Item {i}.{j}",
                    "onClick": [{"goto": f"s{(i * 5 + j + 1) % screens}"}]} for j in range(5)]
        title = {"id": f"s{i}_title", "class": "android.widget.TextView", "text": f"Screen {i}"}
        return {"activity": f".Screen{i}Activity", "elements": [title, *buttons]}
    model = {"package": "com.example.catalog", "label": "Catalog", "versionCode": 1, "versionName": "1.0",
             "start": "s0", "screens": {f"s{i}": screen(i) for i in range(screens)}}
    path = folder / "catalog.json"
    path.write_text(json.dumps(model))
    return path


# A replay's time is read when its wait ends: look often.
wait_until = partial(bench_common.wait_until, poll=0.02)


def ts_ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, api: str, appium_url: str, driver: webdriver.Chrome, apps: dict[str, Path]) -> None:
        self.api, self.appium_url, self.driver, self.apps = api, appium_url, driver, apps
        self.http = httpx.Client(base_url=api, timeout=60)

    def start(self, app: str, max_steps: int) -> str:
        package, activity = APPS[app]
        body = {"apkPath": str(self.apps.get(app, REPO / "apps" / f"{app}.json")), "appiumServerUrl": self.appium_url,
                "packageName": package, "appActivity": activity, "maxSteps": max_steps}
        if app == "notes":
            body["inputs"] = NOTES_INPUTS
        answer = self.http.post("/run", json=body)
        answer.raise_for_status()
        return answer.json()["runId"]

    def status(self, run_id: str) -> dict[str, Any]:
        return self.http.get(f"/run/{run_id}").json()

    def finished(self, run_id: str, seconds: float) -> dict[str, Any]:
        return wait_until(lambda: (r := self.status(run_id))["status"] in ("completed", "failed", "canceled") and r,
                          seconds, f"run {run_id} to end")

    def page_state(self) -> dict[str, Any]:
        try:
            return self.driver.execute_script("return window.runPage ? {...window.runPage.state} : {}")
        except TimeoutException:  # the page's main thread was busy for the whole script timeout: ask again
            return {}

    # --- start latency

    def start_latency(self, app: str) -> tuple[float, float]:
        """(ms to the page, ms to a plain SSE client) from run.started's ts."""
        blocker = self.start(app, 1000)
        wait_until(lambda: self.status(blocker)["status"] == "running", 60, "the blocker to run")
        run_id = self.start(app, 3)
        self.driver.get(f"{self.api}/runs/{run_id}")
        wait_until(lambda: self.page_state().get("status") == "queued", 60, "the page to show queued")
        self.driver.execute_script(
            "window.__shown = null; const look = () => { if (document.getElementById('status').textContent === 'running')"
            " window.__shown = Date.now(); else requestAnimationFrame(look); }; requestAnimationFrame(look);")
        seen: dict[str, float] = {}
        reader = threading.Thread(target=self._read_started, args=(run_id, seen), daemon=True)
        reader.start()
        wait_until(lambda: "ready" in seen, 30, "the SSE client to connect")
        self.http.post(f"/run/{blocker}/cancel")
        shown = wait_until(lambda: self.driver.execute_script("return window.__shown"), 120, "the page to show running")
        reader.join(60)
        self.finished(run_id, 120)
        self.finished(blocker, 120)
        return shown - seen["ts"], seen["received"] - seen["ts"]

    def _read_started(self, run_id: str, seen: dict[str, float]) -> None:
        with httpx.Client(base_url=self.api, timeout=120) as client, \
                connect_sse(client, "GET", f"/run/{run_id}/stream") as source:
            seen["ready"] = 1
            for sse in source.iter_sse():
                if sse.event == "run.started":
                    seen["received"] = time.time() * 1000
                    seen["ts"] = ts_ms(json.loads(sse.data)["ts"])
                    return

    # --- replay

    def replay(self, url: str, events: int | None) -> dict[str, Any]:
        """Opens `url` with the frame probe; waits until `events` are applied (None: a fixed second)."""
        probe = self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FRAME_PROBE})
        try:
            started = time.perf_counter()
            self.driver.get(url)
            if events is None:
                time.sleep(1.0)  # an empty page: a second of idle frames to compare with
            else:
                wait_until(lambda: self.page_state().get("events") == events and not
                           self.driver.execute_script("return window.runPage.state.fetching"), 600, "the replay")
            done = time.perf_counter() - started
            frames = self.driver.execute_script("return window.__frames")
        finally:
            self.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": probe["identifier"]})
        self.driver.execute_cdp_cmd("HeapProfiler.enable", {})
        self.driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
        metrics = {m["name"]: m["value"] for m in self.driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
        return {"seconds": done, "frames": frames or [[0.0, 0.0, 0]], "heap_mb": metrics["JSHeapUsedSize"] / 2**20,
                "nodes": int(metrics["Nodes"]), "events": events or 0}


def chrome() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--enable-precise-memory-info"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Performance.enable", {})
    driver.set_script_timeout(120)
    return driver


def replay_row(name: str, result: dict[str, Any]) -> list[Any]:
    """The replay's frames: from the first with an event applied to the first with all of them."""
    frames, total = result["frames"], result["events"]
    first = next((i for i, (_, _, applied) in enumerate(frames) if applied > 0), 0)
    last = next((i for i, (_, _, applied) in enumerate(frames) if applied >= total), len(frames) - 1)
    window = [delta for _, delta, _ in (frames[first:last + 1] if total else frames)] or [0.0]
    to_first = frames[first][0] / 1000 if total else 0.0
    replay = (frames[last][0] - frames[first][0]) / 1000 if total else 0.0
    return [name, total, f"{to_first:.2f}", f"{replay:.2f}", f"{result['heap_mb']:.1f}", result["nodes"],
            len(window), f"{statistics.median(window):.1f}", f"{pct(window, 0.95):.1f}", f"{max(window):.0f}",
            sum(1 for f in window if f > 50)]


def main(args: argparse.Namespace) -> int:
    load_start = os.getloadavg()[0]
    for script in ("setup-browser.sh", "setup-web.sh"):
        subprocess.run([REPO / "scripts" / script], check=True)
    with ExitStack() as stack:
        data_dir = Path(tempfile.mkdtemp(prefix="page-bench-"))
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        boot = Settings(data_dir=data_dir, database_url=None, appium_url=None, appium_port=free_port())
        catalog = catalog_app(data_dir, args.screens)
        print("starting PostgreSQL, Appium, Ray and the service (one device) ...", file=sys.stderr, flush=True)
        database_url = launcher.start_postgres(boot, stack)
        appium_url = launcher.start_appium(boot, stack)
        settings = boot.model_copy(update={
            "database_url": database_url, "appium_url": appium_url, "port": free_port(), "devices": 1,
            "ray_dashboard_port": free_port(), "ray_namespace": "page-bench", "no_progress_steps": 1000,
            "run_timeout_seconds": 3600.0, "app_roots": (REPO / "apps", data_dir)})
        launcher.start_ray(settings, stack)
        service = bootstrap.start_service(settings)  # holds the actor handles while the bench runs
        driver = chrome()
        stack.callback(driver.quit)
        bench = Bench(service.api_url, appium_url, driver, {"catalog": catalog})

        print(f"start latency x{args.starts} ...", file=sys.stderr, flush=True)
        latencies = [bench.start_latency("shop") for _ in range(args.starts)]
        page, sse = [p for p, _ in latencies], [s for _, s in latencies]
        table("Start latency: run.started ts -> shown, ms (the run page open and showing 'queued' beforehand)",
              ["reader", "runs", "p50", "p90", "max"],
              [["plain SSE client (baseline)", len(sse), f"{pct(sse, .5):.0f}", f"{pct(sse, .9):.0f}", f"{max(sse):.0f}"],
               ["run page (browser)", len(page), f"{pct(page, .5):.0f}", f"{pct(page, .9):.0f}", f"{max(page):.0f}"]])

        print(f"a long run (catalog of {args.screens} screens, maxSteps {args.max_steps}) ...", file=sys.stderr,
              flush=True)
        long_run = bench.start("catalog", args.max_steps)
        short_run = bench.start("shop", 5)
        long_info = bench.finished(long_run, 3600)
        short_info = bench.finished(short_run, 600)
        long_steps = bench.http.get("/runs", params={"limit": 5}).json()["runs"]
        steps = next(r["steps_taken"] for r in long_steps if r["run_id"] == long_run)
        rows = [replay_row("empty page (baseline)", bench.replay("about:blank", None)),
                replay_row("run page, 5 steps (baseline)",
                           bench.replay(f"{service.api_url}/runs/{short_run}", short_info["lastEventSeq"])),
                replay_row(f"run page, {steps} steps ({long_info['stopReason']})",
                           bench.replay(f"{service.api_url}/runs/{long_run}", long_info["lastEventSeq"]))]
        table("Replaying a finished run: s to the first event, s to apply them all, JS heap after GC, DOM nodes, "
              "frame times while replaying (requestAnimationFrame deltas, ms; the empty page: a second idle)",
              ["page", "events", "first s", "replay s", "heap MB", "DOM nodes", "frames", "p50", "p95", "max",
               ">50 ms"], rows)
        print(f"\n  load average: {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} "
              "cores (well above the cores: other work competed, absolute figures are noisy)")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--screens", type=int, default=160)
    parser.add_argument("--starts", type=int, default=8)
    sys.exit(main(parser.parse_args()))
