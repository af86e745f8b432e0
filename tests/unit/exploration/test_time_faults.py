"""The domain's part of "Time and faults" (DESIGN.md): what a loading screen is, an action the app never saw
untried again, the routes a recovered session follows back, and the capabilities of a run's sessions."""

from __future__ import annotations

from domain.exploration import Action, DepthFirstPolicy, parse_screen
from domain.exploration.labels import is_loading
from domain.findings.journal import FindingsJournal
from domain.sessions import session_capabilities
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, node, row

SPINNER = node("android.widget.ProgressBar", rid="progress", bounds=row(900))


def screen_of(*views: str):
    return parse_screen(hierarchy(frame(*views)), activity=".FeedActivity", package=PKG)


def test_a_screen_with_a_progress_bar_and_nothing_to_act_on_is_loading():
    assert is_loading(screen_of(SPINNER))
    assert is_loading(screen_of(SPINNER, node("android.widget.FrameLayout", bounds=row(1200))))  # an empty box
    assert is_loading(screen_of(SPINNER, node("android.widget.TextView", text="Latest", bounds=row(100))))  # a title
    button = node("android.widget.Button", rid="retry", text="Retry", bounds=row(1200), clickable=True)
    assert not is_loading(screen_of(SPINNER, button))
    assert not is_loading(screen_of(node("android.widget.TextView", text="Today", bounds=row(100))))
    hidden = node("android.widget.ProgressBar", rid="progress", bounds=(0, 0, 0, 0))
    assert not is_loading(screen_of(hidden))  # not displayed: nothing shows at all


def test_an_action_the_app_never_saw_is_untried_again_for_the_crawl():
    screen = screen_of(node("android.widget.Button", rid="a", text="A", bounds=row(100), clickable=True),
                       node("android.widget.Button", rid="b", text="B", bounds=row(300), clickable=True))
    tap_a, tap_b = (Action(kind="tap", target=("id", f"{PKG}:id/{x}"), label=x, action_id=f"tap:id/{x}")
                    for x in "ab")
    policy = DepthFirstPolicy(seed=0)
    first = policy.choose(screen, [tap_a, tap_b])
    policy.observe(screen, first, screen)
    policy.unseen(screen, first)
    assert policy.choose(screen, [tap_a, tap_b]) == first  # offered again before the other one
    policy.unseen(screen, tap_b)  # never taken: nothing to take back
    assert policy._tried[(screen.screen_id, tap_b.action_id)] == 0


def test_the_route_back_follows_waits_and_what_was_typed_on_the_way():
    journal = FindingsJournal()
    journal.launched("splash")
    journal.acted("splash", {"kind": "wait", "action_id": "wait", "label": "wait"}, "login")
    journal.acted("login", {"kind": "type", "action_id": "type:id/user", "target": ["id", "user"],
                            "text": "alice"}, "login")
    journal.acted("login", {"kind": "tap", "action_id": "tap:id/go", "target": ["id", "go"]}, "home")
    journal.acted("home", {"kind": "tap", "action_id": "tap:id/item", "target": ["id", "item"]}, "item")

    route = journal.route("splash", "item", inputs={"user": "alice"})
    assert [(leg["kind"], leg["fromScreen"], leg["toScreen"]) for leg in route] == [
        ("wait", "splash", "login"), ("type", "login", "login"), ("tap", "login", "home"), ("tap", "home", "item")]
    assert route[1]["inputKey"] == "user" and "text" not in route[1]
    assert journal.route("home", "home") == [] and journal.route("item", "splash") is None


def test_a_runs_capabilities_are_added_to_its_session_but_never_over_the_runs_own():
    app = {"apkPath": "/apps/news.json", "packageName": "com.example.news", "appActivity": ".SplashActivity"}
    caps = session_capabilities(app, {"appium:udid": "sim-0"},
                                {"appium:simFaults": {"slowSource": {"every": 4, "ms": 800}},
                                 "appium:newCommandTimeout": 60, "platformName": "iOS", "appium:app": "/x.apk",
                                 "appium:appPackage": "other", "appium:appActivity": ".Other",
                                 "appium:automationName": "XCUITest"})
    assert caps["appium:simFaults"] == {"slowSource": {"every": 4, "ms": 800}}
    assert caps["appium:newCommandTimeout"] == 60 and caps["appium:udid"] == "sim-0"
    assert (caps["platformName"], caps["appium:app"], caps["appium:appPackage"], caps["appium:appActivity"]) == (
        "Android", "/apps/news.json", "com.example.news", ".SplashActivity")
    assert "appium:automationName" not in caps  # the device's own (absent here), never the run's
