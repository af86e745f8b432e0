"""Idempotent start over HTTP (DESIGN.md "Idempotent start"): POST /run with an Idempotency-Key."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from ulid import ULID

from tests.fixtures.service import KEYS, start_body, wait_for

CONCURRENT = 20


def post(client: httpx.Client, body: dict, key: str | None) -> httpx.Response:
    return client.post("/run", json=body, headers={"Idempotency-Key": key} if key is not None else {})


def runs_listed(api: httpx.Client, max_steps: int) -> set[str]:
    """Runs with this (test-unique) maxSteps, as the runs table lists them once projected."""
    rows = api.get("/runs", params={"limit": 500}).json()["runs"]
    return {r["run_id"] for r in rows if r["max_steps"] == max_steps}


def test_twenty_concurrent_starts_with_one_key_create_exactly_one_run(service, api, appium_server):
    body = start_body(appium_server, maxSteps=917, goal="never reached")  # a maxSteps no other test uses
    key = f"burst-{ULID()}"
    barrier = threading.Barrier(CONCURRENT)

    def start(_: int) -> httpx.Response:
        with httpx.Client(base_url=service.api_url, timeout=60) as client:  # a connection each
            barrier.wait()
            return post(client, body, key)

    with ThreadPoolExecutor(CONCURRENT) as pool:
        responses = list(pool.map(start, range(CONCURRENT)))

    assert sorted(r.status_code for r in responses) == [200] * (CONCURRENT - 1) + [201], \
        [(r.status_code, r.text) for r in responses]
    answers = {(r.json()["runId"], r.json()["createdAt"]) for r in responses}
    assert len(answers) == 1
    [(run_id, _)] = answers
    api.post(f"/run/{run_id}/cancel")  # ends it: it could only wait for a device
    stream = api.get(f"/run/{run_id}/stream", timeout=30).text
    assert stream.count("event: run.queued") == 1
    again = post(api, body, key)
    assert (again.status_code, again.json()["runId"]) == (200, run_id)
    assert wait_for(lambda: runs_listed(api, 917), 30, "the run in the runs table") == {run_id}


def test_the_same_key_with_another_body_is_409_and_starts_nothing(api, appium_server):
    key = f"other-body-{ULID()}"
    first = post(api, start_body(appium_server, maxSteps=3), key)
    assert first.status_code == 201

    other = post(api, start_body(appium_server, maxSteps=4), key)

    assert other.status_code == 409
    assert other.json()["code"] == "failed_precondition"
    assert "Idempotency-Key" in other.json()["message"] and "different request body" in other.json()["message"]
    assert post(api, start_body(appium_server, maxSteps=3), key).json()["runId"] == first.json()["runId"]
    api.post(f"/run/{first.json()['runId']}/cancel")


def test_without_a_key_every_start_is_a_new_run(api, appium_server):
    body = start_body(appium_server)
    first, second = post(api, body, None), post(api, body, None)
    assert first.status_code == second.status_code == 201
    assert first.json()["runId"] != second.json()["runId"]
    for r in (first, second):
        api.post(f"/run/{r.json()['runId']}/cancel")


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "café"], ids=["empty", "too-long", "control", "non-ascii"])
def test_a_malformed_key_is_400_naming_the_header(api, appium_server, key):
    response = api.post("/run", json=start_body(appium_server),
                        headers={"Idempotency-Key": key.encode("utf-8")})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_argument"
    assert [p["field"] for p in response.json()["details"]] == ["Idempotency-Key"]


def test_keys_belong_to_their_tenant(keyed_api_url, appium_server):
    clients = {tenant: httpx.Client(base_url=keyed_api_url, timeout=30, headers={"Authorization": f"Bearer {key}"})
               for key, tenant in KEYS.items()}
    try:
        body, key = start_body(appium_server), f"shared-{ULID()}"
        acme, globex = post(clients["acme"], body, key), post(clients["globex"], body, key)
        assert acme.status_code == globex.status_code == 201
        assert acme.json()["runId"] != globex.json()["runId"]
        for tenant, response in (("acme", acme), ("globex", globex)):
            clients[tenant].post(f"/run/{response.json()['runId']}/cancel")
    finally:
        for client in clients.values():
            client.close()
