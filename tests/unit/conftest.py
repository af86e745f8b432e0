"""The unit layer runs nothing outside this process: a test here that asks for a running service fails at
collection, naming it, instead of quietly starting PostgreSQL, Appium, Ray or the model."""

from __future__ import annotations

import pytest

RUNNING_SERVICES = frozenset({"embedded_postgres", "postgres_url", "database_url", "pg_env", "appium_server",
                              "driver_for", "service", "api", "llm_server", "llm_proxy", "model_proxy"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        wanted = RUNNING_SERVICES.intersection(getattr(item, "fixturenames", ()))
        if wanted and item.path.is_relative_to(item.config.rootpath / "tests" / "unit"):
            raise pytest.UsageError(f"{item.nodeid} is a unit test but asks for {sorted(wanted)}: "
                                    "it belongs in tests/integration or tests/e2e")
