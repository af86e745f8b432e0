"""The installed `runservice` command, run as a shell would against the live service: output, exit
statuses, and one-line errors (never a traceback) for bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from ulid import ULID

from runservice_client import RunClient, RunServiceError
from tests.client.conftest import run_spec
from tests.fixtures.appium import free_port, sample_app
from tests.fixtures.service import PLUGIN_POLICY, SAMPLE_APPS, wait_for

RUNSERVICE = str(Path(sys.executable).parent / "runservice")  # the client package's console script
COMMANDS = ["start", "watch", "ls", "get", "cancel", "pause", "resume", "graph", "diff", "findings", "report"]
LLM_RUN_SECONDS = 600  # the real model on 2 shared cores: each request takes a few seconds


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


def table_rows(table: str) -> list[dict[str, str]]:
    """`ls`'s table as rows by column head: columns are two or more spaces apart."""
    head, *lines = table.strip().splitlines()
    names = re.split(r"\s{2,}", head)
    return [dict(zip(names, re.split(r"\s{2,}", line), strict=True)) for line in lines]


def test_start_with_a_plugin_policy_runs_it_and_get_and_ls_name_it(url, appium_server):
    done = runservice(*start_args(appium_server, "settings", max_steps=3), "--policy", PLUGIN_POLICY, "--wait",
                      url=url)

    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[0]
    shown = runservice("get", run_id, url=url).stdout.splitlines()
    assert f"policy: {PLUGIN_POLICY}" in shown and "metrics.steps: 3" in shown
    assert not [line for line in shown if line.startswith("llm.")]  # the plug-in asks no model: nothing to show
    as_json = json.loads(runservice("get", run_id, "--json", url=url).stdout)
    assert as_json["policy"] == PLUGIN_POLICY and as_json["llm"]["calls"] == 0
    # The runs table is a projection, a moment behind the events.
    row = wait_for(lambda: next((r for r in table_rows(runservice("ls", "--limit", "10", url=url).stdout)
                                 if r["RUN"] == run_id and r["STATUS"] == "completed"), None), 30, "the run listed")
    assert (row["POLICY"], row["STEPS"]) == (PLUGIN_POLICY, "3/3")
    listed = json.loads(runservice("ls", "--json", "--limit", "10", url=url).stdout)
    assert next(r for r in listed if r["run_id"] == run_id)["policy"] == PLUGIN_POLICY


def test_an_unknown_policy_is_one_line_that_lists_the_installed_ones(url, appium_server):
    done = runservice(*start_args(appium_server), "--policy", "greedy", url=url)

    assert_one_line_error(done, "400", "invalid_argument", "policy:", "dfs", "random", "llm", PLUGIN_POLICY)


def model_calls(url: str, run_id: str) -> list[dict[str, Any]]:
    with RunClient(url) as client:
        return [event.data for event in client.events(run_id) if event.name == "agent.llm.called"]


def test_an_llm_run_from_the_command_line_and_its_model_calls_in_get(url, appium_server, llm_proxy):
    done = runservice(*start_args(appium_server, "settings", max_steps=2), "--policy", "llm", "--wait", url=url,
                      timeout=LLM_RUN_SECONDS)

    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[0]
    calls = model_calls(url, run_id)
    sent = [call for call in calls if not call["cached"] and call["reason"] != "budget"]
    # Requests went to the real model and it answered (a 270M model's answer is not always usable: then the run
    # fell back to the depth-first choice, which `get` counts by reason too).
    assert sent and all(call["promptTokens"] > 0 for call in sent), json.dumps(calls)
    assert re.findall(r"model_calls=(\d+)", done.stderr)[-1] == str(len(sent))  # the progress bar counts them
    shown = runservice("get", run_id, url=url).stdout.splitlines()
    prompt, completion = sum(c["promptTokens"] for c in calls), sum(c["completionTokens"] for c in calls)
    assert "policy: llm" in shown and prompt > 0 and completion > 0
    reasons = Counter(call["reason"] for call in calls if call["outcome"] == "fallback")
    fallbacks = f"llm.fallbacks: {sum(reasons.values())}" + (
        f" ({', '.join(f'{reason} {n}' for reason, n in sorted(reasons.items()))})" if reasons else "")
    assert {f"llm.requests: {len(sent)}", f"llm.cached: {sum(c['cached'] for c in calls)}",
            f"llm.promptTokens: {prompt}", f"llm.completionTokens: {completion}",
            f"llm.chosen: {sum(c['outcome'] == 'chosen' for c in calls)}", fallbacks} <= set(shown), shown
    assert any(line.startswith("llm.models: ") and len(line) > len("llm.models: ") for line in shown)
    as_json = json.loads(runservice("get", run_id, "--json", url=url).stdout)
    assert as_json["llm"]["requests"] == as_json["metrics"]["llmCalls"] == len(sent)
    assert (as_json["llm"]["promptTokens"], as_json["llm"]["completionTokens"]) == (
        as_json["metrics"]["promptTokens"], as_json["metrics"]["completionTokens"])


def test_get_counts_the_fallbacks_by_reason_when_the_model_answers_nonsense(url, appium_server, llm_proxy):
    with llm_proxy.html():  # every request to the model is answered with a login page
        done = runservice(*start_args(appium_server, "settings", max_steps=2), "--policy", "llm", "--wait",
                          url=url, timeout=LLM_RUN_SECONDS)

    assert done.returncode == 0, done.stderr  # the run never fails because the model did
    run_id = done.stdout.split()[0]
    calls = model_calls(url, run_id)
    reasons = Counter(call["reason"] for call in calls if call["outcome"] == "fallback")
    assert calls and reasons == {"invalid_answer": len(calls)}, calls
    shown = runservice("get", run_id, url=url).stdout.splitlines()
    assert f"llm.fallbacks: {len(calls)} (invalid_answer {len(calls)})" in shown, shown
    assert {"llm.chosen: 0", f"llm.requests: {len(calls)}", "llm.promptTokens: 0"} <= set(shown), shown
    as_json = json.loads(runservice("get", run_id, "--json", url=url).stdout)
    assert as_json["llm"]["fallbacks"] == {"invalid_answer": len(calls)}


def test_watch_shows_each_model_call_on_its_line(url, appium_server, llm_proxy):
    with llm_proxy.html():
        run_id = runservice(*start_args(appium_server, "settings", max_steps=1), "--policy", "llm",
                            url=url).stdout.strip()
        watched = runservice("watch", run_id, url=url, timeout=LLM_RUN_SECONDS)

    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.splitlines()
    called = [line for line in lines if "agent.llm.called" in line]
    assert called and len(called) == len(model_calls(url, run_id))
    assert all("outcome=fallback" in line and "reason=invalid_answer" in line and "purpose=" in line
               and "cached" not in line for line in called), called
    assert "policy=llm" in lines[0]  # run.queued names the policy
