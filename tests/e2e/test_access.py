"""Who may start what: registered servers, app roots, API keys and tenants, over HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.service import read_stream, start_body


def test_a_run_may_not_name_files_outside_the_app_roots(api, appium_server):
    answer = api.post("/run", json=start_body(appium_server, apkPath="/etc/passwd"))
    assert answer.status_code == 400 and answer.json()["details"][0]["field"] == "apkPath"
    assert "apkPath" in answer.json()["message"]


def test_a_run_may_not_name_an_unregistered_appium_server(api, appium_server):
    answer = api.post("/run", json=start_body(appium_server, appiumServerUrl="http://10.1.2.3:4723"))
    assert answer.status_code == 400 and "appiumServerUrl" in answer.json()["message"]


def test_oversized_bodies_are_refused_before_they_are_read(api, appium_server):
    answer = api.post("/run", json=start_body(appium_server, goal="x" * 70_000))
    assert answer.status_code == 413 and answer.json()["code"] == "invalid_argument"


@pytest.fixture
def as_tenant(keyed_api_url):
    clients = []

    def client(key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        clients.append(httpx.Client(base_url=keyed_api_url, headers=headers, timeout=30))
        return clients[-1]

    yield client
    for c in clients:
        c.close()


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_a_missing_or_wrong_key_is_unauthenticated(as_tenant, appium_server, key):
    answer = as_tenant(key).post("/run", json=start_body(appium_server))
    assert answer.status_code == 401 and answer.json()["code"] == "unauthenticated"


def test_a_tenant_sees_streams_and_cancels_only_its_own_runs(as_tenant, appium_server):
    acme, globex = as_tenant("acme-key"), as_tenant("globex-key")
    run_id = acme.post("/run", json=start_body(appium_server, maxSteps=2)).json()["runId"]
    for method, path in [("GET", ""), ("POST", "/cancel"), ("GET", "/stream"), ("GET", "/graph")]:
        assert globex.request(method, f"/run/{run_id}{path}").status_code == 404
    assert run_id not in [r["run_id"] for r in globex.get("/runs").json()["runs"]]
    assert read_stream(acme, run_id)[-1]["event"] == "run.completed"
    assert acme.get(f"/run/{run_id}").json()["status"] == "completed"
    listed = acme.get("/runs").json()["runs"]
    assert {r["tenant_id"] for r in listed} == {"acme"} and run_id in [r["run_id"] for r in listed]
