"""`make run` as a newcomer uses it: start, /health, a run driven with curl, SIGTERM, nothing left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import psutil

from tests.fixtures.appium import sample_app
from tests.fixtures.service import free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 240


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200 and json.load(response)["status"] == "healthy"
    except OSError:
        return False


def curl(*args: str) -> str:
    return subprocess.run(["curl", "-sS", "--max-time", "60", *args], check=True, capture_output=True, text=True).stdout


def test_make_run_serves_a_run_and_sigterm_stops_everything(tmp_path):
    port, appium_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RAY_ADDRESS", "APPIUM_URL")}
    env.update(PORT=str(port), APPIUM_PORT=str(appium_port), DATA_DIR=str(tmp_path / "data"),
               RAY_DASHBOARD_PORT=str(free_port()), DEVICES="1")
    make = subprocess.Popen(["make", "run"], cwd=REPO, env=env, start_new_session=True,
                            stdout=open(tmp_path / "make.log", "wb"), stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: healthy(api) or make.poll() is not None, START_SECONDS, "/health")
        assert make.poll() is None, (tmp_path / "make.log").read_text()[-3000:]
        body = {"apkPath": sample_app("notes"), "appiumServerUrl": f"http://127.0.0.1:{appium_port}",
                "packageName": "com.example.notes", "appActivity": ".ConsentActivity", "maxSteps": 2}
        run = json.loads(curl("-X", "POST", f"{api}/run", "-H", "content-type: application/json", "-d", json.dumps(body)))
        stream = curl("-N", f"{api}{run['streamUrl']}")
        assert "event: run.started" in stream and stream.rstrip().splitlines()[-2] == "event: run.completed"
        launcher = next(p for p in psutil.Process(make.pid).children() if "launcher.py" in " ".join(p.cmdline()))
        started = [launcher, *launcher.children(recursive=True)]
        launcher.send_signal(signal.SIGTERM)
        assert make.wait(timeout=90) == 0
        _, alive = psutil.wait_procs(started, timeout=30)
        assert [p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []
        assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()
        assert not healthy(api)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
