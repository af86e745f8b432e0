"""RunService on eventsourcing's in-memory (POPO) store: the shared cases in tests/run_service_cases.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.application import RunService
from tests.run_service_cases import NewService, RunServiceCases


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
