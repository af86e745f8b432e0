"""What real apps do to an agent (DESIGN.md): permission dialogs answered and kept out of the graph, another
app left and come back from, the keyboard hidden, web content tapped, login walls, avoided elements, labels."""

from __future__ import annotations

from tests.unit.agent import Finished, assert_graph_consistent
from tests.unit.exploration.pagesource import PKG
from tests.unit.fakes import CONTROLLER, WEBVIEW, Ask, Crash, El, FakeDevice, Other, Page, fake_run, label

CHROME = "com.android.chrome"


def facts(data: dict) -> dict:
    """An event's own fields, without the envelope every event has."""
    return {key: value for key, value in data.items() if key not in ("runId", "seq", "ts")}


def explore(device: FakeDevice, **options) -> Finished:
    run = fake_run(device, **options)
    run.execute()
    return Finished.of(run)


def camera_app(on_launch: Ask | None = None) -> FakeDevice:
    """home: Take photo asks for the camera (granted: the camera screen; denied: stays); Contacts asks at launch."""
    return FakeDevice({
        "home": Page(".HomeActivity", (El("shoot", "Take photo"),), back="home"),
        "camera": Page(".CameraActivity", (label("viewfinder", "Viewfinder"),), back="home"),
    }, {("home", "shoot"): Ask(("CAMERA",), granted="camera")}, start="home", on_launch=on_launch)


# Permission dialogs ----------------------------------------------------------------------------------


def test_a_granted_permission_dialog_is_answered_recorded_and_never_a_screen_of_the_app():
    device = camera_app()
    finished = explore(device, max_steps=6)

    (dialog,) = finished.named("agent.system.dialog")
    assert facts(dialog) == {"stepOrdinal": 1, "kind": "permission", "message": "Allow Shop to use CAMERA?",
                      "answer": "WHILE USING THE APP"}
    assert device.answers == [("CAMERA", "granted")]
    assert sorted(finished.discovered().values()) == [".CameraActivity", ".HomeActivity"]
    assert all(p["package"] == PKG for p in finished.named("agent.screen.perceived"))
    home, camera = finished.screen_of(".HomeActivity"), finished.screen_of(".CameraActivity")
    assert (home, "tap:id/shoot", camera) in finished.transitions()  # the tap led to the camera, past the dialog
    assert finished.named("agent.finding.detected") == []
    assert_graph_consistent(finished)
    assert finished.metrics["systemDialogs"] == 1 and finished.terminal.data["labels"] == ["system_dialogs"]


def test_a_run_that_denies_taps_deny_and_the_app_stays_where_it_was():
    device = camera_app()
    finished = explore(device, max_steps=4, permissions="deny")

    assert [d["answer"] for d in finished.named("agent.system.dialog")] == ["DENY"]
    assert device.answers == [("CAMERA", "denied")]
    assert list(finished.discovered().values()) == [".HomeActivity"]
    # Denied, the tap changed nothing: no transition, and no 3 s freeze watch (the dialog was the app's answer).
    assert device.calls["page_source"] < 40


def test_dialogs_at_launch_are_answered_one_after_the_other_before_the_first_screen():
    device = camera_app(on_launch=Ask(("READ_CONTACTS", "RECORD_AUDIO")))
    finished = explore(device, max_steps=2)

    dialogs = finished.named("agent.system.dialog")
    assert [(d["stepOrdinal"], d["answer"]) for d in dialogs[:2]] == [(0, "ALLOW"), (0, "WHILE USING THE APP")]
    assert device.answers[:2] == [("READ_CONTACTS", "granted"), ("RECORD_AUDIO", "granted")]
    wait_idle = next(c for c in finished.calls() if c.name == "WaitIdle")
    assert wait_idle.detail["screenId"] == finished.screen_of(".HomeActivity")


# Other apps ------------------------------------------------------------------------------------------


def linking_app(depth: int = 1) -> FakeDevice:
    """home: Terms opens the browser (its screens `depth` deep); Settings is the app's own."""
    return FakeDevice({
        "home": Page(".HomeActivity", (El("terms", "Terms"), El("settings", "Settings")), back="home"),
        "settings": Page(".SettingsActivity", (label("title", "Settings"),), back="home"),
    }, {("home", "terms"): Other(CHROME, depth=depth), ("home", "settings"): "settings"}, start="home")


def test_an_action_that_opens_another_app_is_an_exit_the_agent_comes_back_from_by_back():
    device = linking_app()
    finished = explore(device, max_steps=8)

    home = finished.screen_of(".HomeActivity")
    (left,) = finished.named("agent.app.left")
    assert facts(left) == {"stepOrdinal": 1, "package": CHROME, "activity": "com.google.android.apps.chrome.Main",
                    "actionId": "tap:id/terms"}
    exits = [t for t in finished.named("graph.transition.discovered") if t["toScreen"] is None]
    assert [(t["fromScreen"], t["action"]["action_id"], t["leftTo"]) for t in exits] == [(home, "tap:id/terms", CHROME)]
    assert all(p["package"] == PKG for p in finished.named("agent.screen.perceived"))
    assert CHROME not in {d["activity"] for d in finished.named("graph.screen.discovered")}
    assert finished.actions().count("tap:id/terms") == 1  # not taken again: the crawl had other things to do
    assert device.calls["activate_app"] == 1 and finished.metrics["restarts"] == 0  # back was enough
    (back_home,) = [c for c in finished.calls() if c.name == "Verify" and c.step == 1]
    assert [c.name for c in back_home.inner] == ["ReturnToApp"] and back_home.detail["screenId"] == home
    assert finished.metrics["appLeft"] == 1 and finished.terminal.data["labels"] == ["left_app"]
    assert ".SettingsActivity" in finished.discovered().values()


def test_an_app_that_back_cannot_leave_is_left_by_activating_ours_after_three_backs():
    device = linking_app(depth=10)
    finished = explore(device, max_steps=1)

    assert finished.actions() == ["tap:id/terms"]
    assert device.calls["back"] == 3 and device.calls["activate_app"] == 2 and device.other is None
    verify = next(c for c in finished.calls() if c.name == "Verify")
    assert verify.detail["screenId"] == finished.screen_of(".HomeActivity") and finished.metrics["restarts"] == 0


def test_replays_answer_the_permission_dialog_as_the_run_did():
    device = FakeDevice({
        "home": Page(".HomeActivity", (El("shoot", "Take photo"),), back="home"),
        "camera": Page(".CameraActivity", (label("viewfinder", "Viewfinder"),), back="home"),
        "no_camera": Page(".NoCameraActivity", (El("retry", "Ask again"),), back="home"),
    }, {("home", "shoot"): Ask(("CAMERA",), granted="camera", denied="no_camera"),
        ("no_camera", "retry"): Crash()}, start="home")
    finished = explore(device, max_steps=6, permissions="deny")

    (reproduced,) = finished.named("agent.finding.reproduced")
    assert reproduced["attempts"] == reproduced["reproduced"] > 0  # each replay was denied its camera too
    assert [step["actionId"] for step in reproduced["steps"]] == ["tap:id/shoot", "tap:id/retry"]
    replays = reproduced["attempts"]
    assert [answer for _, answer in device.answers].count("denied") == len(finished.named("agent.system.dialog")) + replays
    assert all(d["stepOrdinal"] <= finished.metrics["steps"] for d in finished.named("agent.system.dialog"))


# The keyboard ----------------------------------------------------------------------------------------


def test_the_keyboard_is_hidden_after_typing_so_the_tap_below_it_reaches_the_app():
    device = FakeDevice({
        "form": Page(".FormActivity", (El("name", editable=True), El("send", "Send", bounds=(0, 2000, 1080, 2150))),
                     back="form"),
        "sent": Page(".SentActivity", (label("done", "Sent"),), back="form"),
    }, {("form", "send"): "sent"}, start="form")
    finished = explore(device, max_steps=3)

    assert finished.actions()[:2] == ["type:id/name", "tap:id/send"]
    assert device.calls["hide_keyboard"] == 1 and device.swallowed == []
    assert device.calls["back"] == 0  # back is never spent on the keyboard
    act = next(c for c in finished.calls() if c.name == "Act" and c.step == 1)
    assert act.detail["keyboardHidden"] is True
    assert ".SentActivity" in finished.discovered().values()


# Web content, login walls, avoid, labels -------------------------------------------------------------


def test_a_webview_is_explored_by_taps_on_a_grid_and_labelled_webview():
    web = El("page", cls=WEBVIEW, clickable=False, bounds=(0, 200, 1080, 2200),
             web=(((700, 1700, 1080, 2200), "article"),))
    device = FakeDevice({"news": Page(".NewsActivity", (web,), back="news"),
                         "article": Page(".ArticleActivity", (label("body", "Article"),), back="news")},
                        {}, start="news")
    finished = explore(device, max_steps=14)

    news = finished.screen_of(".NewsActivity")
    (enumerated, *_) = [c for c in finished.calls() if c.name == "EnumerateActions"]
    grid = [a for a in enumerated.detail["actionIds"] if a.startswith("tap@")]
    assert len(grid) == 12 and grid[0] == "tap@180,250" and "tap:WebView" not in enumerated.detail["actionIds"]
    assert (news, "tap@900,1750", finished.screen_of(".ArticleActivity")) in finished.transitions()
    labels = {d["activity"]: d["labels"] for d in finished.named("graph.screen.discovered")}
    assert labels[".NewsActivity"] == ["webview"]


def login_app() -> FakeDevice:
    return FakeDevice({
        "login": Page(".LoginActivity", (El("user", editable=True), El("password", editable=True, password=True),
                                         El("sign_in", "Sign in"), El("help", "Help")), back="login"),
        "help": Page(".HelpActivity", (label("text", "Ask your admin"),), back="login"),
        "home": Page(".HomeActivity", (label("hi", "Welcome"),), back="login"),
    }, {("login", "sign_in"): "home", ("login", "help"): "help"}, start="login")


def test_without_inputs_no_password_is_guessed_the_screen_is_a_login_and_the_run_login_required():
    device = login_app()
    finished = explore(device, max_steps=10)

    assert "type:id/password" not in finished.actions()
    assert ("login", "password") not in device.typed
    labels = {d["activity"]: d["labels"] for d in finished.named("graph.screen.discovered")}
    assert labels[".LoginActivity"] == ["login"] and ".HelpActivity" in labels
    assert "login_required" in finished.terminal.data["labels"]


def test_with_inputs_for_the_password_the_agent_signs_in():
    device = login_app()
    finished = explore(device, max_steps=6, inputs={"user": "alice", "password": "s3cret"})

    assert device.typed[("login", "password")] == "s3cret"
    assert "login_required" not in finished.terminal.data["labels"]


def test_avoided_elements_are_never_acted_on_and_the_enumeration_says_how_many():
    device = FakeDevice({
        "account": Page(".AccountActivity", (El("profile", "Profile"), El("sign_out", "Sign out"),
                                             El("delete", "Delete account")), back="account"),
        "profile": Page(".ProfileActivity", (label("name", "Alice"),), back="account"),
    }, {("account", "profile"): "profile", ("account", "sign_out"): "profile", ("account", "delete"): "profile"},
        start="account")
    finished = explore(device, max_steps=8, avoid=("id/sign_out", "text:delete.*"))

    assert not {"tap:id/sign_out", "tap:id/delete"} & set(finished.actions())
    assert ("id", f"{PKG}:id/sign_out") not in device.taps
    enumerated = next(c for c in finished.calls() if c.name == "EnumerateActions")
    assert enumerated.detail["avoided"] == 2 and "tap:id/profile" in enumerated.detail["actionIds"]


def test_a_permission_dialog_is_never_taken_for_another_app():
    device = camera_app()
    finished = explore(device, max_steps=3)

    assert finished.named("agent.app.left") == [] and device.calls["activate_app"] == 1
    assert CONTROLLER not in {p["package"] for p in finished.named("agent.screen.perceived")}
