"""Crashes as a real device shows them: the "keeps stopping" dialog, the process gone, the stack in logcat."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import SessionNotCreatedException

from tests.sim.helpers import (
    CRASH_DIALOG, LAUNCHER, NOTES, SYSTEM, THREADTIME, by_id, dialog_title, logcat, login, source_tree, tagged,
    tiny_model, write_model,
)

TINY = "com.example.tiny"
NPE = "java.lang.NullPointerException"
SYNC_FRAMES = [
    "com.example.tiny.sync.SyncClient.push(SyncClient.java:88)",
    "com.example.tiny.HomeActivity.onSyncClicked(HomeActivity.java:41)",
]


def crash_app(tmp_path, crash, **top):
    """a: "sync" crashes with `crash`, "to_b" leads to b; long-pressing "sync" crashes too."""
    model = tiny_model(a={"activity": ".HomeActivity", "elements": [
        {"id": "to_b", "class": "android.widget.Button", "text": "To B", "onClick": [{"goto": "b"}]},
        {"id": "sync", "class": "android.widget.Button", "text": "Sync now", "onClick": [{"crash": crash}],
         "onLongClick": [{"crash": crash}]},
    ]})
    model.update(top)
    return write_model(tmp_path, model)


def test_the_crash_dialog_is_what_uiautomator2_dumps_of_androids(driver_for):
    d = driver_for("notes")
    login(d)
    by_id(d, "sync").click()
    root = source_tree(d)
    assert {n.get("package") for n in root.iter() if n.get("package") is not None} == {SYSTEM}
    title = root.find(".//android.widget.TextView[@resource-id='android:id/alertTitle']")
    assert title.get("text") == "Notes keeps stopping"  # the model's label
    buttons = {n.get("resource-id"): n.get("text") for n in root.iter("android.widget.Button")}
    assert buttons == {"android:id/aerr_app_info": "App info", "android:id/aerr_close": "Close app"}
    assert all(n.get("clickable") == "true" for n in root.iter("android.widget.Button"))
    assert d.current_package == SYSTEM
    assert d.current_activity == CRASH_DIALOG
    assert d.query_app_state(NOTES) == 1  # not running: the process died
    assert not d.find_elements("id", "greeting")  # the app's screen is gone
    assert d.find_element("id", "android:id/aerr_close").text == "Close app"
    assert d.get_screenshot_as_png().startswith(b"\x89PNG")


@pytest.mark.parametrize("dismiss", ["close", "app info", "back", "home", "tap"])
def test_close_app_back_or_home_dismiss_the_dialog_to_the_launcher(driver_for, dismiss):
    d = driver_for("notes")
    login(d)
    by_id(d, "sync").click()
    if dismiss == "close":
        by_id(d, "aerr_close").click()
    elif dismiss == "app info":
        by_id(d, "aerr_app_info").click()
    elif dismiss == "back":
        d.back()
    elif dismiss == "home":
        d.press_keycode(3)
    else:
        r = by_id(d, "aerr_close").rect
        d.tap([(r["x"] + r["width"] // 2, r["y"] + r["height"] // 2)])
    assert dialog_title(d) is None
    assert d.current_package == LAUNCHER
    assert d.query_app_state(NOTES) == 1
    d.find_element("accessibility id", "Notes").click()  # the launcher icon starts it afresh
    assert d.current_activity == ".ConsentActivity"


def test_activating_the_app_dismisses_the_dialog_and_starts_it_fresh(driver_for):
    d = driver_for("notes")
    login(d)
    by_id(d, "sync").click()
    d.activate_app(NOTES)
    assert dialog_title(d) is None
    assert (d.current_package, d.current_activity) == (NOTES, ".ConsentActivity")
    assert d.query_app_state(NOTES) == 4
    by_id(d, "accept").click()
    assert by_id(d, "username").text == ""  # fresh state: nothing typed before the crash is left


def test_terminating_the_app_takes_its_dialog_away(driver_for):
    d = driver_for("notes")
    login(d)
    by_id(d, "sync").click()
    assert d.terminate_app(NOTES) is False  # it was not running any more
    assert d.current_package == LAUNCHER


def test_label_name_and_the_packages_last_part_name_the_app_in_the_dialog(driver_for, tmp_path):
    for top, expected in [({}, "tiny"), ({"name": "Tiny Tasks"}, "Tiny Tasks"),
                          ({"name": "Tiny Tasks", "label": "Tasks"}, "Tasks")]:
        d = driver_for(crash_app(tmp_path, True, **top))
        by_id(d, "sync").click()
        assert dialog_title(d) == f"{expected} keeps stopping"


def fatal_block(lines):
    """The AndroidRuntime lines from FATAL EXCEPTION on: [(pid, message)]."""
    rows = [(m.group(1), m.group(5)) for m in map(THREADTIME.match, lines) if m and m.group(4) == "AndroidRuntime"
            and m.group(3) == "E"]
    start = [i for i, (_, msg) in enumerate(rows) if msg == "FATAL EXCEPTION: main"]
    assert len(start) == 1, lines
    return rows[start[0]:]


def test_logcat_has_the_fatal_exception_block_among_ordinary_lines(driver_for, tmp_path):
    crash = {"exception": NPE, "message": "token is null", "frames": SYNC_FRAMES}
    d = driver_for(crash_app(tmp_path, crash))
    assert "logcat" in d.log_types
    started = logcat(d)
    (proc,) = [m for m in tagged(started, "ActivityManager") if m.startswith("Start proc ")]
    pid = proc.split()[2].split(":")[0]
    assert proc == f"Start proc {pid}:{TINY}/u0a150 for top-activity {{{TINY}/{TINY}.HomeActivity}}"
    assert any(m.startswith(f"Displayed {TINY}/.HomeActivity: +") for m in tagged(started, "ActivityManager"))
    assert logcat(d) == []  # each read returns what came since the last one
    by_id(d, "sync").click()
    entries = d.get_log("logcat")
    assert all(set(e) == {"timestamp", "level", "message"} and e["level"] == "ALL" for e in entries)
    assert all(isinstance(e["timestamp"], int) for e in entries)
    lines = [e["message"] for e in entries]
    assert all(THREADTIME.match(line) for line in lines), lines
    block = fatal_block(lines)
    assert {p for p, _ in block} == {pid}
    messages = [msg for _, msg in block]
    assert messages[:3] == ["FATAL EXCEPTION: main", f"Process: {TINY}, PID: {pid}", f"{NPE}: token is null"]
    frames = [msg for msg in messages[3:]]
    assert all(f.startswith("\tat ") for f in frames)
    assert frames[:3] == [f"\tat {SYNC_FRAMES[0]}", f"\tat {SYNC_FRAMES[1]}", "\tat android.view.View.performClick(View.java:7448)"]
    assert frames[-1] == "\tat com.android.internal.os.ZygoteInit.main(ZygoteInit.java:947)"
    assert any(m == f"Process {TINY} (pid {pid}) has died: fg  TOP " for m in tagged(lines, "ActivityManager"))
    assert lines.index(next(x for x in lines if "FATAL EXCEPTION" in x)) > 0  # ordinary lines come first
    d.activate_app(TINY)
    again = logcat(d)
    (proc2,) = [m for m in tagged(again, "ActivityManager") if m.startswith("Start proc ")]
    assert proc2.split()[2].split(":")[0] != pid  # a new process
    assert not any("FATAL" in line for line in again)


def test_a_long_press_crash_has_the_long_press_frames(driver_for, tmp_path):
    d = driver_for(crash_app(tmp_path, {"exception": NPE, "frames": SYNC_FRAMES}))
    logcat(d)
    d.execute_script("mobile: longClickGesture", {"elementId": by_id(d, "sync").id})
    messages = [msg for _, msg in fatal_block(logcat(d))]
    assert messages[2] == NPE  # no message: the exception alone, as Java prints it
    assert messages[5] == "\tat android.view.View.performLongClickInternal(View.java:7574)"


def test_crash_true_is_a_runtime_exception_with_one_frame_in_the_apps_package(driver_for, tmp_path):
    d = driver_for(crash_app(tmp_path, True))
    logcat(d)
    by_id(d, "sync").click()
    messages = [msg for _, msg in fatal_block(logcat(d))]
    assert messages[2] == "java.lang.RuntimeException"
    app_frames = [m for m in messages[3:] if m.startswith(f"\tat {TINY}.")]
    assert len(app_frames) == 1 and app_frames[0].startswith(f"\tat {TINY}.HomeActivity.onSyncClicked(HomeActivity.java:")
    assert messages[4] == "\tat android.view.View.performClick(View.java:7448)"


def test_another_screen_change_logs_an_ordinary_line_only(driver_for, tmp_path):
    d = driver_for(crash_app(tmp_path, True))
    logcat(d)
    by_id(d, "to_b").click()
    lines = logcat(d)
    assert any(m.startswith(f"Displayed {TINY}/.B: +") for m in tagged(lines, "ActivityManager"))
    assert tagged(lines, "AndroidRuntime") == []


def outcomes(d, clicks):
    """Click the 0.5 crash rule `clicks` times: True for each crash (the app relaunched after it)."""
    out = []
    for _ in range(clicks):
        by_id(d, "flaky").click()
        crashed = d.current_package == SYSTEM
        out.append(crashed)
        if crashed:
            d.activate_app(TINY)
        else:
            assert by_id(d, "label").text == "survived"  # no crash drawn: the rule's other effects apply
            d.back()
    return out


def flaky_app(tmp_path, probability=0.5):
    return write_model(tmp_path, tiny_model(a={"activity": ".A", "elements": [
        {"id": "flaky", "class": "android.widget.Button", "text": "Refresh",
         "onClick": [{"crash": {"exception": "java.util.ConcurrentModificationException", "probability": probability},
                      "goto": "b", "set": {"label": "survived"}}]}]}), f"flaky-{probability}.json")


def test_probability_draws_from_a_sequence_seeded_per_session(driver_for, tmp_path):
    app = flaky_app(tmp_path)
    first = outcomes(driver_for(app, simSeed=7), 24)
    assert 0 < sum(first) < len(first)  # crashes sometimes, not always
    assert outcomes(driver_for(app, simSeed=7), 24) == first  # the same seed, the same run
    assert outcomes(driver_for(app, simSeed=8), 24) != first  # another seed, other draws
    assert outcomes(driver_for(app), 24) == outcomes(driver_for(app, simSeed=0), 24)  # the default seed is 0
    assert outcomes(driver_for(app, simSeed="run-42"), 24) == outcomes(driver_for(app, simSeed="run-42"), 24)


def test_the_sequence_goes_on_across_relaunches_of_the_app(driver_for, tmp_path):
    app = flaky_app(tmp_path)
    baseline = outcomes(driver_for(app, simSeed=3), 16)
    d = driver_for(app, simSeed=3)
    relaunched = []
    for _ in range(16):  # a relaunch before every click: were the draws to start over, all would be alike
        d.terminate_app(TINY)
        d.activate_app(TINY)
        relaunched += outcomes(d, 1)
    assert relaunched == baseline


@pytest.mark.parametrize(("probability", "expected"), [(0, False), (1, True)])
def test_probability_zero_never_crashes_and_one_always_does(driver_for, tmp_path, probability, expected):
    assert outcomes(driver_for(flaky_app(tmp_path, probability)), 6) == [expected] * 6


@pytest.mark.parametrize(
    ("crash", "expected"),
    [
        ({"exception": "not a class"}, "crash.exception: \"not a class\" is not a qualified class name"),
        ({"exception": NPE, "probability": 1.5}, "crash.probability: must be a number from 0 to 1"),
        ({"exception": NPE, "frames": "a.B.c(B.java:1)"}, "crash.frames: must be a list of stack frames"),
        ({"exception": NPE, "frames": ["a b"]}, "crash.frames[0]: must be one frame"),
        ("yes", "crash: must be true or an object"),
    ],
    ids=["exception", "probability", "frames", "frame", "shape"],
)
def test_a_wrong_crash_rule_is_refused_naming_it(driver_for, tmp_path, crash, expected):
    path = crash_app(tmp_path, crash)
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(path)
    assert f"screens.a.elements[1].onClick[0].{expected}" in err.value.msg
