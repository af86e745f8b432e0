"""Reading the log by topic (the screen graph's events) goes through the topic index, not through
every event since the topics' last one."""

from __future__ import annotations

import json

import psycopg

from domain.application import RunService
from domain.screen_graph import ScreenGraphProjection
from storage.log_follower import page_query
from tests.integration.test_runs_projection import request

OTHER_EVENTS = 20_000  # a long exploration's step events since the last request


def test_a_read_by_topic_after_many_events_of_other_topics_uses_the_topic_index(pg_env, database_url):
    runs = RunService(env=pg_env)
    try:
        request(runs)
        table = runs.recorder.events_table_name
        last_request = runs.recorder.max_notification_id()
        statement = page_query(runs.recorder, ScreenGraphProjection.topics)  # what a runner of the graph alone reads
    finally:
        runs.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"""INSERT INTO {table} (originator_id, originator_version, topic, state)
                         SELECT gen_random_uuid(), 1, 'domain.run:Run.NodeStarted', '\\x7b7d'::bytea
                         FROM generate_series(1, {OTHER_EVENTS})""")
        conn.execute(f"ANALYZE {table}")
        # after the last event of its topics, its topics
        plan = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}",
                            (last_request, list(ScreenGraphProjection.topics))).fetchone()[0]
    text = json.dumps(plan)
    assert f"{table}_topic" in text, text
    assert '"Rows Removed by Filter": 20000' not in text
