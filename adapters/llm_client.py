"""The language-model adapter: an OpenAI-compatible chat-completions endpoint over httpx (DESIGN.md "Policies").

It never raises for a fault of the model or of the network: each becomes a ModelReply with a failure
reason, and the policy falls back to the depth-first choice with it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import httpx
import tenacity

from domain.exploration.llm_policy import ModelReply

TIMEOUT, HTTP_ERROR, REFUSED, INVALID_ANSWER = "timeout", "http_error", "refused", "invalid_answer"


class ModelFault(Exception):
    """A request that gave no usable answer; `reason` is the ModelReply failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OpenAIChatModel:
    """The policy's ChatModel over `{base_url}/chat/completions`, answers constrained by a JSON schema."""

    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None,
                 timeout_seconds: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self._model = model
        self._keyed = bool(api_key)
        # The key lives only in the client's headers (httpx masks them in reprs), never in an attribute of ours.
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_seconds)

    def __repr__(self) -> str:
        key = "<set>" if self._keyed else None
        return f"OpenAIChatModel(base_url={self.base_url!r}, model={self._model!r}, api_key={key})"

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int) -> ModelReply:
        """One answer within `timeout_seconds` in all (the model-name lookup included), or a failure."""
        started = time.monotonic()
        try:
            deadline = started + self.timeout_seconds
            model = self._model_name(deadline)
            body = self._request("POST", "/chat/completions", deadline, json=_request_body(
                model, messages, schema, max_tokens))
            reply = _reply(body, model)
        except ModelFault as fault:
            reply = ModelReply(content=None, model=self._model or "", failure=fault.reason)
        return _with_latency(reply, started)

    def close(self) -> None:
        self._http.close()

    def _model_name(self, deadline: float) -> str:
        """The configured model, else the server's first; asked once, kept after the first answer."""
        if self._model is None:
            models = self._request("GET", "/models", deadline)
            try:
                name = models["data"][0]["id"]
            except (KeyError, IndexError, TypeError) as missing:
                raise ModelFault(INVALID_ANSWER) from missing
            if not isinstance(name, str) or not name:
                raise ModelFault(INVALID_ANSWER)
            self._model = name
        return self._model

    def _request(self, method: str, path: str, deadline: float, **kwargs: Any) -> Any:
        """The JSON body of a 2xx answer; every other outcome is a ModelFault."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ModelFault(TIMEOUT)
        try:
            response = self._send(method, path, timeout=remaining, **kwargs)
        except httpx.TimeoutException as slow:  # before the ConnectError family: a timeout is never retried
            raise ModelFault(TIMEOUT) from slow
        except httpx.HTTPError as broken:  # refused, reset, closed mid-answer, not HTTP
            raise ModelFault(HTTP_ERROR) from broken
        if not response.is_success:
            raise ModelFault(HTTP_ERROR)
        try:
            return response.json()
        except ValueError as garbled:  # an HTML error page behind a 200, a truncated body
            raise ModelFault(INVALID_ANSWER) from garbled

    # Nothing was sent when a connection could not be made, so one quick second try is safe; it covers
    # a server between restarts. A timeout is not retried: it has spent the call's time already.
    @tenacity.retry(retry=tenacity.retry_if_exception_type(httpx.ConnectError), stop=tenacity.stop_after_attempt(2),
                    wait=tenacity.wait_fixed(0.05), reraise=True)
    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._http.request(method, path, **kwargs)


def _request_body(model: str, messages: list[dict[str, str]], schema: dict[str, Any],
                  max_tokens: int) -> dict[str, Any]:
    return {"model": model, "messages": messages, "temperature": 0, "max_tokens": max_tokens,
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "answer", "schema": schema, "strict": True}}}


def _reply(body: Any, asked: str) -> ModelReply:
    """The first choice of a chat completion; a body of any other shape is an invalid answer."""
    try:
        choice = body["choices"][0]
        message = choice["message"]
        refused = message.get("refusal") is not None or choice.get("finish_reason") == "content_filter"
        content = message.get("content")
    except (KeyError, IndexError, TypeError, AttributeError) as missing:
        raise ModelFault(INVALID_ANSWER) from missing
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    model = body.get("model") if isinstance(body.get("model"), str) and body.get("model") else asked
    counts = {"prompt_tokens": _count(usage, "prompt_tokens"), "completion_tokens": _count(usage, "completion_tokens")}
    if refused:  # the tokens were still spent
        return ModelReply(content=None, model=model, failure=REFUSED, **counts)
    if not isinstance(content, str):
        raise ModelFault(INVALID_ANSWER)
    return ModelReply(content=content, model=model, **counts)


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and value >= 0 else 0


def _with_latency(reply: ModelReply, started: float) -> ModelReply:
    return replace(reply, latency_ms=(time.monotonic() - started) * 1000)
