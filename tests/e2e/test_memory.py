"""Runs that remember (DESIGN.md "Memory across runs"), through the real service and simulator: the app's map,
a warm run of the same version, a warm run of the next version (findings new, known and fixed, the drift), and
what the service refuses. The three runs are the session's (tests/fixtures/memory.py: settings 34 cold, then
warm, then 35 warm, under a package of their own); the pages' tests look at the same ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from ulid import ULID

from tests.fixtures.memory import app_copy, run_to_end
from tests.fixtures.service import start_body

BATTERY = ".battery.BatterySaverActivity"


def named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["event"] == name]


def test_a_warm_run_of_the_same_version_needs_a_fraction_of_the_steps(api, three_runs):
    cold, warm = three_runs["cold"]["end"], three_runs["warm"]["end"]
    assert cold["stopReason"] == warm["stopReason"] == "explored"
    assert warm["metrics"]["steps"] <= 0.4 * cold["metrics"]["steps"], (warm["metrics"], cold["metrics"])
    # What it did not visit it knew: every screen the cold run discovered is visited or known
    assert (warm["metrics"]["screensDiscovered"] + warm["metrics"]["knownFromMemory"]
            >= cold["metrics"]["screensDiscovered"])
    assert "knownFromMemory" not in cold["metrics"]
    [recalled] = named(three_runs["warm"]["events"], "agent.memory.recalled")
    assert (recalled["runs"], recalled["sameVersion"], recalled["cold"]) == (1, True, False)


def test_the_first_warm_run_of_an_app_runs_cold_and_says_so_and_its_map_outlives_its_model(api, appium_server, user_apps_dir):
    app = {"package": "com.example.memoryfirst" + str(ULID())[-6:].lower()}
    app["v1"] = app_copy(user_apps_dir, "notes", app["package"])
    _, events = run_to_end(api, appium_server, app, "v1", memory="warm", maxSteps=3, appActivity=".ConsentActivity")
    [recalled] = named(events, "agent.memory.recalled")
    assert (recalled["runs"], recalled["cold"], recalled["screens"]) == (0, True, 0)
    assert "starts cold" in recalled["note"]
    assert events[-1]["data"]["metrics"]["knownFromMemory"] == 0
    # Its model broken afterwards (a truncated file): the map answers from the events all the same
    Path(app["v1"]).write_text('{"package": "com.exa')
    answer = api.get(f"/apps/{app['package']}/map")
    assert answer.status_code == 200, answer.text
    assert [(v["versionCode"], v["runs"]) for v in answer.json()["versions"]] == [(7, 1)]
    assert answer.json()["screens"], "the run's screens are on the map"


def test_the_map_holds_both_versions_with_their_screens_and_findings(api, three_runs, settings_app):
    answer = api.get(f"/apps/{settings_app['package']}/map")
    assert answer.status_code == 200, answer.text
    app_map = answer.json()
    assert [(v["version"], v["versionName"], v["runs"]) for v in app_map["versions"]] == [("34", "14.0", 2),
                                                                                         ("35", "15.0", 1)]
    assert app_map["versions"][0]["firstRunId"] == three_runs["cold"]["id"]
    battery = [s for s in app_map["screens"] if s["activity"] == BATTERY]
    assert battery and all(s["versions"] == ["35"] for s in battery)
    findings = {f["title"]: f for f in app_map["findings"]}
    assert any(f["versions"] == ["34", "35"] and f["kind"] == "anr" for f in findings.values()), findings
    crashes = {tuple(f["versions"]) for f in findings.values() if f["kind"] == "crash"}
    assert crashes == {("34",), ("35",)}  # the bug report's, fixed in 35; the battery's, new in 35


def test_the_next_version_knows_which_findings_are_new_known_and_fixed(api, three_runs):
    cold, nxt = three_runs["cold"], three_runs["next"]
    findings = api.get(f"/run/{nxt['id']}/findings").json()["findings"]
    history = {(f["kind"], f["activity"]): f["history"] for f in findings if f["kind"] != "accessibility"}
    assert history[("crash", BATTERY)] == {"status": "new"}
    assert history[("anr", ".applications.AppInfoActivity")] == {
        "status": "known", "firstVersion": "34", "firstRunId": cold["id"]}
    run = api.get(f"/run/{nxt['id']}").json()
    [fixed] = run["fixed"]
    assert (fixed["kind"], fixed["lastVersion"]) == ("crash", "34") and "bug" in fixed["title"].lower()
    assert named(nxt["events"], "agent.finding.fixed")[0]["signature"] == fixed["signature"]
    assert run["app"]["version"] == {"versionCode": 35, "versionName": "15.0"} and run["memory"] == "warm"
    report = api.get(f"/run/{nxt['id']}/report.xml").text
    assert 'classname="runservice.crash.new"' in report and 'classname="runservice.anr.known"' in report


def test_the_next_version_shows_what_changed_against_the_last_whole_run_of_the_previous_one(api, three_runs):
    run = api.get(f"/run/{three_runs['next']['id']}").json()
    drift = run["drift"]
    # The warm run of 34 explored only what the map did not know: the cold one is the base
    assert (drift["base"], drift["head"]) == (three_runs["cold"]["id"], three_runs["next"]["id"])
    assert drift["activitiesAdded"] == [BATTERY] and drift["activitiesRemoved"] == []
    changed = {c["activity"]: c["elementsAdded"] for c in drift["screensChanged"]}
    assert any("Battery" in line for line in changed[".SettingsActivity"])
    assert api.get(f"/run/{three_runs['cold']['id']}").json()["drift"] is None


def test_runs_list_their_version_and_memory(api, three_runs):
    rows = {r["run_id"]: r for r in api.get("/runs", params={"limit": 500}).json()["runs"]}
    assert rows[three_runs["next"]["id"]]["version"] == {"versionCode": 35, "versionName": "15.0"}
    assert (rows[three_runs["warm"]["id"]]["memory"], rows[three_runs["cold"]["id"]]["memory"]) == ("warm", "cold")


def test_bad_memory_an_unknown_app_and_another_tenants_map_are_refused(api, appium_server, settings_app, three_runs,
                                                                      keyed_api_url):
    answer = api.post("/run", json=start_body(appium_server, memory="hot"))
    assert answer.status_code == 400 and answer.json()["details"][0]["field"] == "memory", answer.text
    assert api.get("/apps/not a package/map").status_code == 400
    assert api.get("/apps/com.example.neverrun/map").status_code == 404
    # The module's runs are the local tenant's: tenant acme has no map of that app
    with httpx.Client(base_url=keyed_api_url, headers={"Authorization": "Bearer acme-key"}, timeout=30) as acme:
        answer = acme.get(f"/apps/{settings_app['package']}/map")
    assert answer.status_code == 404 and settings_app["package"] in answer.text
