"""Recorded apps (APP_MODEL.md, "Recorded real apps"): page sources and screenshots served as recorded, models refused.

The helpers here write small recorded apps into tmp_path; test_recorded_actions.py uses them too.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from selenium.common.exceptions import SessionNotCreatedException

from tests.sim.helpers import source_tree

PKG = "com.example.rec"

# A 16x8 JPEG of one colour, (200, 30, 40), as jpeg-js writes it at quality 90.
RED_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wCEAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIU"
    "FRQBAwQEBQQFCQUFCRQNCw0UFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFP/AABEIAAgAEAMBEQACEQEDEQH/"
    "xAGiAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJ"
    "ChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrC"
    "w8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQID"
    "EQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqC"
    "g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/2gAMAwEAAhEDEQA/APBK"
    "/Pz+4AoA/wD/2Q=="
)
RED = (200, 30, 40)

FLAGS = ("checkable", "checked", "clickable", "enabled", "focusable", "focused", "scrollable", "long-clickable",
         "password", "selected")


def png_bytes(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """An 8-bit RGB PNG of one colour (what a test needs of a recorded screenshot)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and RGB pixels of an 8-bit RGB PNG (filters 0..4)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert (depth, color) == (8, 2), "an 8-bit RGB PNG"
        elif kind == b"IDAT":
            idat += body
    raw, stride, out, prev = zlib.decompress(idat), width * 3, bytearray(), bytearray(width * 3)
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            a, b, c = (line[i - 3] if i >= 3 else 0), prev[i], (prev[i - 3] if i >= 3 else 0)
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return width, height, bytes(out)


def attrs(cls: str, bounds: str, form: str, **values: Any) -> str:
    """A node's attributes in the order its page-source form writes them (`rid` is the resource-id's name)."""
    rid = values.pop("rid", "")
    base = {"index": str(values.pop("index", 0)), "text": values.pop("text", ""),
            "resource-id": f"{PKG}:id/{rid}" if rid else "", "class": cls, "package": PKG,
            "content-desc": values.pop("desc", "")}
    flags = {f: "false" for f in FLAGS} | {"enabled": "true"}
    flags.update({k.replace("_", "-"): str(v).lower() for k, v in values.items()})
    if form == "hierarchy":  # UiAutomator2's order
        order = ["index", "package", "class", "text", "resource-id", *FLAGS, "content-desc"]
        merged = base | flags
        return " ".join(f'{k}="{merged[k]}"' for k in order) + f' bounds="{bounds}" displayed="true"' + "".join(
            f' {k}="{v}"' for k, v in flags.items() if k not in FLAGS)
    merged = base | flags
    return " ".join(f'{k}="{v}"' for k, v in merged.items()) + f' bounds="{bounds}"'


def hierarchy(*nodes: str, width: int | None = None, height: int | None = None) -> str:
    size = f' width="{width}" height="{height}"' if width else ""
    return ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\r\n"
            f'<hierarchy index="0" class="hierarchy" rotation="0"{size}>\r\n' + "".join(nodes) + "</hierarchy>")


def el(cls: str, bounds: str, *children: str, **values: Any) -> str:
    """A node of a UiAutomator2 page source: its tag is its class."""
    a = attrs(cls, bounds, "hierarchy", **values)
    return f"<{cls} {a}>{''.join(children)}</{cls}>" if children else f"<{cls} {a} />"


def node(cls: str, bounds: str, *children: str, **values: Any) -> str:
    """A node of a `uiautomator dump`."""
    a = attrs(cls, bounds, "node", **values)
    return f"<node {a}>{''.join(children)}</node>" if children else f"<node {a} />"


def write_recorded(tmp_path: Path, screens: dict[str, Any], transitions: list[dict[str, Any]] | None = None,
                   start: str | None = None, files: dict[str, bytes | str] | None = None, **top: Any) -> str:
    """Write `files` (paths relative to tmp_path) and a recorded model; returns the model's path."""
    for rel, content in (files or {}).items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    model = {"format": "recorded", "package": PKG, "label": "Recorded", "start": start or next(iter(screens)),
             "screens": screens, "transitions": transitions or [], **top}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))
    return str(path)


# --- serving recorded screens ----------------------------------------------------------------------------

FRAME = "android.widget.FrameLayout"
TEXT = "android.widget.TextView"
BUTTON = "android.widget.Button"

HOME = hierarchy(el(
    FRAME, "[0,0][720,1280]",
    el(TEXT, "[10,10][700,90]", rid="title", text="Hello", desc="Greeting"),
    el(BUTTON, "[600,1100][100,1200]", rid="broken", text="Broken", clickable=True, index=1),
), width=720, height=1280)
DETAIL_DUMP = hierarchy(node(
    FRAME, "[0,0][800,1205]",
    node(TEXT, "[0,0][800,100]", rid="title", text="Detail"),
    node("android.widget.ImageButton", "[700,0][800,100]", clickable=True, NAF=True, index=1),
))


def two_screens(tmp_path, **home_extra):
    """home (inline UiAutomator2 source) -> tap on "Hello" -> detail (a `uiautomator dump` file)."""
    return write_recorded(
        tmp_path,
        {"home": {"activity": ".Home", "pageSource": HOME, **home_extra},
         "detail": {"activity": ".Detail", "pageSource": "screens/detail.xml"}},
        [{"from": "home", "action": {"kind": "tap", "element": {"text": "Hello"}}, "to": "detail"}],
        files={"screens/detail.xml": DETAIL_DUMP},
    )


def test_both_page_source_forms_are_served_as_uiautomator2_serves_them(driver_for, tmp_path):
    d = driver_for(two_screens(tmp_path))
    assert d.current_package == PKG and d.current_activity == ".Home"
    root = source_tree(d)
    assert (root.tag, root.get("width"), root.get("height")) == ("hierarchy", "720", "1280")
    assert [n.tag for n in root.iter()][1:] == [FRAME, TEXT, BUTTON]
    title = root.find(f".//{TEXT}")
    assert (title.get("text"), title.get("content-desc"), title.get("bounds")) == ("Hello", "Greeting", "[10,10][700,90]")
    assert root.find(f".//{BUTTON}").get("bounds") == "[600,1100][100,1200]"  # served as recorded, x2 < x1
    assert d.get_window_size() == {"width": 720, "height": 1280}
    assert d.capabilities["deviceScreenSize"] == "720x1280"

    d.find_element("id", "title").click()
    assert d.current_activity == ".Detail"
    root = source_tree(d)
    assert "node" not in {n.tag for n in root.iter()}  # tags named by class, as UiAutomator2 writes them
    assert [n.tag for n in root.iter()][1:] == [FRAME, TEXT, "android.widget.ImageButton"]
    assert (root.get("width"), root.get("height")) == ("800", "1205")  # no size given: the root's bounds
    assert root.find(".//android.widget.ImageButton").get("NAF") == "true"  # what else was recorded stays
    assert root.find(f".//{TEXT}").get("text") == "Detail"


def test_find_element_and_attributes_work_on_recorded_screens(driver_for, tmp_path):
    d = driver_for(two_screens(tmp_path))
    title = d.find_element("id", "title")
    assert title.text == "Hello"
    assert title.get_attribute("resource-id") == f"{PKG}:id/title"
    assert title.get_attribute("class") == TEXT
    assert title.get_attribute("content-desc") == "Greeting"
    assert title.rect == {"x": 10, "y": 10, "width": 690, "height": 80}
    assert title.is_enabled() and title.is_displayed()
    assert d.find_element("accessibility id", "Greeting").text == "Hello"
    assert [e.text for e in d.find_elements("class name", BUTTON)] == ["Broken"]
    broken = d.find_element("xpath", f"//{BUTTON}[@text='Broken']")
    assert broken.get_attribute("clickable") == "true"
    assert broken.get_attribute("bounds") == "[600,1100][100,1200]"
    title.click()
    assert d.find_element("xpath", "//*[@NAF='true']").get_attribute("NAF") == "true"


def test_character_references_to_control_characters_are_served_as_recorded(driver_for, tmp_path):
    odd = hierarchy(el(FRAME, "[0,0][720,1280]", el(
        TEXT, "[0,0][720,100]", rid="odd", text="bell&#7;x&#x1F;y &amp; &lt;z&gt;", desc="&#0;")), width=720, height=1280)
    d = driver_for(write_recorded(tmp_path, {"s": {"activity": ".S", "pageSource": odd}}))
    source = d.page_source
    assert 'text="bell&#7;x&#x1F;y &amp; &lt;z&gt;"' in source
    assert 'content-desc="&#0;"' in source
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(source.encode())  # as a real device's would, it breaks strict XML parsers
    odd_el = d.find_element("xpath", "//*[@resource-id='com.example.rec:id/odd']")
    assert odd_el.text == "bell\x07x\x1fy & <z>"
    assert d.find_element("id", "odd").get_attribute("content-desc") == "\x00"


def test_a_doctype_is_served_with_the_page_never_expanded(driver_for, tmp_path):
    source = ('<?xml version="1.0"?>\n<!DOCTYPE hierarchy [<!ENTITY boom "BOOM">]>\n'
              + hierarchy(el(FRAME, "[0,0][720,1280]", el(TEXT, "[0,0][720,100]", rid="t", text="&boom;")))
              .split("\r\n", 1)[1])
    d = driver_for(write_recorded(tmp_path, {"s": {"activity": ".S", "pageSource": source}}))
    assert "<!DOCTYPE hierarchy [<!ENTITY boom \"BOOM\">]>" in d.page_source
    assert 'text="&boom;"' in d.page_source
    assert d.find_element("id", "t").text == "&boom;"


@pytest.mark.parametrize("given", ["png file", "png data uri", "jpeg file", "jpeg data uri"])
def test_a_recorded_screenshot_is_served_as_png(driver_for, tmp_path, given):
    image = png_bytes(12, 20, (10, 200, 30)) if given.startswith("png") else RED_JPEG
    if given.endswith("file"):
        name = "shots/home." + given.split()[0]
        shot, files = name, {name: image}
    else:
        shot, files = f"data:image/{given.split()[0]};base64," + base64.b64encode(image).decode(), {}
    d = driver_for(write_recorded(tmp_path, {"home": {"activity": ".Home", "pageSource": HOME, "screenshot": shot}},
                                  files=files))
    png = d.get_screenshot_as_png()
    if given.startswith("png"):
        assert png == image
        return
    width, height, pixels = read_png(png)
    assert (width, height) == (16, 8)
    assert all(abs(pixels[i] - RED[i % 3]) <= 8 for i in range(0, len(pixels)))


def test_without_a_screenshot_one_is_drawn_from_the_page_source(driver_for, tmp_path):
    d = driver_for(two_screens(tmp_path))
    width, height, pixels = read_png(d.get_screenshot_as_png())
    assert (width, height) == (240, 427)  # 720x1280 at a third
    title_row = [pixels[(15 * width + x) * 3:(15 * width + x) * 3 + 3] for x in range(5, 200)]
    assert len(set(title_row)) > 1, "the recorded title is not drawn"


def test_a_jpeg_that_cannot_be_decoded_gives_a_drawn_screenshot(driver_for, tmp_path):
    broken = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 40).decode()
    d = driver_for(write_recorded(tmp_path, {"home": {"activity": ".Home", "pageSource": HOME, "screenshot": broken}}))
    assert read_png(d.get_screenshot_as_png())[:2] == (240, 427)


def refused(driver_for, path):
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for(path)
    return err.value.msg


@pytest.mark.parametrize(
    ("page_source", "problem"),
    [
        ("/etc/hostname", 'screens.s.pageSource: "/etc/hostname" is an absolute path'),
        ("../outside.xml", 'screens.s.pageSource: "../outside.xml" leads out of the model file\'s folder'),
        ("screens/../../outside.xml", "leads out of the model file's folder"),
        ("link.xml", 'screens.s.pageSource: "link.xml" is a link leading out of the model file\'s folder'),
        ("screens/nope.xml", 'screens.s.pageSource: the file "screens/nope.xml" is missing'),
        ("<hierarchy><node bounds='[0,0][1,1]'></hierarchy>", "screens.s.pageSource: not a page source: line 1"),
        ("broken.xml", "screens.s.pageSource (broken.xml): not a page source: line 3: </hierarchy> closes <node>"),
    ],
    ids=["absolute", "dotdot", "inner-dotdot", "symlink-out", "missing", "inline-broken", "file-broken"],
)
def test_page_sources_outside_the_folder_missing_or_broken_refuse_the_model(driver_for, tmp_path, page_source, problem):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    outside = tmp_path / "outside.xml"
    outside.write_text(HOME)
    os.symlink(outside, app_dir / "link.xml")
    (app_dir / "broken.xml").write_text("<hierarchy>\n<node>\n</hierarchy>")
    msg = refused(driver_for, write_recorded(app_dir, {"s": {"activity": ".S", "pageSource": page_source}}))
    assert problem in msg
    assert f"App model {app_dir / 'model.json'} is invalid" in msg
    assert "not found" not in msg  # a broken model fails the launch, it is no missing app


def test_a_link_that_stays_inside_the_folder_is_followed(driver_for, tmp_path):
    (tmp_path / "real.xml").write_text(HOME)
    os.symlink("real.xml", tmp_path / "alias.xml")
    d = driver_for(write_recorded(tmp_path, {"s": {"activity": ".S", "pageSource": "alias.xml"}}))
    assert d.find_element("id", "title").text == "Hello"


@pytest.mark.parametrize(
    ("screenshot", "problem"),
    [
        ("shots/none.png", 'screens.s.screenshot: the file "shots/none.png" is missing'),
        ("../x.png", "screens.s.screenshot: \"../x.png\" leads out of the model file's folder"),
        ("notes.txt", 'screens.s.screenshot: "notes.txt" is not a PNG or JPEG image'),
        ("data:image/png;base64,aGVsbG8=", "screens.s.screenshot: the data: URI is not a PNG or JPEG image"),
    ],
    ids=["missing", "dotdot", "not-an-image", "data-not-an-image"],
)
def test_bad_screenshots_refuse_the_model(driver_for, tmp_path, screenshot, problem):
    msg = refused(driver_for, write_recorded(
        tmp_path, {"s": {"activity": ".S", "pageSource": HOME, "screenshot": screenshot}}, files={"notes.txt": "hi"}))
    assert problem in msg


@pytest.mark.parametrize(
    ("transition", "problem"),
    [
        ({"from": "s", "action": {"kind": "tap", "at": [1, 1]}, "to": "nowhere"}, 'transitions[0].to: unknown screen "nowhere"'),
        ({"from": "s", "action": {"kind": "fling", "at": [1, 1]}, "to": "s"}, 'transitions[0].action.kind: unknown kind "fling"'),
        ({"from": "s", "action": {"kind": "scroll", "at": [1, 1]}, "to": "s"}, "transitions[0].action.direction: a scroll needs"),
        ({"from": "s", "action": {"kind": "tap"}, "to": "s"}, 'transitions[0].action: a tap needs "at"'),
        ({"from": "s", "action": {"kind": "tap", "at": [1]}, "to": "s"}, "transitions[0].action.at: must be a point"),
        ({"from": "s", "action": {"kind": "back"}}, 'transitions[0]: needs "to"'),
        ({"from": "s", "action": {"kind": "tap", "element": {"nth": 1}}, "to": "s"}, "transitions[0].action.element: names no node"),
    ],
    ids=["to", "kind", "direction", "no-target", "point", "no-to", "element"],
)
def test_broken_transitions_refuse_the_model(driver_for, tmp_path, transition, problem):
    msg = refused(driver_for, write_recorded(tmp_path, {"s": {"activity": ".S", "pageSource": HOME}}, [transition]))
    assert problem in msg


def test_a_recorded_screen_needs_a_page_source(driver_for, tmp_path):
    msg = refused(driver_for, write_recorded(tmp_path, {"s": {"activity": ".S"}}))
    assert "screens.s.pageSource: a recorded screen needs its page source" in msg


@pytest.mark.parametrize("name", ["ApiDemos-debug.apk", "app.bin"])
def test_an_apk_is_refused_the_simulator_runs_app_models(driver_for, tmp_path, name):
    apk = tmp_path / name
    apk.write_bytes(b"PK\x03\x04\x14\x00\x08\x08\x08\x00" + b"\x00" * 64)  # a zip, as every APK is
    msg = refused(driver_for, str(apk))
    assert f"The simulator runs app models, not APKs: {apk} is an APK" in msg


def test_a_file_that_is_no_json_is_refused_as_no_app_model(driver_for, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    msg = refused(driver_for, str(path))
    assert "is not valid JSON" in msg and "The simulator runs app models (JSON files, see APP_MODEL.md), not APKs" in msg
