"""Signatures (one bug, one finding), finding ids (the same in every replay) and titles."""

import re
import subprocess
import sys

from domain.findings import LogcatCrash, accessibility_signature, crash_title, finding_id, read_logcat, signature

PKG = "org.fieldnotes"


def crash_log(exception: str = "java.lang.IllegalStateException: token is null", pid: int = 4321,
              lines: tuple[int, int] = (88, 41), frames: tuple[str, ...] = ()) -> LogcatCrash:
    """One crash as the device logs it; `lines` are the source lines of the two app frames."""
    prefix = f"12-02 10:{pid % 60:02d}:00.000  {pid}  {pid} E AndroidRuntime: "
    frames = frames or (f"org.fieldnotes.sync.SyncClient.push(SyncClient.java:{lines[0]})",
                        "android.view.View.performClick(View.java:7448)",
                        f"org.fieldnotes.ui.HomeActivity.onSync(HomeActivity.java:{lines[1]})")
    body = ["FATAL EXCEPTION: main", f"Process: {PKG}, PID: {pid}", exception, *(f"\tat {f}" for f in frames)]
    (crash,) = read_logcat([prefix + line for line in body], PKG)
    return crash


def crash_signature(crash: LogcatCrash | None, activity: str = ".HomeActivity", action_id: str = "tap:id/sync") -> str:
    return signature("crash", PKG, crash, activity, action_id)


def test_a_crash_signature_is_kind_exception_and_the_apps_frames_without_line_numbers():
    assert crash_signature(crash_log()) == (
        "crash|java.lang.IllegalStateException"
        "|org.fieldnotes.sync.SyncClient.push|org.fieldnotes.ui.HomeActivity.onSync")


def test_the_same_bug_met_again_after_an_edit_has_the_same_signature():
    first = crash_signature(crash_log())
    assert crash_signature(crash_log(pid=5999, lines=(92, 40))) == first  # another occurrence, lines moved
    # Nor does the screen or action it was met from change a crash with logcat.
    assert crash_signature(crash_log(), activity=".EditActivity", action_id="tap:id/save") == first


def test_another_exception_or_another_place_is_another_signature():
    first = crash_signature(crash_log())
    assert crash_signature(crash_log("java.lang.NullPointerException")) != first
    other_place = crash_log(frames=("org.fieldnotes.sync.SyncClient.pull(SyncClient.java:120)",
                                    "org.fieldnotes.ui.HomeActivity.onSync(HomeActivity.java:41)"))
    assert crash_signature(other_place) != first


def test_only_the_first_three_frames_in_the_apps_package_count():
    frames = [f"org.fieldnotes.a.A{i}.run(A{i}.java:1)" for i in range(3)]
    base = crash_log(frames=("java.lang.Thread.run(Thread.java:1)", *frames, "org.fieldnotes.Main.main(Main.java:1)"))
    deeper = crash_log(frames=("android.os.Looper.loop(Looper.java:9)", *frames,
                               "org.fieldnotes.Other.go(Other.java:2)"))
    assert crash_signature(base) == crash_signature(deeper)
    assert crash_signature(base).split("|")[2:] == [f"org.fieldnotes.a.A{i}.run" for i in range(3)]
    # A library under a longer package name is no frame of the app's.
    lib = crash_log(frames=("org.fieldnotesextra.Lib.call(Lib.java:3)", *frames))
    assert crash_signature(lib) == crash_signature(base)


def test_without_logcat_kind_activity_and_action():
    assert crash_signature(None) == "crash|.HomeActivity|tap:id/sync"
    assert crash_signature(None, activity="org.fieldnotes.HomeActivity") == "crash|.HomeActivity|tap:id/sync"
    assert crash_signature(None, action_id="tap:id/export") != crash_signature(None)


def test_an_anr_is_kind_and_activity_with_or_without_logcat():
    (anr,) = read_logcat(["E ActivityManager: ANR in org.fieldnotes (org.fieldnotes/.HomeActivity)",
                          "E ActivityManager: Reason: Input dispatching timed out"], PKG)
    assert signature("anr", PKG, anr, ".HomeActivity", "tap:id/export") == "anr|.HomeActivity"
    assert signature("anr", PKG, None, ".HomeActivity", "tap:id/other") == "anr|.HomeActivity"
    assert signature("anr", PKG, anr, "", "tap:id/export") == "anr|.HomeActivity"  # the log's, when the screen has none
    assert signature("anr", PKG, None, ".EditActivity", "tap:id/export") != "anr|.HomeActivity"


def test_finding_ids_are_deterministic_per_run_and_signature():
    sig = crash_signature(crash_log())
    fid = finding_id("01JDX3M9V7Q2W8ZK4T6R5Y1B0C", sig)
    assert re.fullmatch(r"[0-9a-f]{16}", fid)
    assert finding_id("01JDX3M9V7Q2W8ZK4T6R5Y1B0C", sig) == fid
    assert finding_id("01JDX3M9V7Q2W8ZK4T6R5Y1B0D", sig) != fid
    assert finding_id("01JDX3M9V7Q2W8ZK4T6R5Y1B0C", "anr|.HomeActivity") != fid


def test_finding_ids_are_the_same_in_another_process():
    code = ("from domain.findings import finding_id; "
            "print(finding_id('01JDX3M9V7Q2W8ZK4T6R5Y1B0C', 'anr|.HomeActivity'))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123"}).stdout.strip()
    assert other == finding_id("01JDX3M9V7Q2W8ZK4T6R5Y1B0C", "anr|.HomeActivity") == "09bf1cb73024ef64"


def test_accessibility_signature_names_rule_screen_and_element():
    assert accessibility_signature("TouchTargetSizeCheck", "a1b2c3d4e5f6", "tap:id/sync") == \
        "accessibility|TouchTargetSizeCheck|a1b2c3d4e5f6|tap:id/sync"


def test_titles():
    assert crash_title("crash", "Field Notes", crash_log()) == "IllegalStateException: token is null in SyncClient.push"
    assert crash_title("crash", "Field Notes", crash_log("java.lang.NullPointerException")) == \
        "NullPointerException in SyncClient.push"
    no_app_frame = crash_log(frames=("android.os.Looper.loop(Looper.java:9)",))
    assert crash_title("crash", "Field Notes", no_app_frame) == "IllegalStateException: token is null"
    assert crash_title("anr", "Field Notes", None, activity=".HomeActivity") == "ANR in .HomeActivity"
    assert crash_title("anr", "Field Notes", None) == "ANR in Field Notes"
    assert crash_title("crash", "Field Notes", None, activity=".HomeActivity", action_label='tap "Sync now"') == \
        'Crash on .HomeActivity after tap "Sync now"'
    assert crash_title("crash", "org.fieldnotes", None) == "org.fieldnotes crashed"


def test_a_long_message_is_cut_in_the_title():
    title = crash_title("crash", "Field Notes", crash_log("java.lang.IllegalStateException: " + "x" * 300))
    assert len(title) < 130 and "…" in title and title.endswith(" in SyncClient.push")
