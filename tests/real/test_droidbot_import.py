"""`runservice app import-droidbot` on a real DroidBot recording (the `real_apps_dir` fixture: REAL_APPS_DIR,
data the repository does not hold, so only `make test-real` runs this): Habitica, 160 states DroidBot saw
on a phone, are the 7 screens DESIGN.md predicts, and the model runs on the simulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

RUNSERVICE = str(Path(sys.executable).parent / "runservice")
PKG = "com.habitrpg.android.habitica"
MISSING_FIRST_STATE = "914d8086bcec2b89919be2ef65b2ab0b"  # the launcher, left out of the material
EMPTY_EVENT = "events/event_2020-08-29_220148.json"


@pytest.fixture(scope="module")
def imported(real_apps_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[str]]:
    """Habitica imported into a temporary folder (never into the repository): the folder, the summary
    `--json` prints and the warnings on stderr."""
    habitica = real_apps_dir / "droidbot-habitica"
    out = tmp_path_factory.mktemp("habitica")
    done = subprocess.run([RUNSERVICE, "app", "import-droidbot", str(habitica), "-o", str(out), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out, json.loads(done.stdout), [line.removeprefix("warning: ") for line in done.stderr.splitlines()]


def test_habitica_s_160_states_are_its_7_content_free_screens(imported):
    out, summary, _ = imported
    model = json.loads((out / "model.json").read_text())

    assert (summary["states"], summary["screens"]) == (160, 7)
    assert (model["format"], model["package"]) == ("recorded", PKG)
    assert len(model["screens"]) == 7 and all((out / s["pageSource"]).is_file() for s in model["screens"].values())
    assert all((out / s["screenshot"]).read_bytes()[:3] == b"\xff\xd8\xff" for s in model["screens"].values())
    # The first state after DroidBot's `am start`: Habitica's main screen
    assert model["screens"][model["start"]]["activity"] == ".ui.activities.MainActivity"
    activities = {screen["activity"] for screen in model["screens"].values()}
    assert activities == {".ui.activities.MainActivity", ".ui.activities.TaskFormActivity"}
    kinds = {t["action"]["kind"] for t in model["transitions"]}
    assert kinds == {"tap", "long_press", "scroll", "type"}  # its one BACK left the app: no transition
    assert all(t["from"] in model["screens"] and t["to"] in model["screens"] for t in model["transitions"])


def test_the_missing_first_state_and_the_empty_event_file_are_warned_about(imported):
    _, summary, warnings = imported

    assert any(line.startswith(f"state {MISSING_FIRST_STATE}") for line in warnings), warnings
    assert any(line.startswith(EMPTY_EVENT) and "empty" in line for line in warnings), warnings
    assert any("HOME key" in line for line in warnings) and any("an intent" in line for line in warnings)
    invisible = next(line for line in warnings if "a touch on an invisible view" in line)
    assert int(invisible.split()[0]) > 800  # most of DroidBot's 988 touches: views it saw but could not show
    assert summary["warnings"] == warnings


def test_the_model_runs_on_the_simulator_and_follows_a_recorded_touch(imported, driver_for):
    out, _, _ = imported
    model = json.loads((out / "model.json").read_text())
    start = model["screens"][model["start"]]
    driver = driver_for(str(out / "model.json"))

    assert driver.current_activity == start["activity"]
    recorded_ids = set(re.findall(r'resource-id="([^"]+)"', (out / start["pageSource"]).read_text()))
    assert recorded_ids <= set(re.findall(r'resource-id="([^"]+)"', driver.page_source))
    assert driver.get_screenshot_as_png().startswith(b"\x89PNG")  # the recorded JPEG, served as PNG
    to_form = next(t for t in model["transitions"] if t["from"] == model["start"] and t["action"]["kind"] == "tap"
                   and model["screens"][t["to"]]["activity"] == ".ui.activities.TaskFormActivity")
    locator = to_form["action"]["element"]
    driver.find_elements("id", locator["resource-id"])[locator.get("nth", 0)].click()
    assert driver.current_activity == ".ui.activities.TaskFormActivity"
