"""read_logcat on logcat as UiAutomator2 (and the simulator) return it: threadtime lines, level "ALL"."""

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.findings import LogcatCrash, read_logcat

PKG = "org.fieldnotes"


def entries(text: str) -> list[dict]:
    """Appium's logcat entries: every level is "ALL", so the level says nothing."""
    return [{"timestamp": 1733133600000 + i, "level": "ALL", "message": line}
            for i, line in enumerate(text.strip("\n").splitlines())]


def only(crashes: list[LogcatCrash]) -> LogcatCrash:
    assert len(crashes) == 1, crashes
    return crashes[0]


SESSION = """\
12-02 10:00:00.101  1210  1240 I ActivityManager: Start proc 4321:org.fieldnotes/u0a88 for pre-top-activity {org.fieldnotes/org.fieldnotes.ui.HomeActivity}
12-02 10:00:00.455  1210  1262 I ActivityManager: Displayed org.fieldnotes/.ui.HomeActivity: +350ms
12-02 10:00:00.700  2002  2002 D NetworkController: refresh
12-02 10:00:01.010  3100  3100 E AndroidRuntime: FATAL EXCEPTION: main
12-02 10:00:01.010  3100  3100 E AndroidRuntime: Process: com.google.android.gms.persistent, PID: 3100
12-02 10:00:01.010  3100  3100 E AndroidRuntime: java.lang.NullPointerException: Attempt to invoke virtual method
12-02 10:00:01.010  3100  3100 E AndroidRuntime: \tat com.google.android.gms.chimera.Module.start(Module.java:12)
12-02 10:00:02.000  4321  4321 E AndroidRuntime: FATAL EXCEPTION: main
12-02 10:00:02.000  4321  4321 E AndroidRuntime: Process: org.fieldnotes, PID: 4321
12-02 10:00:02.000  4321  4321 E AndroidRuntime: java.lang.IllegalStateException: token is null
12-02 10:00:02.001  1210  1262 W ActivityManager: Force finishing activity org.fieldnotes/.ui.HomeActivity
12-02 10:00:02.000  4321  4321 E AndroidRuntime: \tat org.fieldnotes.sync.SyncClient.push(SyncClient.java:88)
12-02 10:00:02.000  4321  4321 E AndroidRuntime: \tat android.view.View.performClick(View.java:7448)
12-02 10:00:02.000  4321  4321 E AndroidRuntime: \tat org.fieldnotes.ui.HomeActivity.onSync(HomeActivity.java:41)
12-02 10:00:02.000  4321  4321 E AndroidRuntime: \tat android.os.Handler.handleCallback(Handler.java:938)
12-02 10:00:02.000  4321  4321 E AndroidRuntime: \tat com.android.internal.os.ZygoteInit.main(ZygoteInit.java:1003)
12-02 10:00:02.010  4321  4321 I Process : Sending signal. PID: 4321 SIG: 9
12-02 10:00:02.020  1210  1240 I ActivityManager: Process org.fieldnotes (pid 4321) has died: fg  TOP
"""


def test_the_apps_crash_among_ordinary_lines_and_another_process_crash():
    crash = only(read_logcat([e["message"] for e in entries(SESSION)], PKG))
    assert crash.kind == "crash" and crash.package == PKG
    assert crash.exception == "java.lang.IllegalStateException"
    assert crash.message == "token is null"
    assert crash.activity is None
    assert crash.frames == (  # the app's own first, order kept within each part
        "org.fieldnotes.sync.SyncClient.push(SyncClient.java:88)",
        "org.fieldnotes.ui.HomeActivity.onSync(HomeActivity.java:41)",
        "android.view.View.performClick(View.java:7448)",
        "android.os.Handler.handleCallback(Handler.java:938)",
        "com.android.internal.os.ZygoteInit.main(ZygoteInit.java:1003)",
    )


def test_the_excerpt_keeps_the_blocks_lines_and_leaves_interleaved_ones_out():
    excerpt = only(read_logcat(entries(SESSION), PKG)).excerpt.splitlines()
    assert len(excerpt) == 8
    assert excerpt[0] == "12-02 10:00:02.000  4321  4321 E AndroidRuntime: FATAL EXCEPTION: main"
    assert excerpt[-1].endswith("\tat com.android.internal.os.ZygoteInit.main(ZygoteInit.java:1003)")
    assert not any("ActivityManager" in line or "Sending signal" in line for line in excerpt)


def test_the_level_field_is_not_read():
    # The entries carry "ALL"; a reader that filtered on "E" would find nothing.
    assert [entry["level"] for entry in entries(SESSION)] == ["ALL"] * len(SESSION.splitlines())
    assert only(read_logcat(entries(SESSION), PKG)).exception == "java.lang.IllegalStateException"


def test_ordinary_lines_and_other_processes_give_nothing():
    ordinary = "\n".join(line for line in SESSION.splitlines() if " 4321  4321 E " not in line)
    assert read_logcat(entries(ordinary), PKG) == []
    assert read_logcat([], PKG) == []
    gms = only(read_logcat(entries(SESSION), "com.google.android.gms.persistent"))
    assert gms.exception == "java.lang.NullPointerException"


CAUSED_BY = """\
12-02 10:01:00.000  5555  5555 E AndroidRuntime: FATAL EXCEPTION: main
12-02 10:01:00.000  5555  5555 E AndroidRuntime: Process: org.fieldnotes, PID: 5555
12-02 10:01:00.000  5555  5555 E AndroidRuntime: java.lang.RuntimeException: Unable to start activity ComponentInfo{org.fieldnotes/org.fieldnotes.ui.EditActivity}: java.lang.IllegalArgumentException: note id missing
12-02 10:01:00.000  5555  5555 E AndroidRuntime: \tat android.app.ActivityThread.performLaunchActivity(ActivityThread.java:3449)
12-02 10:01:00.000  5555  5555 E AndroidRuntime: \tat android.app.ActivityThread.handleLaunchActivity(ActivityThread.java:3601)
12-02 10:01:00.000  5555  5555 E AndroidRuntime: Caused by: java.lang.IllegalArgumentException: note id missing
12-02 10:01:00.000  5555  5555 E AndroidRuntime: \tat org.fieldnotes.data.NoteRepository.load(NoteRepository.kt:23)
12-02 10:01:00.000  5555  5555 E AndroidRuntime: \tat org.fieldnotes.ui.EditActivity.onCreate(EditActivity.kt:30)
12-02 10:01:00.000  5555  5555 E AndroidRuntime: \tat android.app.Activity.performCreate(Activity.java:8000)
12-02 10:01:00.000  5555  5555 E AndroidRuntime: \t... 12 more
"""


def test_a_caused_by_chain_keeps_the_top_exception_and_the_causes_frames():
    crash = only(read_logcat(entries(CAUSED_BY), PKG))
    assert crash.exception == "java.lang.RuntimeException"
    assert crash.frames[:2] == ("org.fieldnotes.data.NoteRepository.load(NoteRepository.kt:23)",
                                "org.fieldnotes.ui.EditActivity.onCreate(EditActivity.kt:30)")
    assert crash.frames[2] == "android.app.ActivityThread.performLaunchActivity(ActivityThread.java:3449)"
    assert len(crash.frames) == 5  # "... 12 more" is no frame
    # The root cause is already in the message: not repeated.
    assert crash.message.count("note id missing") == 1
    assert "Caused by: java.lang.IllegalArgumentException" in crash.excerpt


def test_a_simple_root_cause_is_noted_in_the_message():
    text = """\
12-02 10:02:00.000  6000  6010 E AndroidRuntime: FATAL EXCEPTION: SyncWorker
12-02 10:02:00.000  6000  6010 E AndroidRuntime: Process: org.fieldnotes, PID: 6000
12-02 10:02:00.000  6000  6010 E AndroidRuntime: java.lang.RuntimeException: sync failed
12-02 10:02:00.000  6000  6010 E AndroidRuntime: \tat org.fieldnotes.sync.SyncWorker.run(SyncWorker.java:50)
12-02 10:02:00.000  6000  6010 E AndroidRuntime: Caused by: java.io.IOException: timeout
12-02 10:02:00.000  6000  6010 E AndroidRuntime: \tat org.fieldnotes.sync.SyncClient.push(SyncClient.java:90)
"""
    crash = only(read_logcat(entries(text), PKG))
    assert crash.exception == "java.lang.RuntimeException"
    assert crash.message == "sync failed (caused by java.io.IOException: timeout)"


ANR = """\
12-02 10:03:00.000  1210  1240 I ActivityManager: Displayed org.fieldnotes/.ui.HomeActivity: +200ms
12-02 10:03:06.000  1210  1299 E ActivityManager: ANR in com.other.app (com.other.app/.MainActivity)
12-02 10:03:06.000  1210  1299 E ActivityManager: PID: 7001
12-02 10:03:06.000  1210  1299 E ActivityManager: Reason: Broadcast of Intent { act=android.intent.action.SCREEN_ON }
12-02 10:03:09.000  1210  1299 E ActivityManager: ANR in org.fieldnotes (org.fieldnotes/.ui.HomeActivity)
12-02 10:03:09.000  1210  1299 E ActivityManager: PID: 4321
12-02 10:03:09.000  1210  1299 E ActivityManager: Reason: Input dispatching timed out (Waiting to send non-key event)
12-02 10:03:09.000  1210  1299 E ActivityManager: Parent: org.fieldnotes/.ui.HomeActivity
12-02 10:03:09.000  1210  1299 E ActivityManager: CPU usage from 0ms to 9400ms later:
12-02 10:03:09.000  1210  1299 E ActivityManager:   45% 1210/system_server: 30% user + 15% kernel
"""


def test_an_anr_of_the_app_with_its_activity_and_reason():
    anr = only(read_logcat(entries(ANR), PKG))
    assert anr.kind == "anr" and anr.package == PKG
    assert anr.activity == ".ui.HomeActivity"
    assert anr.message == "Input dispatching timed out (Waiting to send non-key event)"
    assert anr.exception is None and anr.frames == ()
    assert anr.excerpt.splitlines()[0].endswith("ANR in org.fieldnotes (org.fieldnotes/.ui.HomeActivity)")
    assert len(anr.excerpt.splitlines()) == 4  # ANR, PID, Reason, Parent; CPU figures left out


def test_an_anr_naming_the_full_activity_class_gets_the_short_form():
    line = ("12-02 10:03:09.000  1210  1299 E ActivityManager: "
            "ANR in org.fieldnotes (org.fieldnotes/org.fieldnotes.HomeActivity)")
    assert only(read_logcat([line], PKG)).activity == ".HomeActivity"


def test_crashes_and_anrs_come_in_log_order():
    found = read_logcat(entries(ANR + SESSION + CAUSED_BY), PKG)
    assert [(c.kind, c.exception) for c in found] == [
        ("anr", None), ("crash", "java.lang.IllegalStateException"), ("crash", "java.lang.RuntimeException")]


def test_brief_short_and_bare_lines_with_leading_tabs():
    brief = [
        "E/AndroidRuntime( 4321): FATAL EXCEPTION: main",
        "E/AndroidRuntime( 4321): Process: org.fieldnotes, PID: 4321",
        "E/AndroidRuntime( 4321): java.lang.IllegalStateException: token is null",
        "E/AndroidRuntime( 4321): \tat org.fieldnotes.sync.SyncClient.push(SyncClient.java:88)",
    ]
    bare = ["FATAL EXCEPTION: main", "Process: org.fieldnotes, PID: 4321",
            "java.lang.IllegalStateException: token is null",
            "\tat org.fieldnotes.sync.SyncClient.push(SyncClient.java:88)",
            "\tat android.os.Looper.loop(Looper.java:223)",
            "I/ActivityManager: Displayed org.fieldnotes/.ui.HomeActivity: +80ms"]
    short = [line.replace("E/AndroidRuntime( 4321):", "E AndroidRuntime:") for line in brief]
    for lines in (brief, bare, short):
        crash = only(read_logcat(lines, PKG))
        assert (crash.exception, crash.message) == ("java.lang.IllegalStateException", "token is null")
        assert crash.frames[0] == "org.fieldnotes.sync.SyncClient.push(SyncClient.java:88)"
    assert len(only(read_logcat(bare, PKG)).excerpt.splitlines()) == 5  # the Displayed line ends the block


def test_one_entry_holding_several_lines():
    crash = only(read_logcat(["\n".join(CAUSED_BY.splitlines())], PKG))
    assert crash.exception == "java.lang.RuntimeException"


def test_a_message_continued_over_lines_before_the_first_frame():
    text = """\
12-02 10:04:00.000  4321  4321 E AndroidRuntime: FATAL EXCEPTION: main
12-02 10:04:00.000  4321  4321 E AndroidRuntime: Process: org.fieldnotes, PID: 4321
12-02 10:04:00.000  4321  4321 E AndroidRuntime: java.lang.IllegalStateException: bad state
12-02 10:04:00.000  4321  4321 E AndroidRuntime: expected: ready
12-02 10:04:00.000  4321  4321 E AndroidRuntime: \tat org.fieldnotes.ui.HomeActivity.onSync(HomeActivity.java:41)
"""
    crash = only(read_logcat(entries(text), PKG))
    assert crash.message == "bad state\nexpected: ready"
    assert crash.frames == ("org.fieldnotes.ui.HomeActivity.onSync(HomeActivity.java:41)",)


def test_an_exception_without_message():
    lines = [line.replace("java.lang.IllegalStateException: token is null", "java.lang.NullPointerException")
             for line in SESSION.splitlines()]
    crash = only(read_logcat(lines, PKG))
    assert crash.exception == "java.lang.NullPointerException" and crash.message is None


def test_the_apps_other_processes_count_and_a_longer_package_does_not():
    sync = [line.replace("Process: org.fieldnotes,", "Process: org.fieldnotes:sync,") for line in SESSION.splitlines()]
    assert only(read_logcat(sync, PKG)).exception == "java.lang.IllegalStateException"
    other = [line.replace("Process: org.fieldnotes,", "Process: org.fieldnotesplus,") for line in SESSION.splitlines()]
    assert read_logcat(other, PKG) == []


def test_without_a_process_line_the_apps_frames_decide():
    old = [line for line in SESSION.splitlines() if "Process: " not in line]
    crash = only(read_logcat(old, PKG))  # the other process's block has no frame of ours
    assert crash.exception == "java.lang.IllegalStateException"
    assert only(read_logcat(old, "com.google.android.gms")).exception == "java.lang.NullPointerException"


PIECES = ["FATAL EXCEPTION: main", "Process: org.fieldnotes, PID: 1", "Process: ", "java.lang.X: y", "java.",
          "\tat org.fieldnotes.A.b(A.java:1)", "at ", "Caused by: ", "Caused by: java.io.IOException: z",
          "... 3 more", "ANR in org.fieldnotes", "ANR in org.fieldnotes (org.fieldnotes", "ANR in org.fieldnotes ()",
          "Reason: ", "E/AndroidRuntime(", "E/AndroidRuntime( 1): ", "12-02 10:00:00.000  1  1 E AndroidRuntime: ",
          "E ActivityManager: ", ":", "\t", " ", "\x00", "é", "\r\n"]


@settings(max_examples=300, deadline=None, database=None)  # nothing written into the tree
@given(st.lists(st.one_of(st.lists(st.sampled_from(PIECES), max_size=4).map("".join), st.text(max_size=40)),
                max_size=30))
def test_no_log_breaks_the_reader(messages):
    for crash in read_logcat(messages, PKG):  # whatever a device logs, reading it never fails a run
        assert crash.kind in ("crash", "anr") and crash.package == PKG
        assert crash.excerpt
