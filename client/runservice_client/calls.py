"""The requests of the API, built once for both clients (they differ only in how they send),
and the retry policy they share."""

from __future__ import annotations

import uuid
from urllib.parse import quote
from dataclasses import dataclass, field
from typing import Any

import httpx
import tenacity

from runservice_client.errors import is_transient

DEFAULT_URL = "http://127.0.0.1:8000"
# Streams are idle between events; the service sends a keep-alive at least every 15 s, so a
# minute of silence means the connection is dead and the stream resumes on a new one.
STREAM_READ_SECONDS = 60
# A stream that drops this many times in a row without a single event gives up.
MAX_IDLE_DROPS = 5
START_FIELDS = {"apk_path": "apkPath", "appium_server_url": "appiumServerUrl", "package_name": "packageName",
                "app_activity": "appActivity", "max_steps": "maxSteps", "goal": "goal", "inputs": "inputs",
                "policy": "policy", "permissions": "permissions", "avoid": "avoid", "capabilities": "capabilities",
                "memory": "memory"}
# The service's own default memory: left out of the body, so a cold start's body (and the idempotency digest the
# service takes of it) stays the same as before runs had memory.
COLD = "cold"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    answer: str = "json"  # json | text | bytes


def start(spec: dict[str, Any], idempotency_key: str | None) -> Call:
    """POST /run. A key is made up when none is given, so the client's own retries never start a second run.
    A field left None is not sent: the service's default applies (policy "dfs", 50 steps, permissions "grant");
    nor is memory "cold", the default (anything else is sent, for the service to accept or refuse)."""
    body = {START_FIELDS[name]: value for name, value in spec.items()
            if value is not None and not (name == "memory" and value == COLD)}
    if "avoid" in body:  # any iterable of patterns is a JSON list; one string is one pattern, not its letters
        body["avoid"] = [body["avoid"]] if isinstance(body["avoid"], str) else list(body["avoid"])
    key = idempotency_key or str(uuid.uuid4())
    return Call("POST", "/run", json=body, headers={"Idempotency-Key": key})


def get(run_id: str) -> Call:
    return Call("GET", f"/run/{run_id}")


def runs_page(status: str | None, page_size: int, before: str | None) -> Call:
    params = {"status": status, "limit": page_size, "before": before}
    return Call("GET", "/runs", params={k: v for k, v in params.items() if v is not None})


def command(run_id: str, verb: str) -> Call:
    """cancel, pause or resume: each idempotent on the service, so retrying is safe."""
    return Call("POST", f"/run/{run_id}/{verb}")


def graph(run_id: str) -> Call:
    return Call("GET", f"/run/{run_id}/graph")


def graph_svg(run_id: str) -> Call:
    return Call("GET", f"/run/{run_id}/graph.svg", answer="text")


def artifact(run_id: str, artifact_id: str) -> Call:
    return Call("GET", f"/run/{run_id}/artifacts/{artifact_id}", answer="bytes")


def app_model(run_id: str) -> Call:
    return Call("GET", f"/run/{run_id}/app-model")


def findings(run_id: str) -> Call:
    return Call("GET", f"/run/{run_id}/findings")


def finding_test(run_id: str, finding_id: str) -> Call:
    return Call("GET", f"/run/{run_id}/findings/{finding_id}/test.py", answer="text")


def report(run_id: str) -> Call:
    return Call("GET", f"/run/{run_id}/report.xml", answer="text")


def diff(base: str, head: str, svg: bool = False) -> Call:
    path, answer = ("/runs/diff.svg", "text") if svg else ("/runs/diff", "json")
    return Call("GET", path, params={"base": base, "head": head}, answer=answer)


def app_map(package: str) -> Call:
    return Call("GET", f"/apps/{quote(package, safe='')}/map")


def stream(run_id: str, after: int) -> Call:
    # Last-Event-ID is how SSE resumes: strictly after that event, no gaps, no duplicates.
    return Call("GET", f"/run/{run_id}/stream",
                headers={"Accept": "text/event-stream", "Last-Event-ID": str(after)}, answer="stream")


def decode(call: Call, response: httpx.Response) -> Any:
    if call.answer == "text":
        return response.text
    if call.answer == "bytes":
        return response.content
    return response.json()


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def stream_timeout(timeout: float) -> httpx.Timeout:
    return httpx.Timeout(timeout, read=max(timeout, STREAM_READ_SECONDS))


def retry_options(attempts: int) -> dict[str, Any]:
    """Backoff with jitter on 503 (and 502/504) and on connection errors, then the last error."""
    return {"retry": tenacity.retry_if_exception(is_transient), "reraise": True,
            "stop": tenacity.stop_after_attempt(max(1, attempts)),
            "wait": tenacity.wait_exponential_jitter(initial=0.2, max=5, jitter=0.2)}
