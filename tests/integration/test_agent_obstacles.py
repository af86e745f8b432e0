"""What real apps do to an agent, on the simulator (apps/snap.json): a permission dialog answered and kept
out of the graph, another app (Chrome) left and come back from, the keyboard hidden after typing."""

from __future__ import annotations

from typing import Any

from tests.fixtures.appium import sample_app
from tests.integration.test_agent import Finished, h  # noqa: F401 - h is the harness fixture

SNAP = ("com.example.snap", ".HomeActivity")
CHROME = "com.android.chrome"
CONTROLLERS = {"com.android.permissioncontroller", "com.google.android.permissioncontroller"}


def facts(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in ("runId", "seq", "ts")}


def test_snap_dialogs_answered_chrome_left_and_the_keyboard_hidden(h: Any) -> None:
    finished: Finished = h.explore(sample_app("snap"), SNAP, max_steps=80)

    assert finished.terminal.name == "run.completed", finished.terminal
    perceived = finished.named("agent.screen.perceived")
    assert {p["package"] for p in perceived} == {SNAP[0]}  # neither the controller's nor Chrome's screens
    home, camera = finished.screen_of(".HomeActivity"), finished.screen_of(".CameraActivity")

    camera_dialog = next(d for d in finished.named("agent.system.dialog") if "pictures" in d["message"])
    assert (camera_dialog["kind"], camera_dialog["answer"]) == ("permission", "WHILE USING THE APP")
    shoot_step = camera_dialog["stepOrdinal"]
    assert finished.actions()[shoot_step - 1] == "tap:id/shoot"
    transitions = finished.named("graph.transition.discovered")
    assert (home, "tap:id/shoot", camera) in {(t["fromScreen"], t["action"]["action_id"], t["toScreen"])
                                              for t in transitions}

    (left,) = finished.named("agent.app.left")
    assert (left["package"], left["actionId"]) == (CHROME, "tap:id/terms")
    (exit_,) = [t for t in transitions if t["toScreen"] is None]
    assert (exit_["fromScreen"], exit_["leftTo"], exit_["stepOrdinal"]) == (home, CHROME, left["stepOrdinal"])
    assert perceived[left["stepOrdinal"]]["screenId"] == home  # the next step starts back in the app
    assert finished.actions().count("tap:id/terms") == 1
    assert not CONTROLLERS & {d["activity"].split("/")[0] for d in finished.named("graph.screen.discovered")}

    typed = finished.actions().index("type:id/search") + 1
    act = next(c for c in finished.calls() if c.name == "Act" and c.step == typed)
    assert act.detail["keyboardHidden"] is True
    labels = set(finished.terminal.data["labels"])
    assert {"system_dialogs", "left_app"} <= labels
    assert finished.metrics["appLeft"] == 1 and finished.metrics["systemDialogs"] >= 1
