"""The client's side of a run's memory (issue 31), without the service: the start body, the Run and Finding fields
a warm run adds (and their defaults from a service without them), the --fail-on selection, and the app's map."""

from __future__ import annotations

import json
import re

import pytest

from runservice_client import AppMap, FailingFindings, Finding, FindingHistory, Findings, Run, calls
from runservice_client.cli_format import app_map_lines, findings_table, run_lines
from runservice_client.memory import version_label
from runservice_client.models import fail_on_kinds

SPEC = {"apk_path": "/apps/shop.json", "appium_server_url": "http://127.0.0.1:4723",
        "package_name": "com.example.shop", "app_activity": ".ShopHomeActivity", "max_steps": None}
RUN = "01KAAAAAAAAAAAAAAAAAAAAAAA"
OLD_RUN = "01K9999999999999999999999Z"
FIXED = {"signature": "a1b2c3", "kind": "crash", "title": "NullPointerException: sync", "lastVersion": "12",
         "lastRunId": OLD_RUN}
DRIFT = {"base": OLD_RUN, "head": RUN, "screensAdded": ["s9", "s10"], "screensRemoved": ["s3"],
         "screensChanged": ["s1"], "transitionsAdded": ["t1"], "transitionsRemoved": [], "activitiesAdded": [".New"],
         "activitiesRemoved": []}
WARM = {"runId": RUN, "status": "completed", "memory": "warm", "fixed": [FIXED], "drift": DRIFT,
        "app": {"packageName": "com.example.shop", "version": {"versionCode": 13, "versionName": "3.3.0"}},
        "metrics": {"steps": 20, "knownFromMemory": 7}}
MAP = {"package": "com.example.shop",
       "versions": [{"version": "12", "versionCode": 12, "versionName": "3.2.1", "runs": 2, "firstRunId": "r1",
                     "lastRunId": "r2"},
                    {"version": "13", "versionCode": 13, "versionName": "3.3.0", "runs": 1, "firstRunId": "r3",
                     "lastRunId": "r3"}],
       "screens": [{"screenId": "home", "activity": ".Home", "elements": [], "versions": ["12", "13"]},
                   {"screenId": "cart", "activity": ".Cart", "elements": [], "versions": ["12"]},
                   {"screenId": "wish", "activity": ".Wish", "elements": [], "versions": ["13"]},
                   {"screenId": "deal", "activity": ".Deal", "elements": [], "versions": ["13"]}],
       "actions": [{"screenId": "home", "actionId": "a1", "kind": "click", "label": "Cart",
                    "outcomes": {"12": ["screen:cart"], "13": ["crashed"]}}],
       "findings": [{"signature": "a1b2c3", "kind": "crash", "title": "NullPointerException: sync", "versions": ["12"],
                     "runs": 2, "firstRunId": "r1", "firstVersion": "12", "lastRunId": "r2", "lastVersion": "12"}]}


def finding(finding_id: str, kind: str, history: dict | None) -> Finding:
    data = {"findingId": finding_id, "kind": kind, "title": f"{kind} {finding_id}", "occurrences": 1, "firstStep": 3}
    return Finding(data if history is None else {**data, "history": history})


NEW = {"status": "new"}
KNOWN = {"status": "known", "firstVersion": "12", "firstRunId": OLD_RUN}
FOUND = Findings([finding("c-new", "crash", NEW), finding("c-old", "crash", KNOWN), finding("a-new", "anr", NEW),
                  finding("x-old", "accessibility", KNOWN)])


def ids(findings: Findings) -> list[str]:
    return [f.id for f in findings]


def test_a_cold_start_body_is_the_same_as_before_memory_and_a_warm_one_says_so():
    before = calls.start(SPEC, "k").json  # the body of a start that names no memory

    assert calls.start({**SPEC, "memory": "cold"}, "k").json == before and "memory" not in before
    assert calls.start({**SPEC, "memory": None}, "k").json == before
    assert calls.start({**SPEC, "memory": "warm"}, "k").json == {**before, "memory": "warm"}
    assert calls.start({**SPEC, "memory": "hot"}, "k").json["memory"] == "hot"  # the service refuses it, in words


def test_the_app_map_call_is_a_get_of_the_package_s_map():
    call = calls.app_map("com.example.shop")

    assert (call.method, call.path, call.answer) == ("GET", "/apps/com.example.shop/map", "json")
    assert calls.app_map("a/b").path == "/apps/a%2Fb/map"  # a package never has one, but a path is not built from it


def test_a_warm_run_shows_its_memory_version_fixed_drift_and_what_it_knew():
    run = Run(WARM)

    assert (run.memory, run.version, run.version_label) == ("warm", {"versionCode": 13, "versionName": "3.3.0"},
                                                            "3.3.0 (13)")
    assert (run.fixed, run.drift, run.known_from_memory) == ([FIXED], DRIFT, 7)
    assert "version <b>3.3.0 (13)</b>" in run._repr_html_() and "memory <b>warm</b>" in run._repr_html_()


def test_a_run_from_a_service_without_memory_is_cold_with_nothing_remembered():
    run = Run({"runId": RUN, "status": "completed", "app": {"packageName": "com.example.shop"},
               "metrics": {"steps": 3}})

    assert (run.memory, run.version, run.version_label, run.fixed, run.drift, run.known_from_memory) == \
        ("cold", None, None, [], None, None)
    assert Run({"runId": RUN, "version": {"versionCode": 4, "versionName": None}}).version_label == "4"  # a runs row


@pytest.mark.parametrize(("version", "label"), [
    ({"versionCode": 13, "versionName": "3.3.0"}, "3.3.0 (13)"), ({"versionCode": 0, "versionName": None}, "0"),
    ({"versionCode": None, "versionName": "beta"}, "beta"), ({"versionCode": None, "versionName": None}, None),
    (None, None)])
def test_a_version_reads_as_name_and_code_or_whichever_is_known(version, label):
    assert version_label(version) == label


def test_a_finding_s_history_says_new_or_known_since_a_version():
    new, known, unsaid = finding("1", "crash", NEW), finding("2", "crash", KNOWN), finding("3", "crash", None)

    assert (new.history, new.is_new, new.history.label) == (FindingHistory("new"), True, "new")
    assert known.history == FindingHistory("known", "12", OLD_RUN) and not known.is_new
    assert known.history.label == "known since 12" and "known since 12" in known._repr_html_()
    # A service from before finding history: nothing shows an earlier run met it, so "new" fails on it.
    assert (unsaid.history, unsaid.is_new) == (None, True)


@pytest.mark.parametrize(("fail_on", "failing"), [
    ("crash", ["c-new", "c-old"]),  # as before history: every crash
    ("crash,anr", ["c-new", "c-old", "a-new"]),
    ("new", ["c-new", "a-new"]),  # new ones of any kind
    ("crash,new", ["c-new"]),  # crashes that are new
    (" accessibility , new ", []),
    (["anr", "new"], ["a-new"]),  # an iterable of names, as wait(fail_on=...) takes it
    (None, []), ((), [])])
def test_fail_on_selects_by_kind_and_with_new_only_new_findings(fail_on, failing):
    assert ids(FOUND.failing(fail_on)) == failing
    assert isinstance(FOUND.failing(fail_on), Findings)


def test_fail_on_new_counts_findings_without_history_as_new():
    old_service = Findings([finding("c", "crash", None), finding("x", "accessibility", None)])

    assert ids(old_service.failing("crash")) == ["c"] and ids(old_service.failing("crash,new")) == ["c"]


def test_fail_on_names_an_unknown_kind_and_the_known_ones():
    assert fail_on_kinds("crash, new") == ("crash", "new") and fail_on_kinds(None) == ()
    with pytest.raises(ValueError, match="unknown finding kind 'freeze': expected some of crash, anr, accessibility, new"):
        fail_on_kinds("crash,freeze")
    with pytest.raises(ValueError, match="unknown finding kind ''"):
        FOUND.failing("crash,")


def test_failing_findings_carry_the_run_and_say_what_failed_it():
    run = Run({"runId": RUN, "status": "completed"})
    error = FailingFindings(run, FOUND.failing("new"), ("new",))

    assert (error.run, ids(error.findings), error.fail_on) == (run, ["c-new", "a-new"], ("new",))
    assert str(error) == f"run {RUN} (completed) found crash 1, anr 1: fail on new"


def test_get_shows_the_version_memory_what_was_known_and_each_fixed_crash():
    lines = run_lines(Run(WARM))

    assert {"memory: warm", "app.version: 3.3.0 (13)", "metrics.knownFromMemory: 7",
            f"fixed.a1b2c3: crash NullPointerException: sync (last in 12, run {OLD_RUN})",
            f"drift: from run {OLD_RUN}: screens +2 -1, transitions +1 -0, activities +1 -0, screens changed 1"} <= \
        set(lines), lines
    assert not [line for line in lines if line.startswith(("fixed:", "drift.", "app.version: {"))]


def test_get_of_a_cold_run_adds_nothing_but_its_memory_and_an_unknown_version():
    cold = Run({"runId": RUN, "status": "completed", "memory": "cold", "fixed": [], "drift": None,
                "app": {"packageName": "com.example.shop", "version": None}, "metrics": {"steps": 3}})

    lines = run_lines(cold)

    assert "memory: cold" in lines and "app.version: unknown" in lines
    assert not [line for line in lines if line.startswith(("fixed", "drift"))]


def table_rows(text: str) -> list[dict[str, str]]:
    """A table of cli_format's as rows by column head: columns are two or more spaces apart."""
    head, *lines = text.strip().splitlines()
    names = re.split(r"\s{2,}", head)
    return [dict(zip(names, re.split(r"\s{2,}", line), strict=True)) for line in lines]


def test_the_findings_table_has_a_history_column_when_the_service_says():
    rows = table_rows(findings_table(FOUND))

    assert [(row["FINDING"], row["HISTORY"]) for row in rows] == [
        ("c-new", "NEW"), ("c-old", "known since 12"), ("a-new", "NEW"), ("x-old", "known since 12")]
    old = findings_table(Findings([finding("c", "crash", None)]))
    assert re.split(r"\s{2,}", old.splitlines()[0]) == ["FINDING", "KIND", "TITLE", "OCCURRENCES", "REPRODUCED",
                                                         "FIRST STEP"]  # as before finding history


def test_the_app_map_counts_screens_per_version_and_reads_as_tables():
    app_map = AppMap(MAP)

    assert (app_map.package, len(app_map.versions), len(app_map.actions)) == ("com.example.shop", 2, 1)
    assert app_map.screens_per_version() == {"12": 2, "13": 3}
    head, _, versions, *rest = app_map_lines(app_map)
    assert head == "com.example.shop: 2 versions, 4 screens, 1 action, 1 finding"
    assert [(r["VERSION"], r["NAME"], r["RUNS"], r["SCREENS"]) for r in table_rows(versions)] == [
        ("12", "3.2.1", "2", "2"), ("13", "3.3.0", "1", "3")]
    found = table_rows(rest[1])
    assert [(r["KIND"], r["FIRST"], r["LAST"], r["RUNS"]) for r in found] == [("crash", "12", "12", "2")]
    assert "<b>com.example.shop</b>" in app_map._repr_html_() and json.loads(json.dumps(app_map)) == MAP


def test_an_app_map_without_findings_or_screens_still_reads():
    app_map = AppMap({"package": "p.q", "versions": [{"version": "r1", "versionCode": None, "versionName": None,
                                                      "runs": 1, "firstRunId": "r1", "lastRunId": "r1"}]})

    assert app_map.screens_per_version() == {"r1": 0} and app_map.findings == [] and app_map.screens == []
    assert len(app_map_lines(app_map)) == 3  # head, blank, versions: no findings table
