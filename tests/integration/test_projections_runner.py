"""The runs table and the screen graph kept by one runner (actors/projector.py): one read of the log for
both, each projection going on from its own tracked position, so neither misses nor repeats an event."""

from __future__ import annotations

from typing import Any

from ulid import ULID

from actors.projector import PagedProjectionRunner, projections_runner, runs_projection_runner, screen_graph_runner
from domain.application import RunService
from domain.run import Run
from storage.graph_view import GraphView
from tests.integration.test_graph_view import last_graph_event
from tests.integration.test_runs_projection import WAIT_SECONDS, caught_up, explore, request, row


def graph_caught_up(view: GraphView, runs: RunService) -> None:
    """Until the graph view (here not the runner's first) has tracked the last graph event stored so far."""
    view.wait(RunService.name, last_graph_event(runs), timeout=WAIT_SECONDS)


def both_caught_up(runner: PagedProjectionRunner, runs: RunService) -> GraphView:
    caught_up(runner, runs)  # the runs view: every notification
    graph_view = runner.views[1]
    graph_caught_up(graph_view, runs)
    return graph_view


def screens(view: GraphView, run_id: str) -> list[tuple[str, int]]:
    return [(s["screenId"], s["visits"]) for s in view.get_graph(run_id)["screens"]]


def a_run_exploring(runs: RunService, steps: range) -> str:
    run_id = request(runs)
    runs.start_run(run_id, "device-0", lease_seconds=30)
    explore(runs, run_id, steps)
    return run_id


def both_caught_up_after_five_steps(pg_env: dict[str, str], database_url: str, runs: RunService, run_id: str
                                    ) -> list[Any]:
    """Runs both projections on one runner until both have caught up with a run of five steps, checks that
    each counted every step once, and answers the events the runner offered to the queue."""
    offered: list[Any] = []
    with projections_runner(pg_env, offered.extend) as runner:
        graph_view = both_caught_up(runner, runs)
        assert row(database_url, run_id)["screens_discovered"] == 5
        assert screens(graph_view, run_id) == [(f"s{step}", 1) for step in range(1, 6)]
    return offered


def test_one_runner_keeps_both_views(pg_env, database_url, runs):
    run_id = a_run_exploring(runs, range(1, 4))
    with projections_runner(pg_env) as runner:
        graph_view = both_caught_up(runner, runs)
        assert row(database_url, run_id)["screens_discovered"] == 3
        assert screens(graph_view, run_id) == [("s1", 1), ("s2", 1), ("s3", 1)]


def test_a_runs_table_behind_the_graph_catches_up_without_the_graph_seeing_an_event_twice(pg_env, database_url, runs):
    run_id = a_run_exploring(runs, range(1, 4))
    with screen_graph_runner(pg_env) as graph_only:  # the graph ahead, the runs table empty
        graph_caught_up(graph_only.view, runs)
    explore(runs, run_id, range(4, 6))

    offered = both_caught_up_after_five_steps(pg_env, database_url, runs, run_id)
    assert sum(isinstance(e, Run.Requested) for e in offered) == 1  # every event the runs table applied


def test_a_graph_behind_the_runs_table_catches_up_without_the_runs_table_seeing_an_event_twice(
        pg_env, database_url, runs):
    run_id = a_run_exploring(runs, range(1, 4))
    with runs_projection_runner(pg_env) as runs_only:  # the runs table ahead, the graph empty
        caught_up(runs_only, runs)
    explore(runs, run_id, range(4, 6))

    offered = both_caught_up_after_five_steps(pg_env, database_url, runs, run_id)
    # only what the runs table had not applied yet: steps 4 and 5, no request again
    assert offered and not any(isinstance(e, Run.Requested) for e in offered)
    assert {e.step_ordinal for e in offered} == {4, 5}
    assert {str(ULID.from_uuid(e.originator_id)) for e in offered} == {run_id}
