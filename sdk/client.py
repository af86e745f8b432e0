"""RunClient: start, watch, cancel and inspect runs over HTTP (httpx + httpx-sse).

    client = RunClient("http://127.0.0.1:8000")
    run = client.start(apk_path=..., appium_server_url=..., package_name=..., app_activity=..., max_steps=20)
    for event in client.events(run["runId"]):
        print(event.seq, event.name, event.data)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import connect_sse


class RunServiceError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('code')}: {body.get('message')}")
        self.status, self.code, self.details = status, body.get("code"), body.get("details")


@dataclass(frozen=True)
class RunEvent:
    seq: int
    name: str
    data: dict[str, Any]


class RunClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None, timeout: float = 30) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def start(self, apk_path: str, appium_server_url: str, package_name: str, app_activity: str,
              max_steps: int = 50, goal: str | None = None, inputs: dict[str, str] | None = None) -> dict[str, Any]:
        body = {"apkPath": apk_path, "appiumServerUrl": appium_server_url, "packageName": package_name,
                "appActivity": app_activity, "maxSteps": max_steps, "goal": goal, "inputs": inputs or {}}
        return self._json(self.http.post("/run", json=body))

    def cancel(self, run_id: str) -> dict[str, Any]:
        return self._json(self.http.post(f"/run/{run_id}/cancel"))

    def get(self, run_id: str) -> dict[str, Any]:
        return self._json(self.http.get(f"/run/{run_id}"))

    def graph(self, run_id: str) -> dict[str, Any]:
        return self._json(self.http.get(f"/run/{run_id}/graph"))

    def events(self, run_id: str, after: int = 0) -> Iterator[RunEvent]:
        """The run's events from `after` on, live, until its terminal event."""
        with connect_sse(self.http, "GET", f"/run/{run_id}/stream", params={"after": after}, timeout=None) as source:
            if source.response.status_code != 200:
                source.response.read()
                self._json(source.response)  # raises RunServiceError
            for sse in source.iter_sse():
                if not sse.data:  # a keep-alive comment
                    continue
                yield RunEvent(int(sse.id), sse.event, json.loads(sse.data))

    def wait(self, run_id: str) -> RunEvent:
        """Blocks until the run ends; returns its terminal event."""
        last = None
        for last in self.events(run_id):
            pass
        return last

    def close(self) -> None:
        self.http.close()

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        body = response.json()
        if response.status_code >= 400:
            raise RunServiceError(response.status_code, body)
        return body
