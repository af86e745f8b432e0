"""What test.py and report.xml are told about a run (domain/findings/generated_test.py and report.py's
`run` shapes, camelCase), from its aggregate: never its inputs' values, which may be credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


from domain.run import Run
from domain.sessions import session_capabilities


def device_caps_of(worker_id: str | None, devices: Mapping[str, Mapping[str, Any]],
                   automation_name: str) -> dict[str, Any]:
    """The capabilities of the device that last held the run. A worker's id is its device actor's name,
    "/", and its incarnation (actors/device.py); `devices` maps actor names to their capabilities. A run
    no known device held (queued, paused, or a device since removed) gets the service's driver only:
    the test's RUNSERVICE_UDID names the device then."""
    device = (worker_id or "").rpartition("/")[0]
    return dict(devices.get(device) or {"appium:automationName": automation_name})


def run_for_test(run: Run, device_caps: Mapping[str, Any]) -> dict[str, Any]:
    """The run as test.py needs it: its app, its session's capabilities (its app's, its device's, then its own
    extra ones, never over what the run sets: domain/sessions.py), and its inputs' keys only."""
    return {"runId": run.run_id, "app": dict(run.app_config),
            "capabilities": session_capabilities(run.app_config, device_caps, run.capabilities),
            "inputs": sorted(run.inputs)}


def run_for_report(run: Run, last_event: Any | None) -> dict[str, Any]:
    """The run as report.xml needs it; the metrics are a completed run's (its last event says them)."""
    metrics = dict(last_event.metrics) if isinstance(last_event, Run.Completed) else {}
    return {"runId": run.run_id, "app": dict(run.app_config), "status": run.status,
            "stopReason": run.stop_reason, "metrics": metrics}
