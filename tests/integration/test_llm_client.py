"""OpenAIChatModel against the real local model (Gemma 3 270M on llama.cpp) through a proxy that pauses,
cuts or answers HTML, and against a tiny local HTTP server for what the real one never does (refuse,
answer 500) and to see the headers and bodies the client sends."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from adapters.llm_client import OpenAIChatModel
from tests.fixtures.appium import free_port

INDEX_SCHEMA = {"type": "object", "properties": {"index": {"type": "integer", "enum": [0, 1, 2]}},
                "required": ["index"]}
PICK = [{"role": "user", "content": "Choose a colour: 0 red, 1 green, 2 blue. Answer with JSON."}]
SLOW_ENOUGH = 60.0  # a real answer on 2 cores shared with a running suite
TIMEOUT = 1.5
MARGIN = 1.0  # a timed-out call returns within TIMEOUT + MARGIN: never two timeouts in a row
KEY = "sk-test-0123456789abcdef"


def first_model_id(base_url: str) -> str:
    return httpx.get(f"{base_url}/models").json()["data"][0]["id"]


@pytest.fixture
def model(llm_proxy: Any) -> Iterator[OpenAIChatModel]:
    client = OpenAIChatModel(llm_proxy.url, timeout_seconds=SLOW_ENOUGH)
    yield client
    client.close()


def test_the_real_model_gives_a_constrained_answer_with_its_token_counts(model, llm_server):
    reply = model.complete(PICK, INDEX_SCHEMA, max_tokens=20)

    assert reply.failure is None, reply
    assert json.loads(reply.content)["index"] in (0, 1, 2), reply.content
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0, reply
    assert reply.model == first_model_id(llm_server)
    assert 0 < reply.latency_ms < SLOW_ENOUGH * 1000


def timed(client: OpenAIChatModel) -> tuple[Any, float]:
    started = time.monotonic()
    reply = client.complete(PICK, INDEX_SCHEMA, max_tokens=20)
    return reply, time.monotonic() - started


@pytest.mark.parametrize("named", [True, False], ids=["model-named", "model-looked-up"])
def test_a_paused_server_is_a_timeout_within_the_call_timeout(llm_proxy, llm_server, named):
    client = OpenAIChatModel(llm_proxy.url, model=first_model_id(llm_server) if named else None,
                             timeout_seconds=TIMEOUT)
    with llm_proxy.paused():
        sent = llm_proxy.sent
        reply, elapsed = timed(client)
        forwarded = llm_proxy.sent - sent
    client.close()

    assert (reply.failure, reply.content, forwarded) == ("timeout", None, 0), reply
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN, elapsed
    assert TIMEOUT * 1000 <= reply.latency_ms < (TIMEOUT + MARGIN) * 1000, reply


def test_a_cut_server_is_an_http_error(model, llm_proxy):
    with llm_proxy.cut():
        reply, elapsed = timed(model)

    assert (reply.failure, reply.content) == ("http_error", None), reply
    assert elapsed < MARGIN, elapsed  # refused at once, not waited for


def test_a_connection_cut_mid_answer_is_an_http_error(model, llm_proxy):
    replies: list[Any] = []
    asking = threading.Thread(target=lambda: replies.append(model.complete(PICK, INDEX_SCHEMA, max_tokens=20)))
    model.complete(PICK, INDEX_SCHEMA, max_tokens=1)  # the model name is looked up: the next call is one POST
    sent = llm_proxy.sent
    with llm_proxy.cut_when(lambda: llm_proxy.sent > sent):  # the request reached the model, which is answering
        asking.start()
        asking.join(SLOW_ENOUGH)

    assert [(r.failure, r.content) for r in replies] == [("http_error", None)], replies


def test_a_login_page_behind_a_200_is_an_invalid_answer(llm_proxy, llm_server):
    named = OpenAIChatModel(llm_proxy.url, model=first_model_id(llm_server), timeout_seconds=SLOW_ENOUGH)
    unnamed = OpenAIChatModel(llm_proxy.url, timeout_seconds=SLOW_ENOUGH)
    with llm_proxy.html():
        replies = [named.complete(PICK, INDEX_SCHEMA, 20), unnamed.complete(PICK, INDEX_SCHEMA, 20)]
        page = httpx.post(f"{llm_proxy.url}/chat/completions", json={})
    named.close()
    unnamed.close()

    assert (page.status_code, page.headers["content-type"].split(";")[0]) == (200, "text/html")  # for real
    assert [(r.failure, r.content) for r in replies] == [("invalid_answer", None)] * 2, replies


def test_no_server_listening_is_an_http_error():
    client = OpenAIChatModel(f"http://127.0.0.1:{free_port()}/v1", model="any", timeout_seconds=SLOW_ENOUGH)
    reply, elapsed = timed(client)
    client.close()

    assert (reply.failure, reply.content) == ("http_error", None), reply
    assert elapsed < MARGIN, elapsed


def test_the_proxy_passes_through_again_after_a_fault(model, llm_proxy):
    with llm_proxy.cut():
        assert model.complete(PICK, INDEX_SCHEMA, 20).failure == "http_error"
    reply = model.complete(PICK, INDEX_SCHEMA, max_tokens=20)
    assert reply.failure is None and json.loads(reply.content)["index"] in (0, 1, 2), reply


class CannedModel(ThreadingHTTPServer):
    """A tiny OpenAI-like server that records every request and answers what a test set."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CannedHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/v1"
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.models = {"object": "list", "data": [{"id": "canned-model", "object": "model"}]}
        self.status, self.answer = 200, completion('{"index": 1}')


class CannedHandler(BaseHTTPRequestHandler):
    server: CannedModel

    def do_GET(self) -> None:
        self._record(None)
        self._send(200, self.server.models)

    def do_POST(self) -> None:
        self._record(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self._send(self.server.status, self.server.answer)

    def _record(self, body: Any) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers), body))

    def _send(self, status: int, answer: Any) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass  # quiet test output


def completion(content: str | None, finish_reason: str = "stop", **message: Any) -> dict[str, Any]:
    return {"object": "chat.completion", "model": "canned-model",
            "choices": [{"index": 0, "finish_reason": finish_reason,
                         "message": {"role": "assistant", "content": content, **message}}],
            "usage": {"prompt_tokens": 31, "completion_tokens": 7, "total_tokens": 38}}


@pytest.fixture
def canned() -> Iterator[CannedModel]:
    server = CannedModel()
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # quick shutdown
    yield server
    server.shutdown()
    server.server_close()


def test_the_request_is_constrained_and_the_model_looked_up_once(canned):
    client = OpenAIChatModel(canned.url)
    replies = [client.complete(PICK, INDEX_SCHEMA, max_tokens=12) for _ in range(2)]
    client.close()

    assert [(m, p) for m, p, _, _ in canned.requests] == [
        ("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("POST", "/v1/chat/completions")]
    sent = canned.requests[1][3]
    assert sent == {"model": "canned-model", "messages": PICK, "temperature": 0, "max_tokens": 12,
                    "response_format": {"type": "json_schema", "json_schema": {
                        "name": "answer", "schema": INDEX_SCHEMA, "strict": True}}}
    assert [(r.content, r.model, r.prompt_tokens, r.completion_tokens) for r in replies] == [
        ('{"index": 1}', "canned-model", 31, 7)] * 2


def test_the_key_is_sent_as_bearer_and_shown_nowhere(canned, caplog):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at DEBUG
    client = OpenAIChatModel(canned.url, model="canned-model", api_key=KEY)
    reply = client.complete(PICK, INDEX_SCHEMA, 12)
    keyless = OpenAIChatModel(canned.url, model="canned-model")
    keyless.complete(PICK, INDEX_SCHEMA, 12)
    client.close()
    keyless.close()

    assert reply.failure is None, reply
    assert [h.get("Authorization") for _, _, h, _ in canned.requests] == [f"Bearer {KEY}", None]
    assert caplog.records and KEY not in caplog.text  # it did log, and not the key
    for shown in (repr(client), str(client), repr(reply), repr(vars(client))):
        assert KEY not in shown, shown
    assert "<set>" in repr(client) and "api_key=None" in repr(keyless)


@pytest.mark.parametrize(("status", "answer", "failure"), [
    (200, completion(None, refusal="I can't help with that."), "refused"),
    (200, completion("", finish_reason="content_filter"), "refused"),
    (500, {"error": {"message": "model crashed"}}, "http_error"),
    (429, {"error": {"message": "rate limited"}}, "http_error"),
    (200, {"error": {"message": "no choices"}}, "invalid_answer"),
    (200, {"choices": []}, "invalid_answer"),
    (200, completion(None), "invalid_answer"),
    (200, [1, 2, 3], "invalid_answer"),
], ids=["refusal", "content-filter", "500", "429", "error-body", "no-choices", "no-content", "not-an-object"])
def test_each_bad_answer_has_its_reason(canned, status, answer, failure):
    canned.status, canned.answer = status, answer
    client = OpenAIChatModel(canned.url, model="canned-model")
    reply = client.complete(PICK, INDEX_SCHEMA, 12)
    client.close()

    assert (reply.failure, reply.content) == (failure, None), reply
    assert reply.latency_ms > 0
    assert len(canned.requests) == 1  # answered, so never retried


def test_a_refusal_still_counts_its_tokens(canned):
    canned.answer = completion(None, refusal="No.")
    client = OpenAIChatModel(canned.url, model="canned-model")
    reply = client.complete(PICK, INDEX_SCHEMA, 12)
    client.close()

    assert (reply.failure, reply.prompt_tokens, reply.completion_tokens) == ("refused", 31, 7)


def test_a_models_list_without_models_is_an_invalid_answer_and_asked_again_next_call(canned):
    canned.models = {"object": "list", "data": []}
    client = OpenAIChatModel(canned.url)
    first = client.complete(PICK, INDEX_SCHEMA, 12)
    canned.models = {"object": "list", "data": [{"id": "late-model"}]}
    second = client.complete(PICK, INDEX_SCHEMA, 12)
    client.close()

    assert (first.failure, second.failure) == ("invalid_answer", None), (first, second)
    assert [(m, p) for m, p, _, _ in canned.requests] == [
        ("GET", "/v1/models"), ("GET", "/v1/models"), ("POST", "/v1/chat/completions")]
    assert canned.requests[-1][3]["model"] == "late-model"
