"""examples/explore.ipynb, executed top to bottom on a real kernel against the live test service, so it never rots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def outputs(cell: Any) -> dict[str, str]:
    """Each output's data by MIME type (text streams as text/plain), joined."""
    found: dict[str, str] = {}
    for output in cell.get("outputs", []):
        data = output.get("data", {"text/plain": output.get("text", "")})
        for mime, value in data.items():
            found[mime] = found.get(mime, "") + (value if isinstance(value, str) else str(value))
    return found


def test_the_example_notebook_runs_top_to_bottom(service, appium_server, monkeypatch):
    monkeypatch.setenv("RUNSERVICE_URL", service.api_url)
    monkeypatch.setenv("RUNSERVICE_APPIUM_URL", appium_server)
    monkeypatch.setenv("RUNSERVICE_MAX_STEPS", "6")  # the kernel inherits the environment
    monkeypatch.setenv("RUNSERVICE_POLICY", "random")  # not the default: the table shows it was passed on
    notebook = nbformat.read(EXAMPLES / "explore.ipynb", as_version=4)

    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(EXAMPLES)}}).execute()  # raises on any cell's error
    cells = [outputs(cell) for cell in notebook.cells if cell.cell_type == "code"]
    shown = "\n".join(text for cell in cells for text in cell.values())
    watched = next(cell for cell in cells if "Run</b>" in cell.get("text/html", ""))
    assert "completed" in watched["text/html"] and "<svg" in watched["text/html"]  # the run, as HTML
    frames = [cell["text/html"] for cell in cells if 'class="dataframe"' in cell.get("text/html", "")]
    table = next(frame for frame in frames if "screensDiscovered" in frame)
    assert all(app in table for app in ("notes", "settings", "shop"))  # metrics compared, one row per app
    assert "<th>policy</th>" in table and table.count("<td>random</td>") == 3  # each run's policy, from the service
    assert "<th>findings</th>" in table  # each run's count of findings
    # What broke: the shop's home screen has two accessibility problems, so some run has findings.
    by_app = next(frame for frame in frames if "<th>accessibility</th>" in frame)
    assert "<th>shop</th>" in by_app
    listed = next(cell["text/html"] for cell in cells if "<th style='text-align:left'>kind</th>" in cell.get("text/html", ""))
    assert listed.count("<tr>") >= 3 and "<td>accessibility</td>" in listed  # the head, and two findings or more
    report = next(cell["text/plain"] for cell in cells if "'failures'" in cell.get("text/plain", ""))
    assert int(re.search(r"'failures': '(\d+)'", report).group(1)) >= 1  # JUnit: a failing accessibility rule
    assert any("<svg" in cell.get("image/svg+xml", "") for cell in cells)  # a screen graph drawn
    assert "Traceback" not in shown
