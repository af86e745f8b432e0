"""The one exception the client raises, built from the service's `{"code", "message", "details"}` answers."""

from __future__ import annotations

from typing import Any

import httpx

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
        return cls(response.status_code, str(body.get("code") or "http_error"),
                   str(body.get("message") or response.reason_phrase), body.get("details"))

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
