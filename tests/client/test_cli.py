"""The installed `runservice` command, run as a shell would against the live service: output, exit
statuses, and one-line errors (never a traceback) for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ulid import ULID

from runservice_client import RunClient, RunServiceError
from tests.client.conftest import run_spec
from tests.fixtures.appium import free_port, sample_app
from tests.fixtures.service import SAMPLE_APPS, wait_for

RUNSERVICE = str(Path(sys.executable).parent / "runservice")  # the client package's console script
COMMANDS = ["start", "watch", "ls", "get", "cancel", "pause", "resume", "graph", "diff"]


def runservice(*args: str, url: str | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNSERVICE_URL": url or ""}
    if url is None:
        env.pop("RUNSERVICE_URL")
    return subprocess.run([RUNSERVICE, *args], capture_output=True, text=True, env=env, timeout=timeout)


def start_args(appium_url: str, app: str = "notes", max_steps: int = 4) -> list[str]:
    package, activity = SAMPLE_APPS[app]
    return ["start", "--apk", sample_app(app), "--appium", appium_url, "--package", package,
            "--activity", activity, "--max-steps", str(max_steps)]


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and all(word in lines[0] for word in words), done.stderr


@pytest.fixture(scope="module")
def url(service: Any) -> str:
    return service.api_url


def test_start_wait_shows_a_bar_then_the_stop_reason_and_exits_0_when_completed(url, appium_server):
    done = runservice(*start_args(appium_server, max_steps=4), "--input", "username=alice",
                      "--input", "password=secret", "--wait", url=url)

    assert done.returncode == 0, done.stderr
    run_id, outcome = done.stdout.split()[0], done.stdout.strip().splitlines()[-1]
    assert str(ULID.from_str(run_id)) == run_id and outcome == "completed: max_steps"
    assert "4/4" in done.stderr and "screens=" in done.stderr  # the progress bar


def test_start_prints_the_run_id_and_the_other_verbs_inspect_it(url, appium_server, tmp_path):
    started = runservice(*start_args(appium_server, "settings", max_steps=3), "--json", url=url)
    assert started.returncode == 0, started.stderr
    run_id = json.loads(started.stdout)["runId"]

    watched = runservice("watch", run_id, url=url)
    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.strip().splitlines()
    assert lines[0].split()[:1] == ["1"] and "run.queued" in lines[0]
    assert "run.completed" in lines[-1] and "stopReason=max_steps" in lines[-1]
    assert any("agent.node.started" in line and "nodeName=Perceive" in line and "step 1" in line for line in lines)

    shown = runservice("get", run_id, url=url)
    assert shown.returncode == 0 and "status: completed" in shown.stdout and "metrics.steps: 3" in shown.stdout
    assert json.loads(runservice("get", run_id, "--json", url=url).stdout)["metrics"]["steps"] == 3
    tail = runservice("watch", run_id, "--json", "--after", "2", url=url).stdout
    events = [json.loads(line) for line in tail.splitlines()]
    assert [e["seq"] for e in events] == list(range(3, len(lines) + 1))

    picture = tmp_path / "graph.svg"
    assert runservice("graph", run_id, "-o", str(picture), url=url).returncode == 0
    assert "<svg" in picture.read_text()
    assert json.loads(runservice("graph", run_id, "--json", url=url).stdout)["screens"]


def test_ls_shows_a_table_or_json(url, appium_server):
    table = runservice("ls", "--limit", "2", url=url)
    assert table.returncode == 0, table.stderr
    head, *rows = table.stdout.strip().splitlines()
    assert head.split()[:3] == ["RUN", "STATUS", "STOP"] and len(rows) == 2
    # The runs table is a projection, a moment behind the events: the earlier tests' two completed runs.
    def completed() -> list[dict[str, Any]]:
        return json.loads(runservice("ls", "--json", "--status", "completed", "--limit", "2", url=url).stdout)

    listed = wait_for(lambda: len(rows := completed()) == 2 and rows, 30, "two completed runs")
    assert {row["status"] for row in listed} == {"completed"}


def test_cancel_answers_and_watch_exits_4_for_a_canceled_run(url, appium_server):
    # The biggest sample app: the notes app can be explored to its end before the next command starts.
    run_id = runservice(*start_args(appium_server, app="settings", max_steps=500), url=url).stdout.strip()

    cancelled = runservice("cancel", run_id, url=url)
    assert (cancelled.returncode, cancelled.stdout.strip()) == (0, f"{run_id} CANCELLED")
    assert runservice("watch", run_id, url=url).returncode == 4


def test_a_run_that_fails_exits_3(url, unreachable_appium_url):
    done = runservice(*start_args(unreachable_appium_url), "--wait", url=url)

    assert done.returncode == 3, done
    assert done.stdout.strip().splitlines()[-1] == "failed: device_unavailable"


def test_bad_input_is_one_line_naming_the_problem(url, appium_server):
    assert_one_line_error(runservice("get", str(ULID()), url=url), "404", "not_found")
    invalid = runservice("start", "--apk", sample_app("notes"), "--appium", appium_server, "--package", "not a package",
                         "--activity", ".A", "--max-steps", "0", url=url)
    assert_one_line_error(invalid, "400", "maxSteps", "packageName")
    assert_one_line_error(runservice("ls", url=f"http://127.0.0.1:{free_port()}"), "cannot reach")
    assert_one_line_error(runservice("cancel", "not-a-run", url=url), "400")

    usage = runservice(*start_args(appium_server), "--input", "no-equals-sign", url=url)
    assert usage.returncode == 2 and "KEY=VALUE" in usage.stderr and "Traceback" not in usage.stderr


def test_every_command_has_help():
    assert runservice("--help").returncode == 0
    for command in COMMANDS:
        shown = runservice(command, "--help")
        assert shown.returncode == 0 and "Usage: runservice" in shown.stdout, command


def test_an_api_key_is_sent_by_the_client_and_the_command(keyed_api_url, appium_server):
    with RunClient(keyed_api_url) as anonymous, pytest.raises(RunServiceError) as refused:
        list(anonymous.runs(limit=1))
    assert refused.value.status == 401
    with RunClient(keyed_api_url, api_key="acme-key") as acme:
        run_id = acme.start(**run_spec(appium_server, "settings", max_steps=1)).id

    assert runservice("--api-key", "acme-key", "watch", run_id, url=keyed_api_url).returncode == 0
    assert_one_line_error(runservice("--api-key", "globex-key", "get", run_id, url=keyed_api_url), "404")  # not theirs
    assert_one_line_error(runservice("get", run_id, url=keyed_api_url), "401")
