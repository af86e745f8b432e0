import pytest

from domain.exploration import Element, PageSourceError, parse_screen
from domain.exploration.elements import parse_bounds
from tests.unit.exploration.pagesource import PKG, hierarchy, login_page, node


def only_element(source: str) -> Element:
    (element,) = parse_screen(source).elements
    return element


def test_attributes_are_read_from_the_node():
    element = only_element(hierarchy(node(
        "android.widget.Switch", rid="dark_mode", text="Dark mode", desc="Toggle dark mode", hint="h",
        bounds=(10, 20, 310, 120), clickable=True, checkable=True, checked=True, focusable=True,
        scrollable=True, enabled=False)))
    assert element.resource_id == f"{PKG}:id/dark_mode"
    assert element.short_id == "dark_mode"
    assert element.class_name == "android.widget.Switch"
    assert (element.text, element.content_desc, element.hint) == ("Dark mode", "Toggle dark mode", "h")
    assert element.clickable and element.checkable and element.checked
    assert element.focusable and element.scrollable
    assert not element.enabled and element.displayed and not element.password
    assert element.bounds == (10, 20, 310, 120)
    assert element.center == (160, 70)
    assert element.package == PKG


def test_absent_attributes_take_android_defaults():
    element = only_element('<hierarchy><android.widget.TextView text="hi" /></hierarchy>')
    assert element.class_name == "android.widget.TextView"  # from the tag when class is absent
    assert element.enabled and element.displayed
    assert not element.clickable and not element.checkable
    assert element.bounds == (0, 0, 0, 0)
    assert element.resource_id == "" and element.short_id == ""


def test_old_uiautomator_node_tags_take_the_class_attribute():
    element = only_element('<hierarchy><node class="android.widget.Button" clickable="true" /></hierarchy>')
    assert element.class_name == "android.widget.Button" and element.clickable


@pytest.mark.parametrize("cls, editable", [
    ("android.widget.EditText", True),
    ("androidx.appcompat.widget.AppCompatEditText", True),
    ("android.widget.AutoCompleteTextView", True),
    ("android.widget.TextView", False),
    ("android.widget.Button", False),
])
def test_editable_follows_the_class(cls, editable):
    assert Element(class_name=cls).editable is editable


def test_nested_layouts_are_flattened_in_document_order():
    screen = parse_screen(login_page())
    short_ids = [element.short_id for element in screen.elements]
    assert short_ids == ["", "content", "title", "username", "password", "remember", "sign_in", "error"]
    password = screen.elements[4]
    assert password.password and password.editable and password.hint == "Password"


def test_bounds_accept_negative_and_spaced_values():
    assert parse_bounds("[-5,0][1080, 2400]") == (-5, 0, 1080, 2400)


@pytest.mark.parametrize("source", [
    "",
    "   ",
    "<hierarchy><android.widget.Button></hierarchy>",
    "not xml at all",
    "<hierarchy><android.widget.Button bounds='[0,0][10]' /></hierarchy>",
    '<!DOCTYPE x [<!ENTITY a "aaaa">]><hierarchy>&a;</hierarchy>',
])
def test_malformed_page_source_raises_a_clear_error(source):
    with pytest.raises(PageSourceError):
        parse_screen(source)


def test_malformed_xml_error_says_what_is_wrong():
    with pytest.raises(PageSourceError, match="not well-formed XML"):
        parse_screen("<hierarchy><a></b></hierarchy>")


def test_bytes_page_source_is_accepted():
    screen = parse_screen(login_page().encode("utf-8"))
    assert any(element.short_id == "sign_in" for element in screen.elements)
