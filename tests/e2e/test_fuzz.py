"""Fuzz the HTTP API from its own OpenAPI schema: no input gives a 5xx or a stack trace."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

FUZZ_CASES = 60  # per operation; the fault-and-load script runs more


def operations(service) -> list:
    loaded = schemathesis.openapi.from_url(f"{service.api_url}/openapi.json")
    loaded.config.update(base_url=service.api_url)
    # The SSE stream follows a run until it ends: fuzzing it would wait on live runs.
    return [result.ok() for result in loaded.exclude(path_regex=r".*/stream$").get_all_operations()]


def check_answer(case) -> None:
    response = case.call(timeout=30)
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    assert "Traceback" not in response.text and 'File "' not in response.text, where
    if response.status_code >= 400:
        assert set(response.json()) == {"code", "message", "details"}, where


def test_no_input_gives_a_server_error_or_a_stack_trace(service):
    tried = 0
    for operation in operations(service):
        @given(case=operation.as_strategy())
        @settings(max_examples=FUZZ_CASES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:
            nonlocal tried
            tried += 1
            check_answer(case)

        fuzz()
    assert tried >= FUZZ_CASES * 5  # every operation was exercised
