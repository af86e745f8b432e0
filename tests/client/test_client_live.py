"""RunClient against the live service: start, follow, inspect, page through, cancel, and its one error type."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from ulid import ULID

from runservice_client import Run, RunClient, RunServiceError
from tests.client.conftest import LOGIN, run_spec
from tests.fixtures.service import wait_for

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METRICS = {"steps", "screensDiscovered", "transitions", "restarts", "durationMs"}


@pytest.fixture(scope="module")
def finished(service: Any, appium_server: str) -> Run:
    """One notes run, logged in, followed to its end."""
    with RunClient(service.api_url) as client:
        run = client.start(**run_spec(appium_server, inputs=LOGIN, max_steps=6))
        return client.wait(run.id, progress=False)


def test_a_started_run_is_followed_to_its_end_with_its_metrics(client, finished):
    assert str(ULID.from_str(finished.id)) == finished.id
    assert (finished.status, finished.stop_reason) == ("completed", "max_steps"), finished
    assert set(finished.metrics) >= METRICS and finished.metrics["steps"] == 6

    again = client.get(finished.id)
    assert isinstance(again, Run) and again.metrics == finished.metrics
    assert again["app"]["packageName"] == "com.example.notes" and again["maxSteps"] == 6


def test_events_are_the_whole_history_in_order_and_resume_after_a_position(client, finished):
    events = list(client.events(finished.id))

    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].name == "run.queued" and events[-1].name == "run.completed"
    assert [e.is_terminal for e in events].count(True) == 1
    later = list(client.events(finished.id, after=len(events) - 3))
    assert [e.seq for e in later] == [len(events) - 2, len(events) - 1, len(events)]
    assert list(client.events(finished.id, after=len(events))) == []  # nothing after the end: no wait


def test_graph_picture_and_artifacts_of_a_run(client, finished):
    # Read once after the run ended: the API waits for its graph projection to have the run's events.
    assert len(client.graph(finished.id)["screens"]) == finished.metrics["screensDiscovered"]
    assert "<svg" in client.graph_svg(finished.id)

    perceived = next(e for e in client.events(finished.id) if e.name == "agent.screen.perceived")
    assert client.artifact(finished.id, perceived.data["artifacts"]["screenshot"]).startswith(PNG_SIGNATURE)


def test_a_run_shows_itself_in_jupyter_with_its_metrics_and_screen_graph(client, finished):
    page = client.get(finished.id)._repr_html_()

    assert finished.id in page and "completed" in page and "max_steps" in page
    assert all(name in page for name in METRICS)
    assert "<svg" in page  # the picture from graph.svg, inline


def test_runs_follow_the_pages_newest_first_and_make_a_dataframe(client, appium_server):
    started = client.start_many([run_spec(appium_server, app) for app in ("notes", "settings", "shop")])
    ids = [run.id for run in started]
    assert len(set(ids)) == 3

    # The runs table is a projection: it shows runs and their ends a moment after the events.
    wait_for(lambda: {row["run_id"] for row in client.runs(limit=3)} == set(ids), 30, "the runs in the runs table")
    listed = [row["run_id"] for row in client.runs(limit=3, page_size=1)]  # three pages of one
    assert listed == sorted(ids, reverse=True)
    client.wait_all(ids, progress=False)
    wait_for(lambda: set(ids) <= {row["run_id"] for row in client.runs(status="completed")}, 30, "the runs table")
    frame = pd.DataFrame(client.runs(limit=3))
    assert list(frame["run_id"]) == listed and set(frame["status"]) == {"completed"}
    assert (frame["steps_taken"] <= frame["max_steps"]).all()


def test_wait_all_answers_every_run_finished_in_the_order_asked(client, appium_server):
    runs = client.start_many([run_spec(appium_server, "settings", max_steps=3), run_spec(appium_server, "shop")])

    finished = client.wait_all([run.id for run in reversed(runs)], progress=False)
    assert [run.id for run in finished] == [run.id for run in reversed(runs)]
    assert all(run.status == "completed" and run.metrics["steps"] <= run["maxSteps"] for run in finished)


def test_cancel_stops_a_run_and_wait_says_so(client, appium_server):
    run = client.start(**run_spec(appium_server, max_steps=500))

    assert client.cancel(run.id)["status"] == "CANCELLED"
    ended = client.wait(run.id, progress=False)
    assert (ended.status, ended.stop_reason) == ("canceled", "user_cancelled")
    with pytest.raises(RunServiceError) as refused:
        client.cancel(client.wait(client.start(**run_spec(appium_server, max_steps=1)).id, progress=False).id)
    assert (refused.value.status, refused.value.code) == (409, "failed_precondition")


def test_every_refusal_is_one_error_type_with_code_message_and_details(client, appium_server):
    with pytest.raises(RunServiceError) as unknown:
        client.get(str(ULID()))
    assert (unknown.value.status, unknown.value.code) == (404, "not_found")

    with pytest.raises(RunServiceError) as invalid:
        client.start(**run_spec(appium_server, max_steps=0, package_name="not a package"))
    error: RunServiceError = invalid.value
    assert (error.status, error.code) == (400, "invalid_argument")
    assert {p["field"] for p in error.details} >= {"maxSteps", "packageName"}
    assert "maxSteps" in error.message

    for broken in (lambda: list(client.events(str(ULID()))), lambda: client.graph("not-a-run-id")):
        with pytest.raises(RunServiceError) as caught:
            broken()
        assert caught.value.status in (400, 404)



def test_wait_all_with_an_unknown_run_raises_without_waiting_for_the_others(client, appium_server):
    long_run = client.start(**run_spec(appium_server, max_steps=500))

    with pytest.raises(RunServiceError) as unknown:
        client.wait_all([long_run.id, str(ULID())], progress=False)
    assert unknown.value.status == 404
    assert client.get(long_run.id).status in ("queued", "running")  # still going: it was not waited for
    client.cancel(long_run.id)
