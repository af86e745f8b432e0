"""Paused runs in the runs table on PostgreSQL, and in what the JobQueue offers: from the runs
projection's pages, and again from its sweeper."""

from __future__ import annotations


import psycopg

from actors.projector import runs_projection_runner
from actors.queue import queued_by
from domain.application import RunService
from storage.queue_store import QueueStore
from storage.schema import create_tables
from tests.integration.test_runs_projection import caught_up, explore, request, row, rows

OLD_STATUSES = "'queued', 'running', 'completed', 'failed', 'canceled'"


def pause_history(runs: RunService) -> dict[str, str]:
    paused_queued = request(runs)
    runs.pause_run(paused_queued)

    paused = request(runs)
    runs.start_run(paused, "device-0", lease_seconds=30)
    explore(runs, paused, range(1, 4))
    runs.pause_run(paused)
    runs.confirm_pause(paused, "device-0")

    resumed = request(runs)
    runs.start_run(resumed, "device-1", lease_seconds=30)
    explore(runs, resumed, range(1, 3), worker="device-1")
    runs.pause_run(resumed)
    runs.confirm_pause(resumed, "device-1")
    runs.resume_run(resumed)

    pausing = request(runs)  # asked to pause, its worker not yet at a node boundary
    runs.start_run(pausing, "device-2", lease_seconds=30)
    runs.pause_run(pausing)
    return {"paused_queued": paused_queued, "paused": paused, "resumed": resumed, "pausing": pausing}


def test_paused_runs_show_paused_without_a_holder_and_resumed_ones_queued(pg_env, database_url, runs):
    ids = pause_history(runs)

    with runs_projection_runner(pg_env) as runner:
        caught_up(runner, runs)

    statuses = {name: row(database_url, run_id)["status"] for name, run_id in ids.items()}
    assert statuses == {"paused_queued": "paused", "paused": "paused", "resumed": "queued", "pausing": "running"}
    paused = row(database_url, ids["paused"])
    assert (paused["processing_by"], paused["lease_expires_at"]) == (None, None)
    assert (paused["steps_taken"], paused["screens_discovered"], paused["attempt"]) == (3, 3, 1)


def test_the_sweeper_offers_queued_and_running_runs_again_never_paused_ones(pg_env, database_url, runs):
    ids = pause_history(runs)
    with runs_projection_runner(pg_env) as runner:
        caught_up(runner, runs)

    store = QueueStore(database_url)
    try:
        offered = set(store.unfinished_run_ids())
    finally:
        store.close()

    assert offered == {ids["resumed"], ids["pausing"]}


def test_the_runs_pages_offer_every_request_and_every_resume_from_a_pause_never_a_withdrawn_pause(pg_env, runs):
    ids = pause_history(runs)
    withdrawn = request(runs)
    runs.start_run(withdrawn, "device-3", lease_seconds=30)
    runs.pause_run(withdrawn)
    runs.resume_run(withdrawn)  # before its worker reached a node boundary: it goes on running there

    offered: list[str] = []  # what the JobQueue is handed, page by page
    with runs_projection_runner(pg_env, lambda events: offered.extend(filter(None, map(queued_by, events)))) as runner:
        caught_up(runner, runs)
    # closed: its thread has handed over every page it applied

    assert offered == [ids["paused_queued"], ids["paused"], ids["resumed"], ids["resumed"], ids["pausing"], withdrawn]


def test_a_runs_table_from_before_paused_existed_accepts_it_once_the_tables_are_created(pg_env, database_url, runs):
    with psycopg.connect(database_url, autocommit=True) as conn:  # the constraint as it was
        conn.execute("ALTER TABLE runs DROP CONSTRAINT runs_status_check")
        conn.execute(f"ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ({OLD_STATUSES}))")

    create_tables(database_url)  # what the service does at every start
    ids = pause_history(runs)
    with runs_projection_runner(pg_env) as runner:
        caught_up(runner, runs)

    assert row(database_url, ids["paused"])["status"] == "paused"


def test_dropping_the_tables_and_replaying_rebuilds_paused_rows_identically(pg_env, database_url, runs):
    pause_history(runs)
    with runs_projection_runner(pg_env) as runner:
        caught_up(runner, runs)
        view = runner.view
    original = rows(database_url, "runs")

    view.drop_tables()
    view.datastore.close()
    with runs_projection_runner({**pg_env, "CREATE_TABLE": "y"}) as rebuilt:
        caught_up(rebuilt, runs)

    assert rows(database_url, "runs") == original and len(original) == 4
