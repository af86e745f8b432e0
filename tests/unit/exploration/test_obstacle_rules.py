"""The pure rules for what real apps do to an agent: permission dialogs, other apps, screen and run labels,
what a run keeps its hands off (avoid, password guesses), web content, and how policies and the graph
take an exit from the app."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from ulid import ULID

from domain.exploration import DepthFirstPolicy, ExplorationHistory, RandomPolicy, enumerate_actions, parse_screen
from domain.exploration.avoid import parse_avoid
from domain.exploration.labels import run_labels, screen_labels
from domain.exploration.offer import offer
from domain.exploration.system import other_app, permission_dialog
from domain.findings.dialogs import system_dialog
from domain.projections import run_row_change
from domain.run import Run
from domain.screen_graph import build_graph
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, login_page, node, row

CONTROLLER = "com.android.permissioncontroller"
WEBVIEW = "android.webkit.WebView"


def controller(*buttons: tuple[str, str], pkg: str = CONTROLLER):
    views = [node("android.widget.TextView", rid="permission_message", text="Allow Snap to take pictures?",
                  bounds=row(900), pkg=pkg)]
    views += [node("android.widget.Button", rid=rid, text=text, bounds=row(1100 + 150 * i), pkg=pkg, clickable=True)
              for i, (rid, text) in enumerate(buttons)]
    return parse_screen(hierarchy(*views), activity=".GrantPermissionsActivity", package=pkg)


CAMERA = (("permission_allow_foreground_only_button", "WHILE USING THE APP"),
          ("permission_allow_one_time_button", "ONLY THIS TIME"), ("permission_deny_button", "DENY"))


def app_screen(*views: str, package: str = PKG):
    return parse_screen(hierarchy(frame(*views)), activity=".Home", package=package)


def test_a_permission_dialog_is_answered_while_using_the_app_or_allow_or_deny_as_the_run_says():
    grant = permission_dialog(controller(*CAMERA))
    assert (grant.message, grant.answer, grant.target) == (
        "Allow Snap to take pictures?", "WHILE USING THE APP", ("id", f"{CONTROLLER}:id/permission_allow_foreground_only_button"))
    contacts = controller(("permission_allow_button", "ALLOW"), ("permission_deny_button", "DENY"),
                          pkg="com.google.android.permissioncontroller")
    assert permission_dialog(contacts).answer == "ALLOW"
    assert permission_dialog(contacts, "deny").target == (
        "id", "com.google.android.permissioncontroller:id/permission_deny_button")
    assert (permission_dialog(controller(), "grant").answer, permission_dialog(controller()).target) == ("back", None)
    assert permission_dialog(app_screen(node("android.widget.Button", rid="permission_allow_button"))) is None


def test_another_app_is_any_package_but_the_apps_the_systems_dialogs_and_the_launcher():
    assert other_app(app_screen(package="com.android.chrome"), PKG) == "com.android.chrome"
    for package in (PKG, CONTROLLER, "com.google.android.permissioncontroller", "android", "com.android.launcher3",
                    "com.google.android.apps.nexuslauncher"):
        assert other_app(app_screen(package=package), PKG) is None, package


def test_screen_labels_say_login_webview_blank_and_dialog():
    assert screen_labels(parse_screen(login_page(), activity=".Login")) == ["login"]
    big_web = app_screen(node(WEBVIEW, bounds=(0, 100, 1080, 2400)))
    small_web = app_screen(node(WEBVIEW, bounds=(0, 100, 1080, 500)), node("android.widget.TextView", text="Hi"))
    assert screen_labels(big_web) == ["webview"] and screen_labels(small_web) == []
    assert screen_labels(app_screen(node("android.view.View", bounds=row(200)))) == ["blank"]
    dialog = app_screen(node("android.widget.TextView", rid="x", text="Rate us?"))
    alert = parse_screen(hierarchy(frame(node("android.widget.TextView", text="Rate us?", pkg=PKG).replace(
        'resource-id=""', 'resource-id="android:id/alertTitle"'))), activity=".Home", package=PKG)
    assert screen_labels(dialog) == [] and screen_labels(alert) == ["dialog"]
    assert run_labels(True, 2, 1) == ("login_required", "left_app", "system_dialogs") and run_labels(False, 0, 0) == ()


def test_without_an_input_for_the_password_no_guess_is_typed_and_the_screen_is_a_login_wall():
    screen = parse_screen(login_page(), activity=".Login")
    guessing = offer(screen, {})
    assert "type:id/password" not in {a.action_id for a in guessing.actions} and guessing.login_wall
    assert {"type:id/username", "tap:id/sign_in"} <= {a.action_id for a in guessing.actions}
    signing_in = offer(screen, {"password": "s3cret"})
    assert "type:id/password" in {a.action_id for a in signing_in.actions} and not signing_in.login_wall
    assert signing_in.actions == enumerate_actions(screen, {"password": "s3cret"})  # as before: nothing avoided


def test_avoided_elements_and_the_button_around_an_avoided_label_are_never_acted_on():
    screen = app_screen(
        node("android.widget.Button", rid="sign_out", text="Sign out", bounds=row(200), clickable=True),
        node("android.widget.FrameLayout", rid="delete_row", bounds=row(400, 200), clickable=True, children=(
            node("android.widget.TextView", text="Delete account", bounds=(50, 450, 600, 550)),)),
        node("android.widget.Button", rid="help", text="Help", bounds=row(700), clickable=True))
    offered = offer(screen, {}, parse_avoid(["id/sign_out", "text:delete\\s+account"]))
    assert [a.action_id for a in offered.actions] == ["tap:id/help", "back"] and offered.avoided == 2


def test_a_webview_without_children_is_tapped_on_a_grid_after_the_declared_actions():
    screen = app_screen(node("android.widget.Button", rid="menu", text="Menu", bounds=(0, 0, 1080, 300), clickable=True),
                        node(WEBVIEW, rid="page", bounds=(0, 200, 1080, 2200)),
                        node("android.widget.TextView", text="Footer", bounds=row(2250, 100)))
    ids = [a.action_id for a in enumerate_actions(screen)]
    grid = [i for i in ids if i.startswith("tap@")]
    # Ids are relative to the WebView; the menu ends above the first row of points, so all 12 are free.
    assert len(grid) == 12 and grid[:3] == ["tap@180,250", "tap@540,250", "tap@900,250"] and grid[-1] == "tap@900,1750"
    assert ids.index("tap:id/menu") < ids.index(grid[0]) and ids[-2:] == ["tap:TextView[Footer]", "back"]
    point = next(a for a in enumerate_actions(screen) if a.action_id == "tap@540,250")
    assert point.target == ("point", (540, 450)) and not point.declared
    covered = app_screen(node("android.widget.Button", rid="fab", text="+", bounds=(0, 1900, 1080, 2200), clickable=True),
                         node(WEBVIEW, rid="page", bounds=(0, 200, 1080, 2200)))
    assert len([a for a in enumerate_actions(covered) if a.action_id.startswith("tap@")]) == 9  # under the button: none
    banner = app_screen(node(WEBVIEW, rid="ad", bounds=(0, 200, 1080, 350)))
    assert [a.action_id for a in enumerate_actions(banner)] == ["tap:id/ad", "back"]  # as any leaf view


def test_policies_take_an_action_that_left_the_app_again_only_when_nothing_else_is_offered():
    home = app_screen(node("android.widget.Button", rid="terms", text="Terms", bounds=row(200), clickable=True))
    browser = app_screen(package="com.android.chrome")
    (terms, back) = enumerate_actions(home)
    randomly = RandomPolicy(seed=3)
    randomly.observe(home, terms, browser)
    assert {randomly.choose(home, (terms, back)).action_id for _ in range(20)} == {"back"}
    assert randomly.choose(home, (terms,)) == terms
    depth_first = DepthFirstPolicy(package=PKG)
    assert depth_first.choose(home, (terms, back)) == terms
    depth_first.observe(home, terms, browser)
    assert depth_first.choose(home, (terms, back)) == back


def exit_events():
    run = Run(id=ULID().to_uuid(), app_config={}, goal=None, max_steps=10, inputs={}, tenant_id="t", project_id="p")
    run.start("w", datetime.now(timezone.utc))
    action = {"kind": "tap", "target": ["id", "terms"], "label": "tap", "action_id": "tap:id/terms"}
    run.record_action(step_ordinal=1, screen_id="home", action=action)
    run.discover_transition(step_ordinal=1, from_screen="home", action=action, to_screen=None, left_to="com.x.browser")
    run.discover_transition(step_ordinal=2, from_screen="home", action={**action, "action_id": "back"}, to_screen="home")
    return run.collect_events()


def test_an_exit_is_no_edge_of_the_graph_nor_a_transition_to_count_but_the_history_remembers_it():
    events = exit_events()
    _, transitions = build_graph(events)
    assert [(t["from_screen"], t["to_screen"]) for t in transitions] == [("home", "home")]
    counted = [run_row_change(e).add.get("transitions_discovered", 0) for e in events if isinstance(e, Run.TransitionDiscovered)]
    assert counted == [0, 1]
    history = ExplorationHistory.from_events(events)
    assert history.left == {("home", "tap:id/terms")} and history.transitions == [("home", "back", "home")]
    restored = RandomPolicy(seed=1)
    restored.restore(history)
    home = replace(app_screen(node("android.widget.Button", rid="terms", text="Terms", bounds=row(200), clickable=True)),
                   screen_id="home")
    terms, back = enumerate_actions(home)
    assert {restored.choose(home, (terms, back)) for _ in range(10)} == {back}


def test_a_permission_dialog_is_neither_a_crash_nor_an_anr_dialog():
    assert system_dialog(controller(*CAMERA)) is None
    assert system_dialog(controller(("permission_deny_button", "DENY"), pkg="com.google.android.permissioncontroller")) is None
