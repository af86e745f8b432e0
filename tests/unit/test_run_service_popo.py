"""RunService on eventsourcing's in-memory (POPO) store: the shared cases in tests/run_service_cases.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.application import RunService
from domain.run import Run
from domain.wire import to_wire
from tests.run_service_cases import NewService, RunServiceCases, run_request


class TestRunServiceOnPOPO(RunServiceCases):
    @pytest.fixture
    def new_service(self) -> Iterator[NewService]:
        """Instances sharing one in-memory recorder, as processes share one database."""
        first = RunService()
        assert type(first.recorder).__module__ == "eventsourcing.popo"

        class SameStore(RunService):
            name = RunService.name

            def construct_recorder(self):  # type: ignore[no-untyped-def]
                return first.recorder

        made: list[RunService] = []

        def new_service() -> RunService:
            made.append(first if not made else SameStore())
            return made[-1]

        yield new_service
        for service in made:
            service.close()


def test_domain_events_are_the_events_clients_see_as_the_runs_own_objects():
    runs = RunService()
    run_id = runs.request_run(run_request()).run_id
    runs.start_run(run_id, "worker-1", lease_seconds=60)
    runs.start_node(run_id, "Perceive", 1, "worker-1")
    runs.record(run_id, Run.record_screen, "worker-1", step_ordinal=1, screen_id="s1", activity=".A",
                package="com.example.notes", element_count=3, artifacts={"pageSource": "a1"})
    runs.finish_node(run_id, "Perceive", 1, "SUCCESS", "worker-1", screenId="s1")

    events = runs.domain_events(run_id)

    assert [type(e) for e in events] == [Run.Requested, Run.Started, Run.NodeStarted, Run.ScreenPerceived,
                                         Run.NodeFinished]
    assert events[3].screen_id == "s1" and events[4].detail == {"screenId": "s1"}
    assert [to_wire(e) for e in events] == runs.run_events(run_id)
    runs.close()
