"""What real apps do to an agent (DESIGN.md), the API's part, over HTTP against the whole service: `POST /run`'s
`permissions` (how permission dialogs are answered) and `avoid` (patterns of elements never acted on) are the
run's configuration, shown on `GET /run/{id}`, kept out of the stream, and part of an idempotent start's body."""

from __future__ import annotations

from typing import Any

import httpx
from ulid import ULID

from tests.e2e.test_idempotency import post
from tests.fixtures.service import read_stream, start, start_body

AVOID = ["id/sign_out", "text:delete (account|all notes)", "text:buy .*"]


def ended(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    """Cancels the run (it frees its device sooner) and reads its whole stream: the server closes it after the
    terminal event. The data of each event."""
    assert api.post(f"/run/{run_id}/cancel").status_code in (200, 409)  # 409: it had already ended
    return [event["data"] for event in read_stream(api, run_id)]


def test_a_run_shows_its_permissions_answer_and_avoid_patterns_but_its_stream_does_not(api, appium_server):
    run_id = start(api, start_body(appium_server, maxSteps=2, permissions="deny", avoid=AVOID))

    shown = api.get(f"/run/{run_id}")

    assert shown.status_code == 200, shown.text
    assert (shown.json()["permissions"], shown.json()["avoid"]) == ("deny", AVOID)
    events = ended(api, run_id)
    assert events and events[0]["runId"] == run_id
    assert not [e for e in events if "permissions" in e or "avoid" in e], "the run's configuration is not streamed"
    after = api.get(f"/run/{run_id}").json()
    assert after["status"] in ("completed", "canceled", "failed")
    assert (after["permissions"], after["avoid"]) == ("deny", AVOID)  # the run's, whatever became of it


def test_left_out_they_show_as_grant_and_nothing_avoided(api, appium_server):
    run_id = start(api, start_body(appium_server, maxSteps=1))

    shown = api.get(f"/run/{run_id}").json()

    assert (shown["permissions"], shown["avoid"]) == ("grant", [])
    ended(api, run_id)


def test_a_bad_regex_is_a_400_that_names_it_and_starts_nothing(api, appium_server):
    key = f"bad-regex-{ULID()}"
    body = start_body(appium_server, avoid=["id/sign_out", "text:(sign out"], permissions="ask")

    refused = post(api, body, key)

    assert refused.status_code == 400, refused.text
    answer = refused.json()
    assert answer["code"] == "invalid_argument"
    assert answer["message"] == "invalid fields: permissions, avoid.1"
    problems = {d["field"]: d["problem"] for d in answer["details"]}
    assert problems["permissions"] == "Input should be 'grant' or 'deny'"
    assert "'text:(sign out'" in problems["avoid.1"] and "not a valid regex" in problems["avoid.1"]
    # nothing was started under the key: the same key with a good body starts a run
    started = post(api, {**body, "avoid": ["id/sign_out"], "permissions": "deny", "maxSteps": 1}, key)
    assert started.status_code == 201, started.text
    ended(api, started.json()["runId"])


def test_more_than_50_patterns_or_another_form_is_a_400(api, appium_server):
    too_many = api.post("/run", json=start_body(appium_server, avoid=[f"id/item_{i}" for i in range(51)]))
    other_form = api.post("/run", json=start_body(appium_server, avoid=["sign_out", 42]))

    assert too_many.status_code == 400 and [d["field"] for d in too_many.json()["details"]] == ["avoid"]
    assert "at most 50" in too_many.json()["details"][0]["problem"]
    assert other_form.status_code == 400
    assert [(d["field"], "'sign_out'" in d["problem"]) for d in other_form.json()["details"]] == [
        ("avoid.0", True), ("avoid.1", False)]


def test_an_idempotent_replay_of_the_same_body_answers_the_same_run(api, appium_server):
    key = f"obstacles-{ULID()}"
    body = start_body(appium_server, maxSteps=2, permissions="deny", avoid=AVOID)

    first, again = post(api, body, key), post(api, body, key)

    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()["runId"]) == (200, first.json()["runId"])
    other_patterns = post(api, {**body, "avoid": AVOID[:1]}, key)
    granting = post(api, {**body, "permissions": "grant"}, key)
    assert (other_patterns.status_code, granting.status_code) == (409, 409)  # another body: not this run
    ended(api, first.json()["runId"])


def test_the_defaults_said_or_left_out_are_the_same_body(api, appium_server):
    """A key used before these fields existed keeps answering: their defaults are not part of the body."""
    key = f"defaults-{ULID()}"
    body = start_body(appium_server, maxSteps=1)

    first = post(api, body, key)
    said = post(api, {**body, "permissions": "grant", "avoid": []}, key)

    assert first.status_code == 201, first.text
    assert (said.status_code, said.json()["runId"]) == (200, first.json()["runId"])
    ended(api, first.json()["runId"])
