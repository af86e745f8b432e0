"""Coordinate taps, W3C pointer actions (hit tested against bounds) and screenshots."""

from __future__ import annotations

import io
import struct
import zlib

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput

from tests.sim.helpers import LAUNCHER, NOTES, by_id, login


def center(el):
    r = el.rect
    return r["x"] + r["width"] // 2, r["y"] + r["height"] // 2


def test_tap_at_coordinates_hits_the_element_under_the_finger(driver_for):
    d = driver_for("notes")
    d.tap([center(by_id(d, "accept"))])
    assert d.current_activity == ".LoginActivity"


def test_tap_outside_any_element_does_nothing(driver_for):
    d = driver_for("notes")
    d.tap([(5, 2300)])
    assert d.current_activity == ".ConsentActivity"


def test_tap_on_non_clickable_text_does_nothing(driver_for):
    d = driver_for("notes")
    d.tap([center(by_id(d, "title"))])
    assert d.current_activity == ".ConsentActivity"


def test_w3c_pointer_actions_with_element_origin(driver_for):
    d = driver_for("notes")
    ActionChains(d).move_to_element(by_id(d, "accept")).click().perform()
    assert d.current_activity == ".LoginActivity"


def test_w3c_touch_pointer_tap_and_swipe(driver_for):
    d = driver_for("settings")
    x, y = center(by_id(d, "display"))
    swipe = ActionBuilder(d, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
    swipe.pointer_action.move_to_location(x, y).pointer_down().move_to_location(x, y - 600).release()
    swipe.perform()
    assert d.current_activity == ".SettingsActivity"  # a swipe is not a tap
    tap = ActionBuilder(d, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
    tap.pointer_action.move_to_location(x, y).pointer_down().pause(0.05).release()
    tap.perform()
    assert d.current_activity == ".display.DisplaySettingsActivity"


def test_tap_on_launcher_icon_resumes_the_app(driver_for):
    d = driver_for("notes")
    d.press_keycode(3)
    icon = d.find_element("accessibility id", "Notes")
    d.tap([center(icon)])
    assert d.current_package == NOTES


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """Minimal PNG decoder for 8-bit RGB, filter type 0..4 (enough to check pixels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    stream = io.BytesIO(data[8:])
    idat = b""
    width = height = 0
    while True:
        length, kind = struct.unpack(">I4s", stream.read(8))
        chunk = stream.read(length)
        stream.read(4)
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert (depth, color) == (8, 2)
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * 3
    out = bytearray()
    prev = bytearray(stride)
    for row in range(height):
        f = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return width, height, bytes(out)


def test_screenshot_draws_each_visible_element(driver_for):
    d = driver_for("notes")
    png = d.get_screenshot_as_png()
    width, height, pixels = read_png(png)
    assert (width, height) == (360, 800)  # 1080x2400 at 1/3

    def pixel(x, y):
        i = (y * width + x) * 3
        return tuple(pixels[i:i + 3])

    accept = by_id(d, "accept").rect
    inside = pixel((accept["x"] + 30) // 3, (accept["y"] + accept["height"] // 2) // 3)
    background = pixel(width // 2, (2400 - 300) // 3)
    assert inside != background, "the Accept button is not drawn"
    title = by_id(d, "title").rect
    row = [pixel(x, (title["y"] + title["height"] // 2) // 3) for x in range(title["x"] // 3 + 2, title["x"] // 3 + 60)]
    assert len(set(row)) > 1, "the title text is not drawn"
    login_png = (by_id(d, "accept").click(), d.get_screenshot_as_png())[1]
    assert login_png != png


def test_screenshot_of_launcher_differs_from_app(driver_for):
    d = driver_for("notes")
    login(d)
    app_png = d.get_screenshot_as_png()
    d.press_keycode(3)
    assert d.current_package == LAUNCHER
    assert d.get_screenshot_as_png() != app_png


def test_a_screenshot_shows_every_change_of_the_screen_and_the_same_screen_alike(driver_for):
    """The simulator keeps the pictures it drew; a kept one must never stand for a changed screen."""
    d = driver_for("notes")
    consent = d.get_screenshot_as_png()
    assert d.get_screenshot_as_png() == consent
    by_id(d, "accept").click()
    empty = d.get_screenshot_as_png()
    by_id(d, "username").send_keys("ada")
    typed = d.get_screenshot_as_png()
    by_id(d, "username").send_keys("m")  # one more letter
    longer = d.get_screenshot_as_png()
    by_id(d, "password").send_keys("secret")  # the focus moves, and the password shows as dots
    assert len({consent, empty, typed, longer, d.get_screenshot_as_png()}) == 5
