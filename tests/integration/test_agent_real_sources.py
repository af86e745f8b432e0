"""The agent on page sources as real devices send them (DESIGN.md "Real apps"), served by the simulator from
recorded apps with inline page sources (APP_MODEL.md "Recorded real apps"): a character reference to a
control character is dropped and the screen read (`agent.screen.perceived` says `cleaned`); a page source
that declares a DOCTYPE is refused, retried, and fails the run `device_error`, never `internal_error`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_agent import Harness, assert_one_terminal, h  # noqa: F401  (h: the fixture)

PKG = "com.example.realsource"
BUTTON = "android.widget.Button"
TEXT = "android.widget.TextView"


def view(cls: str, bounds: str, rid: str = "", text: str = "", clickable: bool = False) -> str:
    """A UiAutomator2 node; `text` is written as given: references stay references."""
    return (f'<{cls} index="0" package="{PKG}" class="{cls}" text="{text}" '
            f'resource-id="{PKG + ":id/" + rid if rid else ""}" content-desc="" checkable="false" checked="false" '
            f'clickable="{str(clickable).lower()}" enabled="true" focusable="false" focused="false" '
            f'long-clickable="false" password="false" scrollable="false" selected="false" displayed="true" '
            f'bounds="{bounds}" />')


def page(*views: str, prolog: str = "") -> str:
    return (f"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>{prolog}"
            '<hierarchy index="0" class="hierarchy" rotation="0" width="1080" height="2400">'
            f'<android.widget.FrameLayout index="0" package="{PKG}" class="android.widget.FrameLayout" '
            f'bounds="[0,0][1080,2400]">{"".join(views)}</android.widget.FrameLayout></hierarchy>')


HOME = page(view(TEXT, "[0,100][1080,200]", "title", "Inbox&#1; (3)"),
            view(BUTTON, "[0,300][1080,400]", "open", "Open", clickable=True))
DETAIL = page(view(TEXT, "[0,100][1080,200]", "body", "A message"))
BOMB = page(view(TEXT, "[0,100][1080,200]", "body", "&lol3;"), prolog=(
    '<!DOCTYPE hierarchy [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'))


def recorded(tmp_path: Path, detail: str) -> tuple[str, tuple[str, str]]:
    """Home (a title with `&#1;`) -> tap Open -> detail."""
    model = {"format": "recorded", "package": PKG, "label": "Real sources", "start": "home",
             "screens": {"home": {"activity": ".HomeActivity", "pageSource": HOME},
                         "detail": {"activity": ".DetailActivity", "pageSource": detail}},
             "transitions": [{"from": "home", "action": {"kind": "tap", "element": {"resource-id": f"{PKG}:id/open"}},
                              "to": "detail"}]}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))
    return str(path), (PKG, ".HomeActivity")


def test_a_control_character_reference_is_dropped_and_the_screen_explored(h: Harness, tmp_path):
    finished = h.explore(*recorded(tmp_path, DETAIL), max_steps=4)
    assert finished.run.status == "completed", finished.terminal
    perceived = finished.named("agent.screen.perceived")
    cleaned = {d["activity"]: d["cleaned"] for d in perceived}
    assert cleaned == {".HomeActivity": 1, ".DetailActivity": 0}, perceived
    assert "tap:id/open" in finished.actions()
    assert finished.metrics["screensDiscovered"] == 2


def test_a_doctype_page_source_is_retried_then_fails_the_run_device_error(h: Harness, tmp_path):
    finished = h.explore(*recorded(tmp_path, BOMB), max_steps=10)
    assert_one_terminal(finished, "run.failed", "failed", "device_error")
    assert "unreadable page source" in finished.terminal.data["error"]
    assert "declares a DOCTYPE" in finished.terminal.data["error"]
    (verify,) = [call for call in finished.calls() if call.name == "Verify"][-1:]
    assert verify.outcome == "FAILURE" and "DOCTYPE" in verify.detail["error"]
    (recovery,) = [call for call in finished.calls() if call.name == "RecoverFromError"]
    assert (recovery.outcome, recovery.detail["stopReason"]) == ("FAILURE", "device_error")


def test_a_view_that_does_not_say_it_is_clickable_is_tapped_after_the_declared_ones(h: Harness, tmp_path):
    """A custom view (a canvas, a WebView's button) leads on when touched, though its node says nothing:
    the crawl taps it after the declared button, and says so in the event."""
    home = page(view(TEXT, "[0,100][1080,200]", "title", "Inbox"),
                view("android.view.View", "[0,300][1080,400]", "canvas_play"),
                view(BUTTON, "[0,500][1080,600]", "open", "Open", clickable=True))
    model = {"format": "recorded", "package": PKG, "label": "Custom views", "start": "home",
             "screens": {"home": {"activity": ".HomeActivity", "pageSource": home},
                         "game": {"activity": ".GameActivity", "pageSource": DETAIL}},
             "transitions": [{"from": "home", "action": {"kind": "tap",
                                                         "element": {"resource-id": f"{PKG}:id/canvas_play"}},
                              "to": "game"}]}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))
    finished = h.explore(str(path), (PKG, ".HomeActivity"), max_steps=4)
    assert finished.run.status == "completed", finished.terminal
    performed = [d["action"] for d in finished.named("agent.action.performed")]
    assert [(a["action_id"], a.get("declared", True)) for a in performed[:3]] == [
        ("tap:id/open", True), ("tap:id/title", False), ("tap:id/canvas_play", False)]
    assert ".GameActivity" in {d["activity"] for d in finished.named("agent.screen.perceived")}
