"""What real devices send (DESIGN.md "Real apps"): character references to control characters, a DOCTYPE that
must never be expanded, old `uiautomator dump`s with NAF nodes, zero-size and off-screen bounds, WebView content,
texts in any script; and DroidBot's JSON view trees, converted by the importer's own module
(runservice_client/droidbot.py), read as our screens. Each page source is written here."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from ulid import ULID

from agent import step as exploration
from adapters.appium import DeviceError, DeviceUnavailable
from agent.step import ExplorationStep
from agent.outcome import Stop
from agent.observer import Observer
from domain.exploration import PageSourceError, enumerate_actions, parse_screen
from domain.exploration.screen import MAX_DEPTH, clean_page_source
from domain.run import Run
from domain.wire import to_wire
from runservice_client.droidbot import BrokenFile, State, ViewTreeError, page_source, state_from_json
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, node, row

# Control characters in texts: how the UiAutomator2 server writes them, and what expat refuses.


def titled(text: str) -> str:
    """A page whose title's text attribute is written as given (references unescaped)."""
    return hierarchy(frame(node("android.widget.TextView", rid="title", text="@@", bounds=row(100)),
                           node("android.widget.Button", rid="ok", text="OK", bounds=row(200), clickable=True))
                     ).replace('text="@@"', f'text="{text}"')


def title_of(source: str) -> str:
    return next(e.text for e in parse_screen(source).elements if e.short_id == "title")


@pytest.mark.parametrize("reference", ["&#1;", "&#x1F;", "&#x1f;", "&#0;", "&#8;", "&#11;", "&#xB;", "&#12;",
                                       "&#xD800;", "&#xDFFF;", "&#xFFFE;", "&#65535;", "&#x110000;",
                                       "&#99999999999;"])
def test_a_reference_to_a_character_xml_forbids_is_dropped_and_counted(reference):
    source = titled(f"Hello{reference} world")
    screen = parse_screen(source)
    assert title_of(source) == "Hello world"
    assert screen.cleaned == 1
    assert screen.screen_id == parse_screen(titled("Hello world")).screen_id


def test_every_forbidden_reference_and_raw_character_counts_once():
    source = titled("a&#1;b&#x2;c&#x1F;d\x01e\x7f").replace('text="OK"', 'text="O&#27;K&#x0;"')
    screen = parse_screen(source)
    assert screen.cleaned == 6  # \x7f (DEL) is allowed in XML 1.0 and stays
    assert title_of(source) == "abcde\x7f"
    assert any(e.text == "OK" for e in screen.elements)


@pytest.mark.parametrize("reference, char", [("&#9;", "\t"), ("&#10;", "\n"), ("&#13;", "\r"), ("&#x20;", " "),
                                             ("&#233;", "é"), ("&#x1F600;", "😀"), ("&#xFFFD;", "\ufffd")])
def test_references_to_allowed_characters_are_kept(reference, char):
    source = titled(f"x{reference}y")
    assert title_of(source) == f"x{char}y"
    assert parse_screen(source).cleaned == 0


def test_an_escaped_ampersand_before_a_hash_is_text_not_a_reference():
    source = titled("Issue &amp;#1; is open")
    assert title_of(source) == "Issue &#1; is open"
    assert parse_screen(source).cleaned == 0


def test_a_clean_page_source_reports_nothing_dropped():
    assert parse_screen(titled("fine")).cleaned == 0
    assert clean_page_source("<a b='&#1;'/>") == ("<a b=''/>", 1)
    assert clean_page_source("<a/>") == ("<a/>", 0)


def test_dropped_characters_do_not_change_equality_of_screens():
    assert parse_screen(titled("a&#1;")) == parse_screen(titled("a"))


@pytest.mark.parametrize("recorded, shown", [({"cleaned": 3}, 3), ({}, 0)])
def test_the_perceived_event_carries_cleaned_and_events_without_it_read_zero(recorded, shown):
    run = Run(id=ULID().to_uuid(), app_config={"packageName": PKG}, goal=None, max_steps=9, inputs={},
              tenant_id="t", project_id="p")
    run.start("w1", datetime(2031, 1, 1, tzinfo=timezone.utc))
    run.record_screen(step_ordinal=1, screen_id="s1", activity=".Main", package=PKG,
               element_count=2, artifacts={}, **recorded)
    (perceived,) = [w for w in map(to_wire, run.collect_events()) if w.name == "agent.screen.perceived"]
    assert perceived.data["cleaned"] == shown


# DOCTYPEs and entities: never expanded, a clear message.

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<hierarchy><android.widget.TextView text="&lol9;" /></hierarchy>"""


@pytest.mark.parametrize("source", [
    BILLION_LAUGHS,
    BILLION_LAUGHS.encode(),
    '<!DOCTYPE hierarchy><hierarchy><android.widget.TextView text="hi" /></hierarchy>',
    '<?xml version="1.0"?><!DOCTYPE h [<!ENTITY x SYSTEM "file:///etc/passwd">]><hierarchy>&x;</hierarchy>',
    '<!DOCTYPE h SYSTEM "http://example.com/h.dtd"><hierarchy />',
])
def test_a_doctype_is_refused_before_any_parser_sees_it(source):
    started = time.perf_counter()
    with pytest.raises(PageSourceError, match="declares a DOCTYPE"):
        parse_screen(source)
    assert time.perf_counter() - started < 0.5  # nothing was expanded


def test_an_entity_without_a_doctype_is_not_well_formed():
    with pytest.raises(PageSourceError, match="not well-formed"):
        parse_screen('<hierarchy><android.widget.TextView text="&lol;" /></hierarchy>')


def test_a_page_source_nested_deeper_than_android_draws_is_refused_not_a_recursion_error():
    deep = "<node>" * (MAX_DEPTH + 1) + "</node>" * (MAX_DEPTH + 1)
    with pytest.raises(PageSourceError, match="deeper than"):
        parse_screen(f"<hierarchy>{deep}</hierarchy>")
    shallow = "<node>" * (MAX_DEPTH - 1) + "</node>" * (MAX_DEPTH - 1)
    assert len(parse_screen(f"<hierarchy>{shallow}</hierarchy>").elements) == MAX_DEPTH - 1


# The agent: an unreadable page source is the device's error (retried, then device_error).


class FakeDevice:
    def __init__(self, *sources: str) -> None:
        self.sources = list(sources)

    def page_source(self) -> str:
        return self.sources.pop(0) if len(self.sources) > 1 else self.sources[0]

    def current_activity(self) -> str:
        return ".Main"

    def current_package(self) -> str:
        return PKG


def observer(*sources: str) -> Observer:
    return Observer(FakeDevice(*sources), PKG, cancel_requested=lambda: False, before_waiting=lambda: None)


@pytest.mark.parametrize("source, says", [(BILLION_LAUGHS, "declares a DOCTYPE"), ("<hierarchy>", "not well-formed")])
def test_the_observer_reports_an_unreadable_page_source_as_a_device_error(source, says):
    for look in (observer(source).screen, observer(source).wait_idle):
        with pytest.raises(DeviceError, match=f"unreadable page source: .*{says}"):
            look()


def test_the_observer_reads_a_page_source_with_control_characters():
    screen = observer(titled("a&#1;b")).wait_idle()
    assert screen.cleaned == 1 and screen.activity == ".Main"


def recovering_step(wait_idle) -> ExplorationStep:
    run = SimpleNamespace(
        node=SimpleNamespace(flush=lambda: None, cancel_requested=lambda: False), goal=None,
        figures=SimpleNamespace(errors=0, restarts=0),
        observer=SimpleNamespace(wait_idle=wait_idle, package=PKG))
    return ExplorationStep(run, findings=None)


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr(exploration, "RETRY_BACKOFF_SECONDS", (0, 0, 0))


def test_a_page_source_that_stays_unreadable_fails_the_run_device_error_after_the_retries(no_backoff):
    looks = []

    def wait_idle():
        looks.append(1)
        return observer(BILLION_LAUGHS).wait_idle()

    step = recovering_step(wait_idle)
    stopped = step.recover(DeviceError("unreadable page source: first"))
    assert isinstance(stopped, Stop) and (stopped.outcome, stopped.stop_reason) == ("failed", "device_error")
    assert "declares a DOCTYPE" in stopped.error
    assert len(looks) == exploration.MAX_CONSECUTIVE_ERRORS and step.context.figures.errors == 4


def test_a_page_source_readable_again_on_a_retry_goes_on(no_backoff):
    answers = [DeviceError("unreadable page source: once"), parse_screen(titled("back"), package=PKG)]

    def wait_idle():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    step = recovering_step(wait_idle)
    assert title_of(titled("back")) == "back"
    assert step.recover(DeviceError("first")).package == PKG
    assert step.context.figures.errors == 2


def test_a_device_lost_while_recovering_is_device_unavailable(no_backoff):
    def wait_idle():
        raise DeviceUnavailable("Appium server unreachable")

    stopped = recovering_step(wait_idle).recover(DeviceError("first"))
    assert isinstance(stopped, Stop) and stopped.stop_reason == "device_unavailable"


# Old `uiautomator dump`s: `<node>` tags, NAF nodes, no width or height, zero-size and off-screen bounds, WebViews.

DUMP_PKG = "com.example.dump"


def dump_node(cls: str, bounds: str, children: str = "", naf: bool = False, **attrs: str) -> str:
    values = {"index": "0", "text": "", "resource-id": "", "class": cls, "package": DUMP_PKG, "content-desc": "",
              "checkable": "false", "checked": "false", "clickable": "false", "enabled": "true",
              "focusable": "false", "focused": "false", "scrollable": "false", "long-clickable": "false",
              "password": "false", "selected": "false", **attrs, "bounds": bounds}
    rendered = ('NAF="true" ' if naf else "") + " ".join(f'{key}="{value}"' for key, value in values.items())
    return f"<node {rendered}>{children}</node>" if children else f"<node {rendered}/>"


def old_dump(*content: str) -> str:
    body = dump_node("android.widget.FrameLayout", "[0,0][800,1205]", "".join(content))
    return f"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<hierarchy rotation=\"0\">{body}</hierarchy>"


DUMP = old_dump(
    dump_node("android.widget.ImageButton", "[657,409][764,494]", naf=True, clickable="true",
              **{"resource-id": f"{DUMP_PKG}:id/btn_delete"}),
    dump_node("android.view.View", "[36,396][764,740]", naf=True, clickable="true"),
    dump_node("android.widget.Button", "[100,100][100,100]", clickable="true", text="Zero"),
    dump_node("android.widget.Button", "[300,300][200,400]", clickable="true", text="Inverted"),
    dump_node("android.webkit.WebView", "[0,108][800,1205]", "".join([
        dump_node("android.view.View", "[0,200][800,300]", clickable="true", **{"content-desc": "Job 1 Link"}),
        dump_node("android.view.View", "[0,1100][800,1300]", clickable="true", **{"content-desc": "Job 2 Link"}),
        dump_node("android.view.View", "[0,1223][800,1318]", clickable="true", **{"content-desc": "Job 3 Link"}),
        dump_node("android.view.View", "[-900,200][-100,300]", clickable="true", **{"content-desc": "Left"}),
    ]), **{"resource-id": f"{DUMP_PKG}:id/webview", "content-desc": "Web View"}),
)


def by_label(screen) -> dict[str, str]:
    return {action.label: action.action_id for action in enumerate_actions(screen)}


def test_an_old_dump_with_naf_nodes_is_read_with_its_classes_and_package():
    screen = parse_screen(DUMP)
    assert screen.package == DUMP_PKG
    assert [e.short_class for e in screen.elements][:3] == ["FrameLayout", "ImageButton", "View"]
    naf = screen.elements[1]
    assert naf.clickable and naf.name == "btn_delete" and naf.bounds == (657, 409, 764, 494)
    labels = by_label(screen)
    assert 'tap "btn_delete"' in labels and 'tap "View"' in labels  # NAF views are tapped all the same


def test_zero_size_and_inverted_bounds_are_not_displayed_nor_offered():
    screen = parse_screen(DUMP)
    hidden = {e.text: e.displayed for e in screen.elements if e.text}
    assert hidden == {"Zero": False, "Inverted": False}
    assert not {'tap "Zero"', 'tap "Inverted"'} & set(by_label(screen))


def test_webview_content_is_offered_where_it_is_on_the_display():
    labels = by_label(parse_screen(DUMP))
    assert {'tap "Job 1 Link"', 'tap "Job 2 Link"'} <= set(labels)  # Job 2 is partly on the display
    assert 'tap "Job 3 Link"' not in labels and 'tap "Left"' not in labels  # below the fold, left of it


def test_the_hierarchy_width_and_height_are_the_display_when_given():
    inside = node("android.widget.Button", rid="far", bounds=(0, 2000, 1080, 2100), clickable=True)
    tall = hierarchy(frame(inside))  # 1080 x 2400
    short = tall.replace('height="2400"', 'height="1900"')
    assert next(e for e in parse_screen(tall).elements if e.short_id == "far").displayed
    assert not next(e for e in parse_screen(short).elements if e.short_id == "far").displayed


def test_absent_bounds_say_nothing_about_being_displayed():
    (element,) = parse_screen('<hierarchy><android.widget.TextView text="hi" /></hierarchy>').elements
    assert element.displayed and element.bounds == (0, 0, 0, 0)


def test_hidden_zero_size_views_do_not_change_the_identity():
    with_zero = old_dump(dump_node("android.widget.Button", "[0,0][800,100]", clickable="true", text="A"),
                         dump_node("android.view.View", "[10,10][10,10]"))
    without = old_dump(dump_node("android.widget.Button", "[0,0][800,100]", clickable="true", text="A"))
    assert parse_screen(with_zero).screen_id == parse_screen(without).screen_id


# Texts in any script.

SCRIPTS = ["تسجيل الدخول", "登录", "ログイン", "로그인", "Вход", "साइन इन", "Σύνδεση", "כניסה", "เข้าสู่ระบบ",
           "😀 émoji 👍🏽", "\u200fRTL mark", "Zoë & Chloé <3"]


@pytest.mark.parametrize("text", SCRIPTS)
def test_texts_in_any_script_name_their_views(text):
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    source = old_dump(dump_node("android.widget.Button", "[0,0][800,100]", clickable="true", text=escaped))
    for form in (source, source.encode("utf-8"), b"\xef\xbb\xbf" + source.encode("utf-8")):
        screen = parse_screen(form)
        (action, _back) = enumerate_actions(screen)
        assert action.label == f'tap "{text.strip()}"'
        assert action.target[0] == "xpath" and text in action.target[1]


def test_the_same_screen_in_two_languages_is_one_screen():
    english = old_dump(dump_node("android.widget.Button", "[0,0][800,100]", clickable="true", text="Sign in"))
    arabic = old_dump(dump_node("android.widget.Button", "[0,0][800,100]", clickable="true", text=SCRIPTS[0]))
    assert parse_screen(english).screen_id == parse_screen(arabic).screen_id


# DroidBot's view trees, as `runservice app import-droidbot` converts them (one converter: the importer's).


def view(index: int, parent: int, children: list[int], cls: str, bounds, **fields) -> dict:
    return {"temp_id": index, "parent": parent, "children": children, "class": cls, "bounds": bounds,
            "package": "com.example.db", "resource_id": None, "text": None, "content_description": None,
            "visible": True, "enabled": True, "clickable": False, "long_clickable": False, "checkable": False,
            "checked": False, "scrollable": False, "focusable": False, "focused": False, "selected": False,
            "is_password": False, "editable": False, **fields}


VIEWS = [
    view(0, -1, [1, 3], "android.widget.FrameLayout", [[0, 0], [1080, 1920]]),
    view(1, 0, [2], "android.widget.LinearLayout", [[0, 72], [1080, 400]]),
    view(2, 1, [], "android.widget.Button", [[0, 72], [540, 200]], clickable=True, text="Add\x01 task",
         resource_id="com.example.db:id/add"),
    view(3, 0, [4], "com.example.db.Custom$Inner", [[0, 400], [1080, 1920]], scrollable=True),
    view(4, 3, [], "android.widget.TextView", [[0, 400], [0, 400]], visible=False, text="hidden"),
]
STATE = {"tag": "t", "state_str": "abc", "state_str_content_free": "def",
         "foreground_activity": "com.example.db/.ui.MainActivity", "views": VIEWS}
BOX = [[0, 0], [1, 1]]


def screen_of(state: State):
    return parse_screen(state.page_source, activity=state.activity, package=state.package)


def test_a_droidbot_view_tree_becomes_page_source_our_parser_reads():
    source = page_source(VIEWS)
    assert source.startswith("<?xml") and 'width="1080" height="1920"' in source
    screen = parse_screen(source)
    assert [e.short_class for e in screen.elements] == ["FrameLayout", "LinearLayout", "Button", "Custom$Inner"]
    add = screen.elements[2]
    assert add.text == "Add task" and add.clickable and add.resource_id == "com.example.db:id/add"
    assert add.bounds == (0, 72, 540, 200)
    assert screen.elements[3].scrollable and screen.elements[3].class_name == "com.example.db.Custom$Inner"


def test_views_the_user_cannot_see_are_left_out_with_what_they_hold_as_uiautomator2_does():
    assert "hidden" not in page_source(VIEWS)  # DroidBot's `visible` is the accessibility flag UiAutomator2 reads
    shown = [dict(v, children=[]) if v["temp_id"] == 3 else v for v in VIEWS[:4]]
    assert parse_screen(page_source(VIEWS)).screen_id == parse_screen(page_source(shown)).screen_id
    covered = [view(0, -1, [1], "android.widget.FrameLayout", [[0, 0], [1080, 1920]]),
               view(1, 0, [2], "android.widget.LinearLayout", [[0, 0], [1080, 400]], visible=False),
               view(2, 1, [], "android.widget.Button", [[0, 0], [540, 200]], clickable=True, text="Inside")]
    assert [e.short_class for e in parse_screen(page_source(covered)).elements] == ["FrameLayout"]


def test_a_droidbot_state_is_a_screen_in_its_foreground_activity():
    state = state_from_json(json.dumps(STATE))
    screen = screen_of(state)
    assert (screen.package, screen.activity) == ("com.example.db", ".ui.MainActivity")
    assert screen.screen_id == screen_of(state_from_json(json.dumps(STATE).encode())).screen_id
    changed = [dict(v, text="Other") if v["temp_id"] == 2 else v for v in VIEWS]
    assert screen_of(state_from_json(json.dumps({**STATE, "views": changed}))).screen_id == screen.screen_id
    named_in_full = {**STATE, "foreground_activity": "com.example.db/com.example.db.ui.MainActivity"}
    assert screen_of(state_from_json(json.dumps(named_in_full))).screen_id == screen.screen_id


@pytest.mark.parametrize("text, says", [
    ("", "empty"), ("  \n", "empty"), ("{", "not JSON"), ('{"views": [{"parent": -1', "not JSON"),
    (b"\xff\xfe\x00", "not JSON"), ("[]", "not a JSON object"), ("null", "not a JSON object"),
    ('{"views": []}', "no views"), ('{"event": {"event_type": "touch"}}', "no views"),
    ('{"views": [{"parent": -1}]}', "no views or state_str"),
])
def test_files_that_are_no_droidbot_state_say_what_they_are(text, says):
    with pytest.raises(BrokenFile, match=says):
        state_from_json(text)


@pytest.mark.parametrize("views, says", [
    ([view(0, -1, [1], "a.B", BOX), view(1, 0, [0], "a.C", BOX)], "view 0 is reached twice"),
    ([view(0, -1, [1, 1], "a.B", BOX), view(1, 0, [], "a.C", BOX)], "view 1 is reached twice"),
    ([view(0, 1, [], "a.B", BOX)], "no root view"),
    ([view(0, -1, [], "a.B", BOX), view(1, 0, [], "a.C", BOX)], "view 1 is reached from no root"),
    ([view(0, -1, [], "a.B", BOX), "a.C"], "view 1 is no JSON object"),
    ([], "no views"),
])
def test_views_that_are_no_tree_raise_a_view_tree_error_and_are_no_state(views, says):
    with pytest.raises(ViewTreeError, match=says):
        page_source(views)
    with pytest.raises(BrokenFile, match=says if views else "no views"):
        state_from_json(json.dumps({**STATE, "views": views}))


def test_a_child_the_list_does_not_have_is_passed_over_and_the_rest_read():
    cut_short = [view(0, -1, [1, 2, 3], "android.widget.FrameLayout", [[0, 0], [1080, 1920]]),
                 view(1, 0, [], "android.widget.Button", [[0, 0], [540, 200]], clickable=True)]
    assert [e.short_class for e in parse_screen(page_source(cut_short)).elements] == ["FrameLayout", "Button"]


def test_a_chain_of_views_deeper_than_android_draws_is_refused_not_a_recursion_error():
    def chain(depth: int) -> list[dict]:
        return [view(i, i - 1, [i + 1] if i + 1 < depth else [], "a.B", BOX) for i in range(depth)]
    with pytest.raises(ViewTreeError, match="deeper than"):
        page_source(chain(MAX_DEPTH))  # in its <hierarchy>, deeper than our parser reads
    assert len(parse_screen(page_source(chain(MAX_DEPTH - 1))).elements) == MAX_DEPTH - 1


def test_missing_fields_take_android_defaults_and_missing_bounds_an_empty_box():
    (element,) = parse_screen(page_source([{"parent": -1, "children": [], "class": None}])).elements
    assert element.class_name == "android.view.View" and element.enabled and not element.displayed
    nulls = {"parent": -1, "class": "a.B", "bounds": BOX, "enabled": None, "clickable": None, "visible": None}
    (element,) = parse_screen(page_source([nulls])).elements
    assert element.enabled and not element.clickable and element.displayed
