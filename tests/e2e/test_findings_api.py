"""GET /run/{id}/findings, /findings/{findingId}/test.py and /report.xml over HTTP, after a real run of the
notes app on the Appium simulator: its "Sync now" button and its editor's Save with a reminder crash it,
and its notes' delete buttons have no label (DESIGN.md "Findings")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
from ulid import ULID

from tests.fixtures.appium import sample_app
from tests.fixtures.service import read_stream, start, start_body, wait_for

LOGIN = {"username": "alice", "password": "secret"}
FINDING_KEYS = {"findingId", "kind", "title", "signature", "firstStep", "occurrences", "screenId", "activity",
                "details", "artifacts", "reproduction"}
RULES = {"SpeakableTextPresentCheck", "TouchTargetSizeCheck", "DuplicateClickableBoundsCheck",
         "EditableContentDescCheck"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEST_SECONDS = 240  # the generated test: a session, a login, the path, watching for the dialog, up to 3 replays


@pytest.fixture(scope="module")
def crashed(service: Any, appium_server: str) -> tuple[str, list[dict[str, Any]]]:
    """One notes run, logged in, to its end (the reproduction of its crashes included): its id and its stream."""
    with httpx.Client(base_url=service.api_url, timeout=30) as client:
        run_id = start(client, start_body(appium_server, app="notes", inputs=LOGIN, maxSteps=80))
        return run_id, read_stream(client, run_id)


def of_kind(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["event"] == name]


def findings_in(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The findings as the stream tells them, by id: what the projection must show."""
    found = {d["findingId"]: {"findingId": d["findingId"], "kind": d["kind"], "title": d["title"],
                              "signature": d["signature"], "firstStep": d["stepOrdinal"], "occurrences": 1,
                              "screenId": d["screenId"], "activity": d["activity"], "details": d["details"],
                              "artifacts": d["artifacts"], "reproduction": None}
             for d in of_kind(events, "agent.finding.detected")}
    for d in of_kind(events, "agent.finding.recurred"):
        found[d["findingId"]]["occurrences"] += 1
    for d in of_kind(events, "agent.finding.reproduced"):
        found[d["findingId"]]["reproduction"] = {k: d[k] for k in ("steps", "attempts", "reproduced")}
    return found


def findings_of(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    answer = api.get(f"/run/{run_id}/findings")
    assert answer.status_code == 200, answer.text
    return answer.json()["findings"]


def a_finding(api: httpx.Client, run_id: str, kind: str) -> dict[str, Any]:
    found = [f for f in findings_of(api, run_id) if f["kind"] == kind]
    assert found, f"the notes run found no {kind}"
    return found[0]


def reproduced_crashes(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    """The crashes the run made happen again in every attempt: their tests must fail while the bug is there."""
    crashes = [f for f in findings_of(api, run_id) if f["kind"] == "crash" and f["reproduction"]
               and 0 < f["reproduction"]["reproduced"] == f["reproduction"]["attempts"]]
    assert crashes, "no crash of the notes run was reproduced"
    return crashes


def test_the_findings_are_what_the_run_s_events_say(api, crashed):
    run_id, events = crashed
    assert events[-1]["event"] == "run.completed", events[-1]
    findings = findings_of(api, run_id)  # asked once, after run.completed: read-your-writes
    assert {f["findingId"]: {k: f[k] for k in FINDING_KEYS} for f in findings} == findings_in(events)
    assert [f["firstStep"] for f in findings] == sorted(f["firstStep"] for f in findings)
    # The app's two bugs, each met once ("Sync now"; Save with a reminder), and its unlabelled delete buttons
    assert sorted(f["details"]["exception"] for f in findings if f["kind"] == "crash") == [
        "java.lang.IllegalStateException", "java.lang.NullPointerException"]
    assert {f["details"]["rule"] for f in findings if f["kind"] == "accessibility"} >= {"SpeakableTextPresentCheck"}


def test_a_crash_holds_its_stack_its_evidence_and_its_reproduction(api, crashed):
    run_id, _ = crashed
    crash = a_finding(api, run_id, "crash")
    details = crash["details"]
    assert details["exception"] in {"java.lang.NullPointerException", "java.lang.IllegalStateException"}
    assert details["frames"][0].startswith("com.example.notes.")  # the app's own frames first
    assert crash["signature"].startswith(f"crash|{details['exception']}|com.example.notes.")
    shot = api.get(f"/run/{run_id}/artifacts/{crash['artifacts']['screenshot']}")
    assert shot.status_code == 200 and shot.content.startswith(PNG_SIGNATURE)
    dialog = api.get(f"/run/{run_id}/artifacts/{crash['artifacts']['pageSource']}")
    assert dialog.status_code == 200 and "keeps stopping" in dialog.text  # what showed after the action
    logcat = api.get(f"/run/{run_id}/artifacts/{crash['artifacts']['logcat']}")
    assert logcat.status_code == 200 and "FATAL EXCEPTION" in logcat.text
    for step in crash["reproduction"]["steps"]:
        assert {"actionId", "label", "fromScreen", "toScreen"} <= set(step)
    trigger = crash["reproduction"]["steps"][-1]  # the path ends with the action that crashed the app
    assert (trigger["fromScreen"], trigger["actionId"], trigger["toScreen"]) == (
        crash["screenId"], crash["actionId"], None)


def test_every_crash_of_the_notes_app_is_reproduced_in_every_attempt(api, crashed):
    """Both of its crashes happen every time their path is taken: "Sync now" on the home screen, and Save in
    the editor once a title and a reminder are typed (the typing is part of the path)."""
    run_id, _ = crashed
    crashes = [f for f in findings_of(api, run_id) if f["kind"] == "crash"]
    assert crashes
    assert {f["title"]: (f["reproduction"]["reproduced"], f["reproduction"]["attempts"]) for f in crashes} == {
        f["title"]: (2, 2) for f in crashes}, [(f["title"], f["reproduction"]) for f in crashes]


def test_the_runs_table_counts_the_findings(api, crashed):
    run_id, _ = crashed
    count = len(findings_of(api, run_id))

    def listed() -> dict[str, Any] | None:
        rows = api.get("/runs", params={"limit": 500}).json()["runs"]
        return next((r for r in rows if r["run_id"] == run_id and r["findings"] == count), None)

    assert wait_for(listed, 20, "the runs table to count the run's findings")["findings"] == count


def test_a_crash_s_test_is_a_python_file_with_the_run_s_session_and_no_input_value(api, crashed):
    run_id, _ = crashed
    crash = reproduced_crashes(api, run_id)[0]
    answer = api.get(f"/run/{run_id}/findings/{crash['findingId']}/test.py")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/x-python")
    compile(answer.text, "test_finding.py", "exec")
    assert repr(sample_app("notes")) in answer.text  # the run's app
    assert "'appium:automationName': 'Simulator'" in answer.text and "'appium:udid': 'sim-" in answer.text
    assert "'secret'" not in answer.text and '"secret"' not in answer.text  # the password is read from the env


def run_generated_test(script: str, tmp_path: Path, appium_server: str, app: str) -> subprocess.CompletedProcess:
    path = tmp_path / "test_finding.py"
    path.write_text(script)
    env = {**os.environ, "RUNSERVICE_APPIUM_URL": appium_server, "RUNSERVICE_APP": sample_app(app),
           "RUNSERVICE_INPUTS": json.dumps(LOGIN)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           str(path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TEST_SECONDS)


def test_a_crash_s_test_fails_while_the_bug_is_there_and_passes_once_the_app_is_fixed(api, crashed, appium_server,
                                                                                         tmp_path):
    """notes-fixed.json is the same app with both crashes fixed (a toast instead)."""
    run_id, _ = crashed
    for crash in reproduced_crashes(api, run_id):
        script = api.get(f"/run/{run_id}/findings/{crash['findingId']}/test.py").text
        broken = run_generated_test(script, tmp_path, appium_server, "notes")
        assert broken.returncode == 1, f"{broken.stdout}{broken.stderr}\n{script}"
        assert "Notes keeps stopping" in broken.stdout, broken.stdout
        fixed = run_generated_test(script, tmp_path, appium_server, "notes-fixed")
        assert fixed.returncode == 0, f"{fixed.stdout}{fixed.stderr}\n{script}"


def test_the_report_is_junit_with_a_failing_case_per_crash_and_one_per_accessibility_rule(api, crashed):
    run_id, events = crashed
    findings = findings_of(api, run_id)
    answer = api.get(f"/run/{run_id}/report.xml")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    suites = ET.fromstring(answer.content).findall("testsuite")
    assert len(suites) == 1
    cases = {case.get("name"): case for case in suites[0].findall("testcase")}
    problems = [f for f in findings if f["kind"] in ("crash", "anr")]
    for problem in problems:
        assert cases[problem["title"]].find("failure") is not None
    assert RULES <= set(cases)
    a11y_rules = {f["details"]["rule"] for f in findings if f["kind"] == "accessibility"}
    for rule in RULES:
        assert (cases[rule].find("failure") is not None) == (rule in a11y_rules), rule
    assert cases["exploration"].find("failure") is None
    assert int(suites[0].get("failures")) == len(problems) + len(a11y_rules)
    properties = {p.get("name"): p.get("value") for p in suites[0].iter("property")}
    assert properties["runId"] == run_id and properties["status"] == "completed"
    assert int(properties["metrics.steps"]) == events[-1]["data"]["metrics"]["steps"]


def test_an_accessibility_finding_has_no_test(api, crashed):
    run_id, _ = crashed
    finding = a_finding(api, run_id, "accessibility")
    answer = api.get(f"/run/{run_id}/findings/{finding['findingId']}/test.py")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_an_unknown_finding_or_run_is_not_found(api, crashed):
    run_id, _ = crashed
    unknown_finding = api.get(f"/run/{run_id}/findings/{'0' * 16}/test.py")
    assert unknown_finding.status_code == 404 and unknown_finding.json()["code"] == "not_found"
    for path in ("findings", f"findings/{'0' * 16}/test.py", "report.xml"):
        unknown_run = api.get(f"/run/{ULID()}/{path}")
        assert unknown_run.status_code == 404 and unknown_run.json()["code"] == "not_found", path
        invalid = api.get(f"/run/not-a-run/{path}")
        assert invalid.status_code == 400, path


def test_another_tenant_s_findings_are_not_found(keyed_api_url, appium_server):
    with httpx.Client(base_url=keyed_api_url, headers={"Authorization": "Bearer acme-key"}, timeout=30) as acme, \
            httpx.Client(base_url=keyed_api_url, headers={"Authorization": "Bearer globex-key"}, timeout=30) as globex:
        run_id = start(acme, start_body(appium_server, app="notes", maxSteps=1))
        assert acme.get(f"/run/{run_id}/findings").status_code == 200
        assert acme.get(f"/run/{run_id}/report.xml").status_code == 200
        for path in ("findings", f"findings/{'0' * 16}/test.py", "report.xml"):
            answer = globex.get(f"/run/{run_id}/{path}")
            assert answer.status_code == 404 and answer.json()["code"] == "not_found", path
        read_stream(acme, run_id)  # to its end: the device is free for the next test

