"""The client's tests run against the whole live service (the `service` fixture) through `runservice_client`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from runservice_client import RunClient, RunServiceError
from tests.fixtures.appium import sample_app
from tests.fixtures.service import SAMPLE_APPS

LOGIN = {"username": "alice", "password": "secret"}  # the notes app's login


def run_spec(appium_url: str, app: str = "notes", **fields: Any) -> dict[str, Any]:
    """start()'s keyword arguments for a sample app."""
    package, activity = SAMPLE_APPS[app]
    spec = {"apk_path": sample_app(app), "appium_server_url": appium_url, "package_name": package,
            "app_activity": activity, "max_steps": 5}
    return {**spec, **fields}


def stop(client: RunClient, run_id: str) -> None:
    """Frees the run's device for the next tests; one that already ended answers 409."""
    try:
        client.cancel(run_id)
    except RunServiceError as error:
        assert error.status == 409, error


@pytest.fixture
def client(service: Any) -> Iterator[RunClient]:
    with RunClient(service.api_url) as client:
        yield client
