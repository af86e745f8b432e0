"""RunService on PostgreSQL (a fresh database per test): the shared cases in tests/run_service_cases.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eventsourcing.postgres import PostgresApplicationRecorder

from domain.application import RunService
from tests.run_service_cases import NewService, RunServiceCases


class TestRunServiceOnPostgres(RunServiceCases):
    @pytest.fixture
    def new_service(self, pg_env: dict[str, str]) -> Iterator[NewService]:
        made: list[RunService] = []

        def new_service() -> RunService:
            made.append(RunService(env=pg_env))
            assert isinstance(made[-1].recorder, PostgresApplicationRecorder)  # eventsourcing's, or ours on it
            return made[-1]

        yield new_service
        for service in made:
            service.close()
