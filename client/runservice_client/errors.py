"""What the client raises: RunServiceError, built from the service's `{"code", "message", "details"}` answers,
for a refused request or an unreachable service; and FailingFindings from `wait(..., fail_on=...)`, for a run
that found what the caller said it must not."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from runservice_client.models import Findings, Run

TRANSIENT_STATUSES = frozenset({502, 503, 504})


class RunServiceError(Exception):
    """A refused request (`status` is its HTTP status), or a service that could not be reached (`status` None)."""

    def __init__(self, status: int | None, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def __str__(self) -> str:
        head = f"{self.status} {self.code}" if self.status else self.code
        return f"{head}: {self.message}"

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES

    @classmethod
    def from_response(cls, response: httpx.Response) -> RunServiceError:
        try:
            body = response.json()
        except ValueError:  # a proxy's HTML page, say: keep the start of it
            body = {"message": response.text[:200] or response.reason_phrase}
        if not isinstance(body, dict):
            body = {"message": str(body)[:200]}
        detail = body.get("detail")  # a bare FastAPI/Starlette refusal: {"detail": "..."}
        message = body.get("message") or (detail if isinstance(detail, str) else None)
        return cls(response.status_code, str(body.get("code") or "http_error"),
                   str(message or response.reason_phrase), body.get("details"))

    @classmethod
    def unreachable(cls, base_url: str, error: Exception) -> RunServiceError:
        reason = str(error) or type(error).__name__
        return cls(None, "unavailable", f"cannot reach the run service at {base_url}: {reason}")


def is_transient(error: BaseException) -> bool:
    """Worth another try: the service said 'not now' (503 and kin), or the connection failed."""
    if isinstance(error, RunServiceError):
        return error.transient
    # A URL without http(s) will not work on the next try either.
    return isinstance(error, httpx.TransportError) and not isinstance(error, httpx.UnsupportedProtocol)


class FailingFindings(Exception):
    """The run a `wait(..., fail_on=...)` followed to its end found what `fail_on` names: `run` is the finished
    run, `findings` the findings that fail it (models.Findings.failing), `fail_on` the names asked for."""

    def __init__(self, run: Run, findings: Findings, fail_on: tuple[str, ...]) -> None:
        counts = ", ".join(f"{kind} {n}" for kind, n in findings.by_kind().items())
        super().__init__(f"run {run.id} ({run.status}) found {counts}: fail on {','.join(fail_on)}")
        self.run, self.findings, self.fail_on = run, findings, fail_on
