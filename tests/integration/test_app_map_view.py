"""The app map's projection on PostgreSQL (storage/app_map_view.py), kept by a runner a page of the log at a
time: runs of one app by version, what a warm run recalls, findings new or known, a rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ulid import ULID

from actors.projector import app_map_runner
from domain.app_map import AppMapProjection
from domain.application import RunRequest, RunService
from domain.run import Run
from storage.app_map_view import AppMapView
from storage.schema import create_tables

WAIT_SECONDS = 10
PACKAGE = "com.example.shop"
V12, V13 = {"versionCode": 12, "versionName": "3.2.1"}, {"versionCode": 13, "versionName": "3.3.0"}


@pytest.fixture
def view(pg_env: dict[str, str]) -> Iterator[AppMapView]:
    runner = app_map_runner(pg_env)
    with runner:
        yield runner
    runner.view.datastore.close()


def caught_up(view: Any, runs: RunService) -> None:
    found = runs.recorder.select_notifications(start=None, limit=1_000_000, topics=AppMapProjection.topics)
    view.wait(found[-1].id, timeout=WAIT_SECONDS)


def a_run(runs: RunService, version: dict[str, Any] | None, tenant: str = "acme", memory: str = "cold",
          package: str = PACKAGE) -> str:
    run = runs.request_run(RunRequest("/apps/shop.json", "http://127.0.0.1:4723", package, ".ShopHomeActivity",
                                      tenant_id=tenant, memory=memory, app_version=version))
    run_id = str(ULID.from_uuid(run.id))
    runs.start_run(run_id, "device-sim-0/ABCDEFGH", lease_seconds=30)
    return run_id


def step(runs: RunService, run_id: str, n: int, screen: str, offered: list[str], action: str | None = None,
         to: str | None = None, left_to: str | None = None) -> None:
    """One step: the screen perceived and enumerated, an action taken and where it led."""
    runs.record(run_id, Run.record_screen, step_ordinal=n, screen_id=screen, activity=f".{screen}", package=PACKAGE,
                element_count=len(offered), artifacts={}, elements=[f"Button#{a}" for a in offered])
    runs.start_node(run_id, "EnumerateActions", n)
    runs.finish_node(run_id, "EnumerateActions", n, "SUCCESS", actionIds=offered)
    if action:
        shown = {"kind": "tap", "label": action, "action_id": action}
        runs.record(run_id, Run.record_action, step_ordinal=n, screen_id=screen, action=shown)
        if to or left_to:
            runs.record(run_id, Run.discover_transition, step_ordinal=n, from_screen=screen, action=shown,
                        to_screen=to, left_to=left_to)


def crash(runs: RunService, run_id: str, signature: str, n: int = 3) -> None:
    runs.record(run_id, Run.detect_finding, finding_id=f"f-{signature}", kind="crash", title=f"crash {signature}",
                signature=signature, step_ordinal=n, screen_id="cart", activity=".cart", action_id="tap:pay",
                details={}, artifacts={})
    runs.record(run_id, Run.record_reproduction, finding_id=f"f-{signature}", attempts=2, reproduced=2,
                steps=[{"kind": "tap", "actionId": "tap:pay", "fromScreen": "cart", "toScreen": None}])


def explored_v12(runs: RunService) -> str:
    run_id = a_run(runs, V12)
    step(runs, run_id, 1, "home", ["tap:cart", "tap:terms"], "tap:cart", to="cart")
    step(runs, run_id, 2, "cart", ["tap:pay", "tap:back"], "tap:back", to="home")
    step(runs, run_id, 3, "home", ["tap:cart", "tap:terms"], "tap:terms", left_to="com.android.chrome")
    step(runs, run_id, 4, "cart", ["tap:pay", "tap:back"], "tap:pay")
    crash(runs, run_id, "sig-pay")
    runs.complete_run(run_id, "explored", {"steps": 4})
    return run_id


def test_the_map_keeps_screens_actions_and_findings_by_version(runs, view):
    first = explored_v12(runs)
    second = a_run(runs, V13, memory="warm")
    step(runs, second, 1, "home2", ["tap:cart", "tap:gifts"], "tap:gifts", to="gifts")
    caught_up(view, runs)
    app_map = view.view.app_map("acme", PACKAGE)
    assert [(v["version"], v["versionName"], v["runs"], v["firstRunId"]) for v in app_map["versions"]] == [
        ("12", "3.2.1", 1, first), ("13", "3.3.0", 1, second)]
    screens = {s["screenId"]: s for s in app_map["screens"]}
    assert set(screens) == {"home", "cart", "home2"}  # perceived ones: "gifts" was only where an action led
    assert screens["home"]["versions"] == ["12"] and screens["home2"]["versions"] == ["13"]
    assert screens["cart"]["elements"] == ["Button#tap:back", "Button#tap:pay"]
    outcomes = {(a["screenId"], a["actionId"]): a["outcomes"] for a in app_map["actions"]}
    assert outcomes == {("home", "tap:cart"): {"12": ["screen:cart"]}, ("cart", "tap:back"): {"12": ["screen:home"]},
                        ("home", "tap:terms"): {"12": ["left:com.android.chrome"]},
                        ("cart", "tap:pay"): {"12": ["crash"]}, ("home2", "tap:gifts"): {"13": ["screen:gifts"]}}
    [finding] = app_map["findings"]
    assert (finding["signature"], finding["firstRunId"], finding["versions"]) == ("sig-pay", first, ["12"])


def test_another_tenant_and_another_app_have_no_map(runs, view):
    explored_v12(runs)
    caught_up(view, runs)
    assert view.view.app_map("other-tenant", PACKAGE) is None
    assert view.view.app_map("acme", "com.example.other") is None


def test_a_warm_run_of_the_same_version_recalls_what_was_tried_and_where_it_led(runs, view):
    explored_v12(runs)
    warm = a_run(runs, V12, memory="warm")
    caught_up(view, runs)
    recall = view.view.recall(view.view.run_of(warm))
    assert (recall.runs, recall.version, recall.same_version, recall.base_run_id) == (1, "12", True, None)
    history = recall.history
    assert history.offered == {"home": {"tap:cart", "tap:terms"}, "cart": {"tap:pay", "tap:back"}}
    assert set(history.tried) == {("home", "tap:cart"), ("cart", "tap:back"), ("home", "tap:terms"),
                                  ("cart", "tap:pay")}
    assert set(history.transitions) == {("home", "tap:cart", "cart"), ("cart", "tap:back", "home")}
    assert history.left == {("home", "tap:terms")}


def test_a_new_version_recalls_the_previous_one_and_its_latest_run_is_the_drift_base(runs, view):
    older = explored_v12(runs)
    latest = explored_v12(runs)
    newer = a_run(runs, V13, memory="warm")
    caught_up(view, runs)
    recall = view.view.recall(view.view.run_of(newer))
    assert (recall.runs, recall.version, recall.same_version, recall.base_run_id) == (2, "12", False, latest)
    assert older != latest


def test_the_first_run_of_an_app_recalls_nothing(runs, view):
    only = a_run(runs, V12, memory="warm")
    caught_up(view, runs)
    recall = view.view.recall(view.view.run_of(only))
    assert (recall.runs, recall.screens) == (0, set())
    assert "starts cold" in recall.note(PACKAGE)


def test_findings_are_new_the_first_time_and_known_after_with_where_they_were_first_met(runs, view):
    first = explored_v12(runs)
    later = a_run(runs, V13)
    crash(runs, later, "sig-pay")
    crash(runs, later, "sig-new", n=5)
    caught_up(view, runs)
    assert view.view.finding_history(view.view.run_of(first)) == {"sig-pay": {"status": "new"}}
    assert view.view.finding_history(view.view.run_of(later)) == {
        "sig-pay": {"status": "known", "firstVersion": "12", "firstRunId": first}, "sig-new": {"status": "new"}}
    older = view.view.older_findings(view.view.run_of(later))
    assert [(f["signature"], f["version"], f["run_id"]) for f in older] == [("sig-pay", "12", first)]
    assert older[0]["steps"][0]["actionId"] == "tap:pay"


def test_a_run_without_a_version_is_a_version_of_its_own(runs, view):
    run_id = a_run(runs, None)
    caught_up(view, runs)
    assert view.view.app_map("acme", PACKAGE)["versions"][0]["version"] == run_id


def test_dropping_the_tables_and_replaying_rebuilds_the_map_identically(runs, view, pg_env, database_url):
    explored_v12(runs)
    step(runs, a_run(runs, V13), 1, "home2", ["tap:gifts"], "tap:gifts", to="gifts")
    caught_up(view, runs)
    before = view.view.all_rows()
    view.close()
    view.view.drop_tables()
    view.view.datastore.close()
    create_tables(database_url)  # what the service does at start-up
    rebuilt = app_map_runner(pg_env)
    with rebuilt:
        caught_up(rebuilt, runs)
        assert rebuilt.view.all_rows() == before
    rebuilt.view.datastore.close()
