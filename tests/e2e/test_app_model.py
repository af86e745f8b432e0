"""GET /run/{id}/app-model and `runservice app export` (DESIGN.md "Real apps"): a run of the service becomes a
recorded app, one JSON file, and a run on that app explores the same screens as the run it came from."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.service import KEYS, read_stream, start, start_body

RUNSERVICE = str(Path(sys.executable).parent / "runservice")
LOGIN = {"username": "alice", "password": "secret"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def recorded_apps(service: Any, user_apps_dir: Path) -> tuple[str, Path]:
    """The API and a folder under one of its app roots (tests/fixtures/service.py) for the apps these tests
    write (never into the repository)."""
    folder = user_apps_dir / "recorded-apps"
    folder.mkdir(exist_ok=True)
    return service.api_url, folder


def run_to_the_end(client: httpx.Client, body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    run_id = start(client, body)
    return run_id, read_stream(client, run_id)


def screens_found(events: list[dict[str, Any]]) -> set[str]:
    return {e["data"]["screenId"] for e in events if e["event"] == "graph.screen.discovered"}


def export(url: str, run_id: str, out: Path) -> dict[str, Any]:
    done = subprocess.run([RUNSERVICE, "--url", url, "app", "export", run_id, "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    model = json.loads((out / "model.json").read_text())
    assert done.stdout.strip() == (f"wrote {out / 'model.json'}: {len(model['screens'])} screens, "
                                   f"{len(model['transitions'])} transitions")
    return model


@pytest.fixture(scope="module")
def notes_and_its_replay(recorded_apps: tuple[str, Path], appium_server: str) -> dict[str, Any]:
    """The notes app explored to the end (logged in, its crashes met); its export; the export explored."""
    url, folder = recorded_apps
    with httpx.Client(base_url=url, timeout=60) as client:
        first, first_events = run_to_the_end(client, start_body(appium_server, app="notes", inputs=LOGIN,
                                                                maxSteps=300))
        model = export(url, first, folder / "notes-run")
        body = {**start_body(appium_server, app="notes", inputs=LOGIN, maxSteps=300),
                "apkPath": str(folder / "notes-run" / "model.json")}
        second, second_events = run_to_the_end(client, body)
    return {"first": first, "first_events": first_events, "model": model, "second_events": second_events}


def test_a_run_on_the_exported_app_explores_the_same_screens(notes_and_its_replay):
    first_end, second_end = notes_and_its_replay["first_events"][-1], notes_and_its_replay["second_events"][-1]

    assert (first_end["event"], first_end["data"]["stopReason"]) == ("run.completed", "explored"), first_end
    assert (second_end["event"], second_end["data"]["stopReason"]) == ("run.completed", "explored"), second_end
    first = screens_found(notes_and_its_replay["first_events"])
    assert len(first) >= 10  # consent, login, home, notes, editor, settings, ...: the whole app
    assert screens_found(notes_and_its_replay["second_events"]) == first


def test_each_distinct_page_source_perceived_is_a_screen_with_its_screenshot_inline(notes_and_its_replay):
    model, events = notes_and_its_replay["model"], notes_and_its_replay["first_events"]
    perceived = [e["data"] for e in events if e["event"] == "agent.screen.perceived"]

    assert (model["format"], model["package"]) == ("recorded", "com.example.notes")
    assert len(model["screens"]) == len({p["artifacts"]["pageSource"] for p in perceived})
    assert model["screens"][model["start"]]["activity"] == perceived[0]["activity"] == ".ConsentActivity"
    assert {name.split("-")[0] for name in model["screens"]} == screens_found(events)
    for screen in model["screens"].values():
        assert screen["pageSource"].startswith("<?xml") and "<hierarchy" in screen["pageSource"]
        head, _, data = screen["screenshot"].partition(",")
        assert head == "data:image/png;base64" and base64.b64decode(data).startswith(PNG_SIGNATURE)


def test_the_actions_between_perceptions_are_its_transitions_and_crashes_carry_crash(notes_and_its_replay):
    model, events = notes_and_its_replay["model"], notes_and_its_replay["first_events"]
    kinds = {t["action"]["kind"] for t in model["transitions"]}
    crashes = [t for t in model["transitions"] if "crash" in t]
    performed = {e["data"]["action"]["kind"] for e in events if e["event"] == "agent.action.performed"}

    assert "toggle" in performed and "toggle" not in kinds  # the settings' switches: taps
    assert {"tap", "type", "back"} <= kinds
    assert all(("to" in t) != ("crash" in t) and t["from"] in model["screens"] for t in model["transitions"])
    assert all(t["to"] in model["screens"] for t in model["transitions"] if "to" in t)
    assert {t["crash"]["exception"] for t in crashes} >= {"java.lang.NullPointerException"}  # "Sync now"
    sync = next(t for t in crashes if t["crash"]["exception"] == "java.lang.NullPointerException")
    assert sync["action"] == {"kind": "tap", "element": {"resource-id": "com.example.notes:id/sync"}}
    assert "com.example.notes.sync.SyncClient.push(SyncClient.java:88)" in sync["crash"]["frames"]
    assert all("at" in t["action"] or "element" in t["action"] for t in model["transitions"]
               if t["action"]["kind"] != "back")


def test_scrolls_and_long_presses_are_transitions_too(recorded_apps, appium_server):
    url, _ = recorded_apps
    with httpx.Client(base_url=url, timeout=60) as client:
        run_id, events = run_to_the_end(client, start_body(appium_server, app="recipes", maxSteps=40))
        answer = client.get(f"/run/{run_id}/app-model")
    assert answer.status_code == 200, answer.text
    actions = [t["action"] for t in answer.json()["transitions"]]
    performed = {e["data"]["action"]["kind"] for e in events if e["event"] == "agent.action.performed"}

    assert {"scroll", "long_press"} <= performed
    assert any(a["kind"] == "scroll" and a["direction"] == "down" and "element" in a for a in actions), actions
    assert any(a["kind"] == "long_press" for a in actions), actions


def test_another_tenant_s_run_or_an_unknown_one_is_404_and_one_that_saw_nothing_409(
        api, keyed_api_url, appium_server, unreachable_appium_url, tmp_path):
    acme, globex = ({"Authorization": f"Bearer {key}"} for key in KEYS)
    with httpx.Client(base_url=keyed_api_url, headers=acme, timeout=30) as client:
        mine = start(client, start_body(appium_server, app="notes", maxSteps=1))
        read_stream(client, mine)
        theirs = client.get(f"/run/{mine}/app-model", headers=globex)
        assert client.get(f"/run/{mine}/app-model").status_code == 200
    assert theirs.status_code == 404 and theirs.json()["code"] == "not_found", theirs.text
    unknown = api.get("/run/01J0000000000000000000000A/app-model")
    assert unknown.status_code == 404, unknown.text

    blind, events = run_to_the_end(api, start_body(unreachable_appium_url, app="notes", maxSteps=1))
    assert events[-1]["data"]["stopReason"] == "device_unavailable", events[-1]
    nothing = api.get(f"/run/{blind}/app-model")
    assert nothing.status_code == 409 and "perceived no screen" in nothing.json()["message"], nothing.text
    done = subprocess.run([RUNSERVICE, "--url", str(api.base_url), "app", "export", blind, "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "409" in done.stderr and not (tmp_path / "model.json").exists()
