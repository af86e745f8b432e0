"""The full HTTP path: POST /run, the device actor on the real Appium simulator, SSE back."""

from __future__ import annotations

from tests.fixtures.service import read_stream, start_body

TERMINAL = {"run.completed", "run.failed", "run.canceled"}


def test_a_run_goes_from_start_to_a_terminal_event(api, appium_server):
    started = api.post("/run", json=start_body(appium_server, maxSteps=3))
    assert started.status_code == 201
    body = started.json()
    assert body["status"] == "PENDING" and body["streamUrl"] == f"/run/{body['runId']}/stream"

    events = read_stream(api, body["runId"])

    names = [e["event"] for e in events]
    assert names[0] == "run.queued" and names[1] == "run.started"
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert sum(name in TERMINAL for name in names) == 1 and names[-1] == "run.completed"
    assert events[-1]["data"]["stopReason"] == "max_steps"
    setup = [e["data"]["nodeName"] for e in events if e["event"] == "agent.node.finished" and e["data"]["stepOrdinal"] == 0]
    assert setup == ["EnsureDevice", "ProvisionApp", "LaunchOrAttach", "WaitIdle"]
    assert all(e["data"]["runId"] == body["runId"] and e["data"]["seq"] == e["id"] for e in events)
