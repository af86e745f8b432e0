"""The screen graph projection on PostgreSQL, run a page of the log at a time (actors/projector.py)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from ulid import ULID

from actors.projector import PagedProjectionRunner, screen_graph_runner
from domain.application import RunRequest, RunService, parse_run_id
from domain.screen_graph import ScreenFact, ScreenGraphProjection, build_graph
from storage.graph_view import GraphView, open_graph_view
from storage.schema import create_tables
from domain.run import Run

TAP = {"kind": "tap", "target": ["id", "buy"], "text": None, "label": 'tap "Buy"', "action_id": "tap:buy"}
BACK = {"kind": "back", "target": None, "text": None, "label": "back", "action_id": "back"}
WAIT_SECONDS = 10


@pytest.fixture
def view(pg_env: dict[str, str]) -> Iterator[GraphView]:
    graph_view = open_graph_view(pg_env)
    yield graph_view
    graph_view.datastore.close()


@contextmanager
def running_projection(env: dict[str, str]) -> Iterator[PagedProjectionRunner]:
    runner = screen_graph_runner(env)
    with runner:
        yield runner
    runner.view.datastore.close()


def last_graph_event(runs: RunService) -> int:
    """The notification id of the last graph event stored so far: what a caught-up graph view has tracked."""
    graph_events = runs.recorder.select_notifications(start=None, limit=1_000_000,
                                                      topics=ScreenGraphProjection.topics)
    assert graph_events, "no graph event stored: nothing to wait for"
    return graph_events[-1].id


def caught_up(runner: PagedProjectionRunner, runs: RunService) -> None:
    """Blocks until the projection has tracked every graph event stored so far (fails after WAIT_SECONDS):
    its subscription reads only those."""
    runner.wait(last_graph_event(runs), timeout=WAIT_SECONDS)


def new_running_run(runs: RunService) -> str:
    run = runs.request_run(RunRequest("/apps/shop.apk", "http://127.0.0.1:4723", "com.example.shop", ".Home"))
    run_id = str(ULID.from_uuid(run.id))
    runs.start_run(run_id, "worker-1", lease_seconds=30)
    return run_id


def perceive(runs: RunService, run_id: str, step: int, screen: str, activity: str) -> None:
    runs.record(run_id, Run.record_screen, step_ordinal=step, screen_id=screen, activity=activity,
                package="com.example.shop", element_count=4, artifacts={"screenshot": f"shot-{step}"})


def explore_first_steps(runs: RunService, run_id: str) -> None:
    """Step 1 finds home and a way to the cart; step 2 finds the cart and the way back."""
    perceive(runs, run_id, 1, "home", ".ShopHome")
    runs.record(run_id, Run.discover_screen, step_ordinal=1, screen_id="home", activity=".ShopHome")
    runs.record(run_id, Run.record_action, step_ordinal=1, screen_id="home", action=TAP)
    runs.record(run_id, Run.discover_transition, step_ordinal=1, from_screen="home", action=TAP, to_screen="cart")
    perceive(runs, run_id, 2, "cart", ".Cart")
    runs.record(run_id, Run.discover_screen, step_ordinal=2, screen_id="cart", activity=".Cart")
    runs.record(run_id, Run.discover_transition, step_ordinal=2, from_screen="cart", action=BACK, to_screen="home")


def explore_more(runs: RunService, run_id: str) -> None:
    """Step 3 is home again: a second visit, and a tap that stays on home."""
    perceive(runs, run_id, 3, "home", ".ShopHome")
    runs.record(run_id, Run.discover_transition, step_ordinal=3, from_screen="home", action=TAP, to_screen="home")


def stored_events(runs: RunService, run_id: str) -> list[Any]:
    return list(runs.events.get(parse_run_id(run_id).to_uuid()))


def test_screens_and_transitions_follow_the_run_events(pg_env, runs, view):
    with running_projection(pg_env) as runner:
        run_id, other_id = new_running_run(runs), new_running_run(runs)
        explore_first_steps(runs, run_id)
        explore_more(runs, run_id)
        perceive(runs, other_id, 1, "elsewhere", ".Other")
        caught_up(runner, runs)
    graph = view.get_graph(run_id)
    assert graph["runId"] == run_id
    screens = [(s["screenId"], s["activity"], s["firstSeenStep"], s["lastSeenStep"], s["visits"],
                s["screenshotArtifactId"]) for s in graph["screens"]]
    assert screens == [("home", ".ShopHome", 1, 3, 2, "shot-3"), ("cart", ".Cart", 2, 2, 1, "shot-2")]
    assert [(t["fromScreen"], t["actionId"], t["actionKind"], t["actionLabel"], t["toScreen"], t["firstSeenStep"])
            for t in graph["transitions"]] == [("home", "tap:buy", "tap", 'tap "Buy"', "cart", 1),
                                               ("cart", "back", "back", "back", "home", 2),
                                               ("home", "tap:buy", "tap", 'tap "Buy"', "home", 3)]
    assert [s["screenId"] for s in view.get_graph(other_id)["screens"]] == ["elsewhere"]


def test_a_run_s_last_position_is_its_latest_event_in_the_log(runs):
    first, second = new_running_run(runs), new_running_run(runs)
    explore_first_steps(runs, first)
    before = runs.last_position(first)
    perceive(runs, second, 1, "elsewhere", ".Other")  # another run's event moves the log, not the first run
    assert runs.last_position(first) == before
    assert before < runs.last_position(second) == runs.recorder.max_notification_id()
    assert [n.id for n in runs.recorder.select_notifications(start=before, limit=1)
            if n.originator_id == parse_run_id(first).to_uuid()] == [before]
    assert runs.last_position(str(ULID())) is None  # an unknown run has nothing to wait for


def test_a_read_waits_until_the_view_has_the_run_s_latest_event(pg_env, runs, view):
    """Read-your-writes for the API's graph: asked after a run's events, the view first catches up with them."""
    run_id = new_running_run(runs)
    explore_first_steps(runs, run_id)
    latest = runs.last_position(run_id)
    assert not view.caught_up(runs.name, latest, timeout=0.2)  # no projection running: it answers after the timeout
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(view.caught_up, runs.name, latest, WAIT_SECONDS)
        with running_projection(pg_env):
            assert waiting.result(timeout=WAIT_SECONDS + 5)
    assert [s["screenId"] for s in view.get_graph(run_id)["screens"]] == ["home", "cart"]
    assert view.caught_up(runs.name, None)  # an unknown run: nothing to wait for


def test_the_table_rows_are_the_pure_fold_of_the_stored_events(pg_env, runs, view):
    with running_projection(pg_env) as runner:
        run_id = new_running_run(runs)
        explore_first_steps(runs, run_id)
        explore_more(runs, run_id)
        caught_up(runner, runs)
    assert view.all_rows() == build_graph(stored_events(runs, run_id))


def test_a_restarted_runner_applies_each_event_exactly_once(pg_env, runs, view):
    run_id = new_running_run(runs)
    with running_projection(pg_env) as runner:
        explore_first_steps(runs, run_id)
        caught_up(runner, runs)
    explore_more(runs, run_id)  # stored while no runner is running
    with running_projection(pg_env) as runner:
        caught_up(runner, runs)
    home = view.get_graph(run_id)["screens"][0]
    assert (home["screenId"], home["visits"], home["lastSeenStep"]) == ("home", 2, 3)
    assert view.all_rows() == build_graph(stored_events(runs, run_id))


def test_an_event_applied_again_changes_nothing(pg_env, runs, view):
    run_id = new_running_run(runs)
    with running_projection(pg_env) as runner:
        explore_first_steps(runs, run_id)
        caught_up(runner, runs)
    before = view.all_rows()
    position = view.max_tracking_id(RunService.name)
    seen_again = ScreenFact(run_id, "home", ".ShopHome", 9, visits=1)
    view.apply([(position, seen_again)], Tracking(RunService.name, position))
    view.apply([(position - 1, {**before[1][0], "to_screen": "nowhere"})], Tracking(RunService.name, position - 1))
    assert view.all_rows() == before
    assert view.max_tracking_id(RunService.name) == position

    # A page reaching past the position: what it tracked already is skipped, the rest is applied.
    view.apply([(position, seen_again), (position + 1, seen_again)], Tracking(RunService.name, position + 1))
    visits = {row["screen_id"]: row["visits"] for row in view.all_rows()[0]}
    assert visits["home"] == next(row["visits"] for row in before[0] if row["screen_id"] == "home") + 1
    assert view.max_tracking_id(RunService.name) == position + 1


def test_dropping_the_tables_and_replaying_rebuilds_them_identically(pg_env, database_url, runs, view):
    with running_projection(pg_env) as runner:
        first, second = new_running_run(runs), new_running_run(runs)
        explore_first_steps(runs, first)
        explore_first_steps(runs, second)
        explore_more(runs, first)
        caught_up(runner, runs)
    before = view.all_rows()
    assert len(before[0]) == 4 and len(before[1]) == 5
    view.drop_tables()
    create_tables(database_url)  # what the service does at start-up
    assert view.all_rows() == ([], [])
    with running_projection(pg_env) as runner:
        caught_up(runner, runs)
    assert view.all_rows() == before
