"""The Appium client's two timeouts, against a real Appium server behind a proxy that can go silent.

Creating a session gets APPIUM_SESSION_TIMEOUT_SECONDS (a real device installs the app and
UiAutomator2's server; one server creating dozens of sessions answers each late); every later
command gets APPIUM_TIMEOUT_SECONDS. A server that stops answering must fail the call, never hang it.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adapters.appium import Device, DeviceUnavailable
from tests.fixtures.appium import sample_app

NOTES = {"apkPath": sample_app("notes"), "packageName": "com.example.notes", "appActivity": ".ConsentActivity"}
SIMULATOR = {"appium:automationName": "Simulator"}
COMMAND_TIMEOUT = 1.0
SESSION_TIMEOUT = 120.0


class SilenceableProxy(ThreadingHTTPServer):
    """Forwards every request to Appium until `silent` is set; from then on reads requests and never answers."""

    daemon_threads = True

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.target = target.rstrip("/")
        self.silent = threading.Event()
        self.released = threading.Event()  # set at teardown: the handlers held silent return
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    server: SilenceableProxy

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.silent.is_set():
            self.server.released.wait()
            return
        request = urllib.request.Request(self.server.target + self.path, body or None, method=self.command,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy(appium_server: str) -> Iterator[SilenceableProxy]:
    server = SilenceableProxy(appium_server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.released.set()
    server.shutdown()
    server.server_close()


def test_a_command_to_a_silent_server_fails_after_the_command_timeout_not_the_sessions(proxy):
    device = Device.open_session(proxy.url, NOTES, SESSION_TIMEOUT, COMMAND_TIMEOUT, SIMULATOR)
    assert "com.example.notes" in device.page_source()  # the session answers through the proxy
    proxy.silent.set()
    began = time.monotonic()
    with pytest.raises(DeviceUnavailable):
        device.page_source()
    assert time.monotonic() - began < SESSION_TIMEOUT / 2  # the command's own timeout ended it


def test_creating_a_session_on_a_silent_server_fails_instead_of_hanging(proxy):
    proxy.silent.set()
    with pytest.raises(DeviceUnavailable, match="unreachable"):
        Device.open_session(proxy.url, NOTES, session_timeout=COMMAND_TIMEOUT, timeout=COMMAND_TIMEOUT,
                            extra_caps=SIMULATOR)
