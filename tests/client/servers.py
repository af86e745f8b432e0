"""A tiny real HTTP server on loopback that answers as a test scripts it: 503s, dropped streams, a proxy.

The client talks to it over real sockets, so its retries and stream resumption are exercised as
they would be against a flaky network, with no mock inside the client.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Seen:
    """What the server received: one (method, path, headers) per request."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def of(self, method: str, path_start: str) -> list[dict[str, str]]:
        return [headers for m, p, headers in self.requests if m == method and p.startswith(path_start)]


Responder = Callable[["Handler", int], None]  # (handler, how many requests came before this one)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    responder: Responder
    seen: Seen
    lock: threading.Lock

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        self.body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.lock:
            count = len(self.seen.requests)
            self.seen.requests.append((self.command, self.path, dict(self.headers)))
        type(self).responder(self, count)

    def send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_events(self, events: list[tuple[int, str, dict[str, Any]]], end: str = "close",
                    comments: int = 0) -> None:
        """SSE frames; then `end` "close" (a clean end) or "drop" (the connection dies mid-body)."""
        frames = ": keep-alive\n\n" * comments
        frames += "".join(f"id: {seq}\nevent: {name}\ndata: {json.dumps(data)}\n\n" for seq, name, data in events)
        payload = frames.encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        # A dropped stream promises more than it sends: the client sees the connection die.
        self.send_header("content-length", str(len(payload) + (1000 if end == "drop" else 0)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: Any) -> None:  # keep pytest's output clean
        pass


@contextmanager
def scripted_server(responder: Responder) -> Iterator[tuple[str, Seen]]:
    seen = Seen()
    handler = type("ScriptedHandler", (Handler,), {"responder": staticmethod(responder), "seen": seen,
                                                   "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def losing_first_answer(target_url: str, answers: list[tuple[int, dict[str, Any]]]) -> Responder:
    """A proxy to the real service that passes every request on, but loses the first answer and says 503
    instead: the run was created, the caller never heard. `answers` gets what the service really said."""
    def respond(handler: Handler, count: int) -> None:
        headers = {k: v for k, v in handler.headers.items() if k.lower() in ("content-type", "idempotency-key")}
        real = httpx.request(handler.command, target_url + handler.path, content=handler.body, headers=headers,
                             timeout=30)
        answers.append((real.status_code, real.json()))
        if count == 0:
            handler.send_json(503, {"code": "unavailable", "message": "lost on the way", "details": None})
        else:
            handler.send_json(real.status_code, real.json())
    return respond
