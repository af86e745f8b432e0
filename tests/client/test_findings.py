"""Findings through the client and the command line, against the live service: a run on the notes app
(its "Sync now" button crashes it with a NullPointerException, apps/README.md) lists the crash with its
stack and reproduction, its test.py is Python, its report is JUnit; `start --wait --fail-on` exits 5 on
it and 0 on notes-fixed.json, the same app with its crashes fixed."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from typing import Any

import pytest
from junitparser import Failure, JUnitXml
from ulid import ULID

from runservice_client import AsyncRunClient, Finding, Findings, RunServiceError
from tests.client.conftest import LOGIN
from tests.client.test_cli import runservice, table_rows
from tests.client.test_progress import last_bar
from tests.fixtures.appium import sample_app
from tests.fixtures.service import SAMPLE_APPS, wait_for

NPE = "java.lang.NullPointerException"
# Enough for the depth-first crawl to tap "Sync now" on the home screen (at step 54, after the editor's
# Save crash, the notes, search, settings and signing out and in again, and the taps on their labels;
# apps/README.md).
NOTES_STEPS = 60
RULES = {"SpeakableTextPresentCheck", "TouchTargetSizeCheck", "DuplicateClickableBoundsCheck",
         "EditableContentDescCheck"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def start_args(appium_url: str, app: str, max_steps: int) -> list[str]:
    package, activity = SAMPLE_APPS["notes" if app == "notes-fixed" else app]
    login = [arg for key, value in LOGIN.items() for arg in ("--input", f"{key}={value}")]
    return ["start", "--apk", sample_app(app), "--appium", appium_url, "--package", package, "--activity", activity,
            "--max-steps", str(max_steps), *login]


@pytest.fixture(scope="module")
def url(service: Any) -> str:
    return service.api_url


@pytest.fixture(scope="module")
def failed_on_crash(url: str, appium_server: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    """`start --wait --fail-on crash` on the notes app, logged in: the run (to its end, its crash reproduced)
    that the other tests read, and what the command said."""
    done = runservice(*start_args(appium_server, "notes", NOTES_STEPS), "--wait", "--fail-on", "crash", url=url,
                      timeout=600)
    return done.stdout.split()[0], done


@pytest.fixture(scope="module")
def run_id(failed_on_crash: tuple[str, subprocess.CompletedProcess[str]]) -> str:
    return failed_on_crash[0]


def the_crash(findings: list[Finding]) -> Finding:
    crashes = [f for f in findings if f.kind == "crash" and f.exception == NPE]
    assert len(crashes) == 1, [(f.kind, f.title) for f in findings]
    return crashes[0]


def test_start_wait_fail_on_crash_exits_5_on_the_notes_app_and_says_why(client, failed_on_crash):
    run_id, done = failed_on_crash

    assert done.returncode == 5, done
    assert str(ULID.from_str(run_id)) == run_id
    counts = client.findings(run_id).by_kind()
    status, found = done.stdout.strip().splitlines()[-2:]
    assert status == "completed: max_steps"  # the run itself completed: 5 says what it found
    assert counts["crash"] == 2  # "Sync now", and Save in the editor with a reminder
    by_kind = ", ".join(f"{kind} {n}" for kind, n in counts.items())
    assert found == f"findings: {by_kind} (fail on crash 2)"
    bar = last_bar(done.stderr)  # it counts the findings, and exploration's steps only (reproducing is outside them)
    assert f"findings={sum(counts.values())}" in bar and f" {NOTES_STEPS}/{NOTES_STEPS} " in bar, bar


def test_the_findings_hold_the_sync_crash_with_its_stack_and_reproduction(client, run_id):
    findings = client.findings(run_id)

    assert isinstance(findings, Findings) and all(isinstance(f, Finding) for f in findings)
    crash = the_crash(findings)
    assert crash.title.startswith("NullPointerException") and "SyncClient.push" in crash.title
    assert crash.frames[0].startswith("com.example.notes.sync.SyncClient.push(")
    assert crash["activity"].endswith(".HomeActivity") and crash.first_step <= NOTES_STEPS
    assert crash.occurrences >= 1 and crash.reproduced == "2 of 2" and crash.has_test
    steps = crash.reproduction["steps"]
    assert steps[-1]["label"] == 'tap "Sync now"' and steps[-1]["toScreen"] is None  # the path ends with the crash
    assert client.artifact(run_id, crash.artifacts["screenshot"]).startswith(PNG_SIGNATURE)
    assert "FATAL EXCEPTION" in client.artifact(run_id, crash.artifacts["logcat"]).decode()
    # The same findings as the run's events tell, in the order they were first met.
    detected = [e.data["findingId"] for e in client.events(run_id) if e.name == "agent.finding.detected"]
    assert [f.id for f in findings] == detected


def test_a_crash_s_test_is_python_and_an_unknown_finding_has_none(client, run_id):
    crash = the_crash(client.findings(run_id))
    script = client.finding_test(run_id, crash.id)

    compile(script, "test_finding.py", "exec")
    assert re.search(r"^def test_\w+\(", script, re.M), script
    with pytest.raises(RunServiceError) as unknown:
        client.finding_test(run_id, "0" * 16)
    assert (unknown.value.status, unknown.value.code) == (404, "not_found")


def test_the_report_is_junit_with_the_crash_failing(client, run_id):
    findings = client.findings(run_id)
    crash = the_crash(findings)
    report = JUnitXml.fromstring(client.report(run_id).encode())

    suites = list(report)
    assert len(suites) == 1
    cases = {case.name: case for case in suites[0]}
    failures = [result for result in cases[crash.title].result if isinstance(result, Failure)]
    assert len(failures) == 1 and failures[0].type == NPE
    assert RULES <= set(cases) and cases["exploration"].is_passed
    failing = [f for f in findings if f.kind in ("crash", "anr")]
    rules_broken = {f.details["rule"] for f in findings if f.kind == "accessibility"}
    assert suites[0].failures == len(failing) + len(rules_broken)


def test_the_async_client_answers_the_same(service, client, run_id):
    async def read() -> tuple[Findings, str, str]:
        async with AsyncRunClient(service.api_url) as aclient:
            findings = await aclient.findings(run_id)
            return findings, await aclient.finding_test(run_id, the_crash(findings).id), await aclient.report(run_id)

    findings, script, report = asyncio.run(read())
    assert findings == client.findings(run_id) and isinstance(findings[0], Finding)
    assert script == client.finding_test(run_id, the_crash(findings).id)
    tests = [list(JUnitXml.fromstring(text.encode()))[0].tests for text in (report, client.report(run_id))]
    assert tests[0] == tests[1] > 5  # a case per crash, the four rules and the exploration


def test_findings_show_themselves_in_jupyter(client, run_id):
    findings = client.findings(run_id)
    crash = the_crash(findings)

    table = findings._repr_html_()
    assert table.count("<tr>") == len(findings) + 1 and "2 of 2" in table and NPE in table
    card = crash._repr_html_()
    assert NPE in card and "SyncClient.push" in card and "reproduced 2 of 2" in card and "Sync now" in card


def test_the_findings_command_lists_them_as_a_table_or_json(url, client, run_id):
    findings = client.findings(run_id)
    crash = the_crash(findings)

    done = runservice("findings", run_id, url=url)
    assert done.returncode == 0, done.stderr
    rows = table_rows(done.stdout)
    assert [row["FINDING"] for row in rows] == [f.id for f in findings]
    row = next(row for row in rows if row["FINDING"] == crash.id)
    # New, or known since an earlier run of notes in this session met it (runs of one tenant share the app's map)
    history = "NEW" if crash.is_new else crash.history.label
    assert row == {"FINDING": crash.id, "KIND": "crash", "TITLE": row["TITLE"], "OCCURRENCES": str(crash.occurrences),
                   "REPRODUCED": "2/2", "FIRST STEP": str(crash.first_step), "HISTORY": history}
    assert row["TITLE"].startswith("NullPointerException") and len(row["TITLE"]) <= 72
    assert {row["KIND"] for row in rows} == {f.kind for f in findings}
    assert all(row["REPRODUCED"] == "-" for row in rows if row["KIND"] == "accessibility")
    as_json = runservice("findings", run_id, "--json", url=url)
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == findings


def test_the_findings_command_writes_a_crash_s_test_and_report_writes_junit(url, client, run_id, tmp_path):
    crash = the_crash(client.findings(run_id))

    test_file = tmp_path / "test_sync_crash.py"
    done = runservice("findings", run_id, "--test", crash.id, "-o", str(test_file), url=url)
    assert done.returncode == 0 and done.stderr.strip() == f"wrote {test_file}", done
    assert test_file.read_text() == client.finding_test(run_id, crash.id)
    compile(test_file.read_text(), str(test_file), "exec")
    printed = runservice("findings", run_id, "--test", crash.id, url=url)  # no -o: stdout
    assert printed.returncode == 0 and printed.stdout == test_file.read_text()

    report = tmp_path / "report.xml"
    written = runservice("report", run_id, "-o", str(report), url=url)
    assert written.returncode == 0, written.stderr
    suite = list(JUnitXml.fromfile(str(report)))[0]
    assert any(case.name == crash.title and not case.is_passed for case in suite)


def test_the_findings_command_refuses_in_one_line(url, run_id):
    unknown = runservice("findings", run_id, "--test", "0" * 16, url=url)
    assert unknown.returncode == 1 and unknown.stdout == "" and "Traceback" not in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1 and "404 not_found" in unknown.stderr
    no_run = runservice("findings", str(ULID()), url=url)
    assert no_run.returncode == 1 and "404 not_found" in no_run.stderr
    both = runservice("findings", run_id, "--test", "0" * 16, "--json", url=url)
    assert both.returncode == 2 and "--test" in both.stderr


def test_start_wait_fail_on_exits_0_on_the_fixed_app(url, appium_server, run_id):
    # notes-fixed.json: the same screens, "Sync now" shows a toast; the same path as the crashing run.
    done = runservice(*start_args(appium_server, "notes-fixed", NOTES_STEPS), "--wait", "--fail-on", "crash,anr",
                      "--json", url=url, timeout=600)

    assert done.returncode == 0, done
    finished = json.loads(done.stdout)
    assert finished["status"] == "completed" and finished["runId"] != run_id
    assert not [f for f in finished["findings"] if f["kind"] in ("crash", "anr")], finished["findings"]


def test_fail_on_is_a_usage_error_without_wait_or_with_an_unknown_kind(url, appium_server):
    def newest() -> list[str]:
        return [row["run_id"] for row in json.loads(runservice("ls", "--json", "--limit", "1", url=url).stdout)]

    before = newest()
    without_wait = runservice(*start_args(appium_server, "notes", 2), "--fail-on", "crash", url=url)
    unknown = runservice(*start_args(appium_server, "notes", 2), "--wait", "--fail-on", "crash,freeze", url=url)

    assert without_wait.returncode == 2 and "--fail-on needs --wait" in without_wait.stderr, without_wait
    assert unknown.returncode == 2 and "unknown finding kind 'freeze'" in unknown.stderr, unknown
    assert "crash, anr, accessibility" in unknown.stderr
    assert "Traceback" not in without_wait.stderr + unknown.stderr
    assert newest() == before  # neither started a run


def test_ls_counts_each_run_s_findings(url, client, run_id):
    count = str(len(client.findings(run_id)))

    def listed() -> dict[str, str] | None:  # the runs table is a projection, a moment behind the events
        rows = table_rows(runservice("ls", "--limit", "20", url=url).stdout)
        return next((row for row in rows if row["RUN"] == run_id and row["FINDINGS"] == count), None)

    assert wait_for(listed, 30, "the run's findings counted in ls")
    as_json = json.loads(runservice("ls", "--json", "--limit", "20", url=url).stdout)
    assert next(row for row in as_json if row["run_id"] == run_id)["findings"] == int(count)
