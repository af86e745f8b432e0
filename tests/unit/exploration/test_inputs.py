import pytest

from domain.exploration import (
    Element, enumerate_actions, generated_text, matching_input, parse_screen, text_for,
)
from domain.exploration.inputs import GENERATED_EMAIL, GENERATED_PASSWORD, GENERATED_WORD
from tests.unit.exploration.pagesource import PKG, frame, hierarchy, node, row

EDIT = "android.widget.EditText"


def field(rid: str = "", hint: str = "", desc: str = "", password: bool = False) -> Element:
    return Element(resource_id=f"{PKG}:id/{rid}" if rid else "", class_name=EDIT, hint=hint,
                   content_desc=desc, password=password)


@pytest.mark.parametrize("key", ["username", "USERNAME", f"{PKG}:id/username", "User name", "login field"])
def test_inputs_match_by_id_hint_or_description_ignoring_case(key):
    element = field(rid="username", hint="User Name", desc="Login field")
    assert matching_input(element, {"other": "x", key: "alice"}) == "alice"


def test_unmatched_inputs_leave_the_field_to_generated_text():
    element = field(rid="username", hint="User name")
    assert matching_input(element, {"user": "alice", "name": "bob"}) is None
    assert text_for(element, {"user": "alice"}) == GENERATED_WORD
    assert text_for(element, None) == GENERATED_WORD


@pytest.mark.parametrize("element, expected", [
    (field(rid="email"), GENERATED_EMAIL),
    (field(hint="E-mail address"), GENERATED_EMAIL),
    (field(rid="contactEmail"), GENERATED_EMAIL),
    (field(rid="phone_number"), "5550100"),
    (field(hint="Your age"), "30"),
    (field(rid="zipCode"), "94107"),
    (field(desc="Amount"), "10"),
    (field(rid="quantity"), "2"),
    (field(hint="Card number"), "42"),
    (field(rid="pin", password=True), "1234"),
    (field(rid="secret", password=True), GENERATED_PASSWORD),
    (field(hint="Password"), GENERATED_PASSWORD),
    (field(rid="message"), GENERATED_WORD),  # "age" inside a word is not an age
    (field(), GENERATED_WORD),
])
def test_generated_text_fits_the_field(element, expected):
    assert generated_text(element) == expected
    assert generated_text(element) == generated_text(element)


def test_numbers_are_digits_and_email_looks_like_one():
    assert generated_text(field(rid="phone")).isdigit()
    local, _, domain = generated_text(field(rid="email")).partition("@")
    assert local and "." in domain


def test_enumerated_type_actions_use_inputs_and_generated_text():
    source = hierarchy(frame(
        node(EDIT, rid="email", hint="Email", bounds=row(100)),
        node(EDIT, rid="nickname", hint="Nickname", bounds=row(200)),
    ))
    actions = enumerate_actions(parse_screen(source), {"nickname": "Ace"})
    assert [a.text for a in actions[:2]] == [GENERATED_EMAIL, "Ace"]
