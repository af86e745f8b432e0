"""`runservice app import-droidbot` on small DroidBot output folders the tests write (DESIGN.md "Real apps"):
one screen per content-free state, its events as transitions, what cannot be read or is no transition
skipped with a warning, a folder without utg.js refused; the model it writes runs on the simulator."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from runservice_client.droidbot import read_droidbot

RUNSERVICE = str(Path(sys.executable).parent / "runservice")
PKG = "org.example.tasks"
ID = f"{PKG}:id/"
FULL = ((0, 0), (1080, 1920))


def png(width: int = 4, height: int = 4) -> bytes:
    """A real (tiny, grey) PNG, written with the stdlib."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def view(temp_id: int, parent: int, cls: str, rid: str | None = None, text: str | None = None,
         bounds: tuple = FULL, children: tuple[int, ...] = (), visible: bool = True, **flags: bool) -> dict[str, Any]:
    """One entry of a DroidBot state's `views`, with the keys DroidBot writes."""
    return {"temp_id": temp_id, "parent": parent, "children": list(children), "child_count": len(children),
            "class": cls, "package": PKG, "resource_id": rid and ID + rid, "text": text,
            "content_description": None, "bounds": [list(point) for point in bounds], "visible": visible,
            "size": "", "view_str": f"view{temp_id}", "signature": "", "content_free_signature": "",
            **{flag: flags.get(flag, False) for flag in ("clickable", "long_clickable", "scrollable", "checkable",
                                                        "checked", "editable", "focusable", "focused", "selected",
                                                        "is_password")},
            "enabled": True}


def tasks_views(title: str) -> list[dict[str, Any]]:
    return [view(0, -1, "android.widget.FrameLayout", children=(1, 2, 3, 4)),
            view(1, 0, "android.widget.TextView", "title", title, ((0, 72), (1080, 200))),
            view(2, 0, "android.widget.Button", "add", "Add task", ((40, 1700), (1040, 1840)), clickable=True),
            view(3, 0, "android.widget.Button", "ghost", "Hidden", ((1200, 0), (1100, 50)), visible=False,
                 clickable=True),
            view(4, 0, "androidx.recyclerview.widget.RecyclerView", "list", None, ((0, 200), (1080, 1600)),
                 children=(5, 6), scrollable=True),
            view(5, 4, "android.widget.TextView", "task", "Water the plants", ((0, 200), (1080, 400)),
                 clickable=True, long_clickable=True),
            view(6, 4, "android.widget.TextView", "task", "Call \x01Mum", ((0, 400), (1080, 600)),
                 clickable=True, long_clickable=True)]


FORM_VIEWS = [view(0, -1, "android.widget.FrameLayout", children=(1, 2, 3)),
              view(1, 0, "android.widget.EditText", "name", "", ((40, 200), (1040, 340)), clickable=True,
                   editable=True),
              view(2, 0, "android.widget.Button", "save", "Save", ((40, 1700), (1040, 1840)), clickable=True),
              view(3, 0, "android.widget.ImageView", None, None, ((900, 72), (1000, 172)), clickable=True)]


class DroidBotFolder:
    """An output folder as DroidBot writes it: utg.js, states/state_<tag>.json + screen_<tag>.jpg, events/."""

    def __init__(self, root: Path) -> None:
        self.root, self.nodes = root, []
        (root / "states").mkdir(parents=True)
        (root / "events").mkdir()

    def state(self, tag: str, state_str: str, content_free: str, activity: str, views: list[dict[str, Any]],
              screenshot: bytes | None = b"", package: str = PKG) -> None:
        data = {"tag": tag, "state_str": state_str, "state_str_content_free": content_free,
                "foreground_activity": f"{package}/{activity}", "activity_stack": [f"{package}/{activity}"],
                "views": views}
        (self.root / "states" / f"state_{tag}.json").write_text(json.dumps(data))
        if screenshot is not None:
            (self.root / "states" / f"screen_{tag}.jpg").write_bytes(screenshot or png())
        self.node(state_str, package, activity, tag)

    def node(self, state_str: str, package: str, activity: str, tag: str) -> None:
        self.nodes.append({"id": state_str, "state_str": state_str, "package": package, "activity": activity,
                           "image": f"states/screen_{tag}.jpg", "structure_str": "x"})

    def event(self, tag: str, event: dict[str, Any], start: str, stop: str) -> None:
        data = {"tag": tag, "event": event, "start_state": start, "stop_state": stop, "event_str": ""}
        (self.root / "events" / f"event_{tag}.json").write_text(json.dumps(data))

    def utg(self) -> None:
        utg = {"nodes": self.nodes, "edges": [], "num_nodes": len(self.nodes), "app_package": PKG,
               "app_main_activity": f"{PKG}.TasksActivity"}
        (self.root / "utg.js").write_text("var utg = \n" + json.dumps(utg, indent=2))


def ui(kind: str, views: list[dict[str, Any]], index: int, **fields: Any) -> dict[str, Any]:
    return {"event_type": kind, "x": None, "y": None, "view": views[index], **fields}


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Two content-free states (the task list twice, with other texts) and a form; a launcher state that
    utg.js names but the folder lacks, a permission controller's state; HOME, intent, kill-app events, a touch
    on an invisible view, an empty event file, an event from a state nobody has and one to the controller's
    state, a broken state file and a broken screenshot."""
    folder = DroidBotFolder(tmp_path / "droidbot-out")
    list_1, list_2 = tasks_views("3 tasks"), tasks_views("4 tasks")
    folder.node("launcher", "com.android.launcher3", ".Launcher", "2020-08-29_220100")  # its state is not here
    folder.state("2020-08-29_220101", "list-1", "tasks", ".TasksActivity", list_1)
    folder.state("2020-08-29_220102", "form-1", "form", ".TaskFormActivity", FORM_VIEWS, screenshot=b"not an image")
    folder.state("2020-08-29_220105", "list-2", "tasks", ".TasksActivity", list_2)
    folder.state("2020-08-29_220112", "permission", "dialog", ".GrantPermissionsActivity", FORM_VIEWS[:1],
                 package="com.android.permissioncontroller")
    (folder.root / "states" / "state_2020-08-29_220199.json").write_text('{"views": [')
    launch = {"event_type": "intent", "intent": f"am start {PKG}/{PKG}.TasksActivity"}
    folder.event("2020-08-29_220100", launch, "launcher", "list-1")
    folder.event("2020-08-29_220101", ui("touch", list_1, 2), "list-1", "form-1")
    folder.event("2020-08-29_220102", ui("set_text", FORM_VIEWS, 1, text="Buy milk"), "form-1", "form-1")
    folder.event("2020-08-29_220103", ui("touch", FORM_VIEWS, 3), "form-1", "form-1")
    folder.event("2020-08-29_220104", {"event_type": "key", "name": "BACK"}, "form-1", "list-2")
    folder.event("2020-08-29_220105", ui("touch", list_2, 3), "list-2", "list-2")
    folder.event("2020-08-29_220106", {"event_type": "key", "name": "HOME"}, "list-2", "launcher")
    folder.event("2020-08-29_220107", ui("long_touch", list_2, 6, duration=2000), "list-2", "form-1")
    folder.event("2020-08-29_220108", ui("scroll", list_2, 4, direction="UP"), "list-2", "list-2")
    (folder.root / "events" / "event_2020-08-29_220109.json").write_text("")
    folder.event("2020-08-29_220110", {"event_type": "kill_app", "stop_intent": f"am force-stop {PKG}"},
                 "list-2", "launcher")
    folder.event("2020-08-29_220111", ui("touch", list_1, 2), "elsewhere", "list-1")
    folder.event("2020-08-29_220112", ui("touch", FORM_VIEWS, 2), "form-1", "permission")
    folder.utg()
    return folder.root


def import_droidbot(folder: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNSERVICE, "app", "import-droidbot", str(folder), "-o", str(out), *extra],
                          capture_output=True, text=True, timeout=60)


def test_states_that_share_a_content_free_state_are_one_screen_shown_as_the_first(recording, tmp_path):
    done = import_droidbot(recording, tmp_path / "tasks")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {tmp_path / 'tasks' / 'model.json'}: 3 screens, 7 transitions")
    model = json.loads((tmp_path / "tasks" / "model.json").read_text())
    assert (model["format"], model["package"], model["start"]) == ("recorded", PKG, "s0")
    assert model["screens"] == {
        "s0": {"activity": ".TasksActivity", "pageSource": "screens/s0.xml", "screenshot": "screens/s0.png"},
        "s1": {"activity": ".TaskFormActivity", "pageSource": "screens/s1.xml"},  # its screenshot is broken
        "s2": {"activity": "com.android.permissioncontroller.GrantPermissionsActivity",
               "package": "com.android.permissioncontroller", "pageSource": "screens/s2.xml",
               "screenshot": "screens/s2.png"}}  # the system's dialog: marked, not the app's
    assert (tmp_path / "tasks" / "screens" / "s0.png").read_bytes() == png()
    hierarchy = ElementTree.parse(tmp_path / "tasks" / "screens" / "s0.xml").getroot()
    nodes = {node.get("resource-id"): node for node in hierarchy.iter() if node.get("resource-id")}
    assert hierarchy.tag == "hierarchy" and (hierarchy.get("width"), hierarchy.get("height")) == ("1080", "1920")
    assert nodes[ID + "title"].get("text") == "3 tasks"  # the first state's texts
    assert nodes[ID + "add"].tag == "android.widget.Button"
    assert {k: nodes[ID + "add"].get(k) for k in ("clickable", "bounds", "displayed")} == \
        {"clickable": "true", "bounds": "[40,1700][1040,1840]", "displayed": "true"}
    assert ID + "ghost" not in nodes  # not visible to the user: UiAutomator2 leaves it out
    assert [n.get("text") for n in hierarchy.iter() if n.get("resource-id") == ID + "task"] == \
        ["Water the plants", "Call Mum"]  # a control character XML cannot hold is dropped


def test_the_events_from_any_state_of_a_screen_are_its_transitions(recording, tmp_path):
    model = read_droidbot(recording).model

    assert model["transitions"] == [
        {"from": "s0", "action": {"kind": "tap", "element": {"resource-id": ID + "add"}}, "to": "s1"},
        {"from": "s1", "action": {"kind": "type", "element": {"resource-id": ID + "name"}}, "to": "s1"},
        {"from": "s1", "action": {"kind": "tap", "at": [950, 122]}, "to": "s1"},  # no id: the view's centre
        {"from": "s1", "action": {"kind": "back"}, "to": "s0"},
        {"from": "s0", "action": {"kind": "long_press", "element": {"resource-id": ID + "task", "nth": 1}},
         "to": "s1"},
        {"from": "s0", "action": {"kind": "scroll", "element": {"resource-id": ID + "list"}, "direction": "up"},
         "to": "s0"},
        {"from": "s1", "action": {"kind": "tap", "element": {"resource-id": ID + "save"}}, "to": "s2"}]


def test_what_cannot_be_read_or_is_no_transition_is_skipped_with_a_warning(recording, tmp_path):
    done = import_droidbot(recording, tmp_path / "tasks")

    warnings = [line.removeprefix("warning: ") for line in done.stderr.splitlines()]
    assert all(line.startswith("warning: ") for line in done.stderr.splitlines()), done.stderr
    expected = {
        "state launcher": "no state file",  # named by utg.js, not in the folder
        "states/state_2020-08-29_220199.json": "not JSON",
        "states/screen_2020-08-29_220102.jpg": "not a JPEG or PNG",
        "events/event_2020-08-29_220109.json": "empty",
        "events/event_2020-08-29_220100.json": "an intent: not a transition",
        "events/event_2020-08-29_220105.json": "a touch on an invisible view",
        "events/event_2020-08-29_220106.json": "HOME key: not a transition",
        "events/event_2020-08-29_220110.json": "a kill-app event: not a transition",
        "events/event_2020-08-29_220111.json": "from a state the folder does not have",
        "states": "1 are system dialogs (the permission controller's) (com.android.permissioncontroller), not the "
                  "app's: screen s2, marked with their package",
    }
    for where, problem in expected.items():
        assert any(line.startswith(where) and problem in line for line in warnings), (where, done.stderr)
    assert len(warnings) == len(expected), done.stderr
    summary = json.loads(import_droidbot(recording, tmp_path / "again", "--json").stdout)
    assert (summary["screens"], summary["transitions"], summary["states"], summary["events"]) == (3, 7, 4, 12)
    assert summary["warnings"] == warnings


def test_a_folder_without_utg_js_is_refused_in_one_line_with_exit_status_2(recording, tmp_path):
    os.remove(recording / "utg.js")

    done = import_droidbot(recording, tmp_path / "tasks")

    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"Error: {recording}: no utg.js, so not a DroidBot output folder"]
    assert not (tmp_path / "tasks").exists()
    missing = import_droidbot(tmp_path / "nowhere", tmp_path / "tasks")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr


def test_the_model_runs_on_the_simulator_from_its_first_screen(recording, tmp_path, driver_for):
    assert import_droidbot(recording, tmp_path / "tasks").returncode == 0
    driver = driver_for(str(tmp_path / "tasks" / "model.json"))

    assert driver.current_activity == ".TasksActivity"
    assert f'resource-id="{ID}add"' in driver.page_source and "3 tasks" in driver.page_source
    assert driver.get_screenshot_as_png().startswith(b"\x89PNG")
    driver.find_element("id", ID + "add").click()
    assert f'resource-id="{ID}save"' in driver.page_source  # the recorded touch: to the form
    assert driver.current_activity == ".TaskFormActivity"
    driver.back()
    assert f'resource-id="{ID}add"' in driver.page_source


# States of the permission controller and of other apps between the app's (DESIGN.md "What real apps do to an
# agent"): screens marked with their package, not the app's; the launcher's no screen at all

CONTROLLER, CHROME, LAUNCHER = "com.android.permissioncontroller", "com.android.chrome", "com.android.launcher3"
GRANT = ".permission.ui.GrantPermissionsActivity"


def of(package: str, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The views as another package draws them: its package, its resource ids."""
    return [{**v, "package": package, "resource_id": v["resource_id"] and v["resource_id"].replace(PKG, package)}
            for v in views]


HOME_VIEWS = [view(0, -1, "android.widget.FrameLayout", children=(1, 2, 3)),
              view(1, 0, "android.widget.TextView", "title", "Tasks", ((0, 72), (1080, 200))),
              view(2, 0, "android.widget.Button", "photo", "Add a photo", ((40, 300), (1040, 440)), clickable=True),
              view(3, 0, "android.widget.Button", "terms", "Terms", ((40, 500), (1040, 640)), clickable=True)]
CAMERA_VIEWS = [view(0, -1, "android.widget.FrameLayout", children=(1,)),
                view(1, 0, "android.widget.TextView", "title", "Camera", ((0, 72), (1080, 200)))]
DIALOG_VIEWS = of(CONTROLLER, [
    view(0, -1, "android.widget.FrameLayout", children=(1, 2, 3)),
    view(1, 0, "android.widget.TextView", "permission_message", "Allow Tasks to take pictures and record video?",
         ((100, 800), (980, 950))),
    view(2, 0, "android.widget.Button", "permission_allow_foreground_only_button", "WHILE USING THE APP",
         ((100, 1000), (980, 1130)), clickable=True),
    view(3, 0, "android.widget.Button", "permission_deny_button", "DENY", ((100, 1130), (980, 1260)), clickable=True)])
BROWSER_VIEWS = of(CHROME, [view(0, -1, "android.widget.FrameLayout", children=(1,)),
                            view(1, 0, "android.widget.EditText", "url_bar", "tasks.example/terms",
                                 ((0, 72), (1080, 200)), clickable=True, editable=True)])
LAUNCHER_VIEWS = of(LAUNCHER, [view(0, -1, "android.widget.FrameLayout")])


@pytest.fixture
def leaving(tmp_path: Path) -> Path:
    """home -> "Add a photo" -> the permission dialog -> "while using the app" -> camera -> back -> home ->
    "Terms" -> Chrome -> back -> home -> HOME -> the launcher (whose state the folder has)."""
    folder = DroidBotFolder(tmp_path / "droidbot-out")
    folder.state("2020-08-29_220101", "home-1", "home", ".TasksActivity", HOME_VIEWS)
    folder.state("2020-08-29_220102", "dialog-1", "dialog", GRANT, DIALOG_VIEWS, package=CONTROLLER)
    folder.state("2020-08-29_220103", "camera-1", "camera", ".CameraActivity", CAMERA_VIEWS)
    folder.state("2020-08-29_220104", "chrome-1", "chrome", "com.google.android.apps.chrome.Main", BROWSER_VIEWS,
                 package=CHROME)
    folder.state("2020-08-29_220105", "launcher-1", "launcher", ".Launcher", LAUNCHER_VIEWS, package=LAUNCHER)
    launch = {"event_type": "intent", "intent": f"am start {PKG}/{PKG}.TasksActivity"}
    folder.event("2020-08-29_220100", launch, "launcher-1", "home-1")
    folder.event("2020-08-29_220101", ui("touch", HOME_VIEWS, 2), "home-1", "dialog-1")
    folder.event("2020-08-29_220102", ui("touch", DIALOG_VIEWS, 2), "dialog-1", "camera-1")
    folder.event("2020-08-29_220103", {"event_type": "key", "name": "BACK"}, "camera-1", "home-1")
    folder.event("2020-08-29_220104", ui("touch", HOME_VIEWS, 3), "home-1", "chrome-1")
    folder.event("2020-08-29_220105", {"event_type": "key", "name": "BACK"}, "chrome-1", "home-1")
    folder.event("2020-08-29_220106", {"event_type": "key", "name": "BACK"}, "home-1", "launcher-1")
    folder.utg()
    return folder.root


def test_permission_controller_and_other_app_states_are_marked_screens_not_the_app_s(leaving):
    imported = read_droidbot(leaving)
    model = imported.model

    assert model["start"] == "s0"
    assert model["screens"] == {
        "s0": {"activity": ".TasksActivity", "pageSource": "screens/s0.xml", "screenshot": "screens/s0.png"},
        "s1": {"activity": CONTROLLER + GRANT, "package": CONTROLLER, "pageSource": "screens/s1.xml",
               "screenshot": "screens/s1.png"},
        "s2": {"activity": ".CameraActivity", "pageSource": "screens/s2.xml", "screenshot": "screens/s2.png"},
        "s3": {"activity": "com.google.android.apps.chrome.Main", "package": CHROME, "pageSource": "screens/s3.xml",
               "screenshot": "screens/s3.png"}}  # the launcher's state is no screen
    app_screens = {name for name, screen in model["screens"].items() if "package" not in screen}
    assert app_screens == {"s0", "s2"}
    dialog = ElementTree.fromstring(imported.files["screens/s1.xml"])
    assert {n.get("package") for n in dialog.iter() if n.tag != "hierarchy"} == {CONTROLLER}
    assert model["transitions"] == [
        {"from": "s0", "action": {"kind": "tap", "element": {"resource-id": ID + "photo"}}, "to": "s1"},
        {"from": "s1", "action": {"kind": "tap", "element": {
            "resource-id": f"{CONTROLLER}:id/permission_allow_foreground_only_button"}}, "to": "s2"},
        {"from": "s2", "action": {"kind": "back"}, "to": "s0"},
        {"from": "s0", "action": {"kind": "tap", "element": {"resource-id": ID + "terms"}}, "to": "s3"},
        {"from": "s3", "action": {"kind": "back"}, "to": "s0"}]
    assert "states: 1 are system dialogs (the permission controller's) (com.android.permissioncontroller), not " \
           "the app's: screen s1, marked with their package" in imported.warnings
    assert "states: 1 are other apps' (com.android.chrome), not the app's: screen s3, marked with their package" \
        in imported.warnings
    assert f"states: 1 of the launcher or the system UI ({LAUNCHER}) are no screen: left out" in imported.warnings
    assert any(line.startswith("events/event_2020-08-29_220106.json: to a state") for line in imported.warnings)


def test_the_dialog_and_the_other_app_are_served_as_a_phone_shows_them(leaving, tmp_path, driver_for):
    assert import_droidbot(leaving, tmp_path / "tasks").returncode == 0
    driver = driver_for(str(tmp_path / "tasks" / "model.json"))
    assert (driver.current_package, driver.current_activity) == (PKG, ".TasksActivity")

    driver.find_element("id", ID + "photo").click()
    assert (driver.current_package, driver.current_activity) == (CONTROLLER, CONTROLLER + GRANT)
    driver.find_element("id", f"{CONTROLLER}:id/permission_allow_foreground_only_button").click()
    assert (driver.current_package, driver.current_activity) == (PKG, ".CameraActivity")  # where DroidBot went
    driver.back()
    assert (driver.current_package, driver.find_element("id", ID + "title").text) == (PKG, "Tasks")

    driver.find_element("id", ID + "photo").click()
    driver.back()  # back on the dialog: the app's screen below it, as back answers deny
    assert (driver.current_package, driver.current_activity) == (PKG, ".TasksActivity")

    driver.find_element("id", ID + "terms").click()
    assert driver.current_package == CHROME and "tasks.example/terms" in driver.page_source
    driver.back()
    assert (driver.current_package, driver.current_activity) == (PKG, ".TasksActivity")
