"""Extra capabilities (DESIGN.md "Time and faults"), the API's part, over HTTP against the whole service: `POST /run`'s
`capabilities` are the run's configuration, shown on `GET /run/{id}` and kept out of the stream; the ones the run
sets itself are a 400 naming them; and they are part of an idempotent start's body."""

from __future__ import annotations

import json
from typing import Any

import httpx
from ulid import ULID

from tests.e2e.test_idempotency import post
from tests.fixtures.service import read_stream, start, start_body

SEED = {"appium:simSeed": 3}  # the simulator takes it: it seeds the draws of crash rules' probabilities


def stream_of(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    """The data of each of the run's events, to its terminal one: the server closes the stream after it."""
    return [event["data"] for event in read_stream(api, run_id)]


def ended(api: httpx.Client, run_id: str) -> None:
    """Cancels the run (it frees its device sooner) and waits for its end; 409: it had already ended."""
    assert api.post(f"/run/{run_id}/cancel").status_code in (200, 409)
    stream_of(api, run_id)


def test_a_run_with_a_capability_shows_it_and_completes_with_it_but_its_stream_does_not(api, appium_server):
    run_id = start(api, start_body(appium_server, maxSteps=2, capabilities=SEED))

    shown = api.get(f"/run/{run_id}")

    assert shown.status_code == 200, shown.text
    assert shown.json()["capabilities"] == SEED
    events = stream_of(api, run_id)
    assert events and events[0]["runId"] == run_id
    assert not [e for e in events if "capabilities" in e or "appium:simSeed" in json.dumps(e)], \
        "the run's configuration is not streamed"
    after = api.get(f"/run/{run_id}").json()
    # the simulator opened the session with it: a capability it refused would have failed the run's launch
    assert (after["status"], after["stopReason"]) == ("completed", "max_steps"), after
    assert after["capabilities"] == SEED


def test_left_out_a_run_shows_none(api, appium_server):
    run_id = start(api, start_body(appium_server, maxSteps=1))

    assert api.get(f"/run/{run_id}").json()["capabilities"] == {}
    ended(api, run_id)


def test_a_capability_the_run_sets_is_a_400_that_names_it_and_starts_nothing(api, appium_server):
    key = f"run-set-{ULID()}"
    body = start_body(appium_server, maxSteps=1,
                      capabilities={**SEED, "appium:app": "/elsewhere/other.apk", "udid": "emulator-5554"})

    refused = post(api, body, key)

    assert refused.status_code == 400, refused.text
    answer = refused.json()
    assert answer["code"] == "invalid_argument"
    assert answer["message"] == "invalid fields: capabilities.appium:app, capabilities.udid"
    problems = {d["field"]: d["problem"] for d in answer["details"]}
    assert problems["capabilities.appium:app"].startswith("appium:app is set by the run itself")
    assert "vendor-prefixed" in problems["capabilities.udid"]
    # nothing was started under the key: the same key with good capabilities starts a run
    started = post(api, {**body, "capabilities": {**SEED, "appium:udid": "emulator-5554"}}, key)
    assert started.status_code == 201, started.text
    ended(api, started.json()["runId"])


def test_too_many_or_not_an_object_is_a_400(api, appium_server):
    too_many = api.post("/run", json=start_body(appium_server, capabilities={f"appium:c{i}": i for i in range(51)}))
    a_list = api.post("/run", json=start_body(appium_server, capabilities=["appium:simSeed", 3]))

    assert too_many.status_code == 400 and too_many.json()["details"] == [
        {"field": "capabilities", "problem": "at most 50 capabilities, not 51"}]
    assert a_list.status_code == 400 and [d["field"] for d in a_list.json()["details"]] == ["capabilities"]


def test_an_idempotent_replay_of_the_same_body_answers_the_same_run_and_other_capabilities_are_a_409(
        api, appium_server):
    key = f"capabilities-{ULID()}"
    body = start_body(appium_server, maxSteps=1, capabilities={**SEED, "appium:simFaults": {"serverCrashAfter": 150}})

    first, again = post(api, body, key), post(api, body, key)

    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()["runId"]) == (200, first.json()["runId"])
    reordered = post(api, {**body, "capabilities": dict(reversed(body["capabilities"].items()))}, key)
    assert (reordered.status_code, reordered.json()["runId"]) == (200, first.json()["runId"])
    other_seed = post(api, {**body, "capabilities": {**body["capabilities"], "appium:simSeed": 4}}, key)
    without = post(api, {k: v for k, v in body.items() if k != "capabilities"}, key)
    assert (other_seed.status_code, without.status_code) == (409, 409), (other_seed.text, without.text)
    assert other_seed.json()["code"] == "failed_precondition"
    ended(api, first.json()["runId"])



def test_the_runs_session_gets_them_a_value_the_simulator_refuses_fails_its_launch_naming_it(api, appium_server):
    """The simulator takes `appium:simLogcat` as a boolean only: given "yes", the session the run opens is refused,
    which shows from outside that the run's capabilities reach its session (with `appium:simSeed` alongside)."""
    run_id = start(api, start_body(appium_server, maxSteps=2, capabilities={**SEED, "appium:simLogcat": "yes"}))

    terminal = stream_of(api, run_id)[-1]
    run = api.get(f"/run/{run_id}").json()

    assert (run["status"], run["stopReason"]) == ("failed", "app_launch_failed"), run
    assert terminal["stopReason"] == "app_launch_failed" and "'simLogcat' must be of type boolean" in terminal["error"]
    assert run["capabilities"] == {**SEED, "appium:simLogcat": "yes"}
