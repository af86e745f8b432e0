"""A run's `avoid` patterns (domain/exploration/avoid.py): what each form matches, and the bad ones refused
with a ValueError that names them (the API's 400 says the same: tests/unit/test_request_model.py)."""

from __future__ import annotations

import pytest

from domain.exploration.avoid import MAX_PATTERNS, AvoidPattern, avoided, parse_avoid, parse_pattern
from domain.exploration.elements import Element

SIGN_OUT = Element(resource_id="com.example.notes:id/sign_out", class_name="android.widget.Button",
                   text="Sign out", clickable=True)
DELETE_ICON = Element(resource_id="com.example.notes:id/toolbar_action", content_desc="Delete account",
                      clickable=True)
SAVE = Element(resource_id="com.example.notes:id/save", text="Save", clickable=True)
NO_ID = Element(text="Buy now", clickable=True)


def one(pattern: str) -> AvoidPattern:
    [parsed] = parse_avoid([pattern])
    return parsed


@pytest.mark.parametrize(("pattern", "element", "expected"), [
    ("id/sign_out", SIGN_OUT, True),
    ("id/sign_out", SAVE, False),
    ("id/sign", SIGN_OUT, False),  # the whole name, not a prefix
    ("id/Sign_Out", SIGN_OUT, False),  # resource names are case-sensitive
    ("id/button1", Element(resource_id="android:id/button1"), True),  # any package's ids
    ("id/save", NO_ID, False),
    ("text:sign out", SIGN_OUT, True),
    ("text:SIGN OUT", SIGN_OUT, True),  # ignoring case
    ("text:sign", SIGN_OUT, False),  # in full: not a search
    ("text:sign out|log out", SIGN_OUT, True),
    ("text:delete.*", DELETE_ICON, True),  # the content-desc
    ("text:delete.*", SAVE, False),
    ("text:buy now", NO_ID, True),
    ("text:buy now", Element(text="  Buy now \n"), True),  # the whitespace around a text is not seen
    ("text:.*", Element(resource_id="com.example.notes:id/blank", clickable=True), False),  # no text to match
    ("text:sign_out", SIGN_OUT, False),  # text patterns never look at the id
], ids=lambda value: value.resource_id or value.text if isinstance(value, Element) else None)
def test_a_pattern_matches_what_it_names(pattern, element, expected):
    assert one(pattern).matches(element) is expected


def test_the_patterns_are_parsed_in_order_and_keep_their_source():
    patterns = parse_avoid(["id/sign_out", "text:delete account"])

    assert [(p.source, p.kind) for p in patterns] == [("id/sign_out", "id"), ("text:delete account", "text")]
    assert patterns[0].name == "sign_out"


def test_avoided_names_the_first_pattern_that_matches():
    patterns = parse_avoid(["id/save", "text:delete.*", "text:.*account"])

    assert avoided(DELETE_ICON, patterns).source == "text:delete.*"
    assert avoided(SAVE, patterns).source == "id/save"
    assert avoided(SIGN_OUT, patterns) is None
    assert avoided(SIGN_OUT, []) is None


@pytest.mark.parametrize(("pattern", "words"), [
    ("text:[", ["'text:['", "not a valid regex", "unterminated character set"]),
    ("text:(sign", ["'text:(sign'", "not a valid regex", "missing )"]),
    ("text:a{99999999999}", ["'text:a{99999999999}'", "not a valid regex"]),
    ("text:", ["'text:'", "needs a regex"]),
    ("id/", ["'id/'", "needs a resource name"]),
    ("id/sign out", ["'id/sign out'", "needs a resource name"]),
    ("id/com.example:id/x", ["'id/com.example:id/x'", "needs a resource name"]),
    ("sign_out", ["'sign_out'", "neither id/<name> nor text:<regex>"]),
    ("Text:sign out", ["'Text:sign out'", "neither"]),
    ("resource-id/sign_out", ["'resource-id/sign_out'", "neither"]),
    ("", ["''", "neither"]),
], ids=repr)
def test_a_bad_pattern_is_a_value_error_that_names_it(pattern, words):
    with pytest.raises(ValueError) as refused:
        parse_avoid(["id/save", pattern])

    message = str(refused.value)
    assert all(word in message for word in words), message


def test_a_regex_nested_too_deeply_is_refused_not_a_crash():
    pattern = "text:" + "(" * 490 + ")" * 490

    with pytest.raises(ValueError, match="nested too deeply"):
        parse_pattern(pattern)


def test_a_long_pattern_is_refused_and_quoted_by_its_start():
    with pytest.raises(ValueError) as refused:
        parse_pattern("text:" + "a" * 1000)

    assert "longer than 1000 characters" in str(refused.value) and len(str(refused.value)) < 300


@pytest.mark.parametrize("value", [5, None, ["id/save"], b"id/save"], ids=repr)
def test_a_pattern_that_is_not_a_string_is_a_value_error(value):
    with pytest.raises(ValueError, match="not a string"):
        parse_avoid([value])


def test_at_most_50_patterns():
    assert len(parse_avoid([f"id/item_{i}" for i in range(MAX_PATTERNS)])) == MAX_PATTERNS

    with pytest.raises(ValueError, match="at most 50 avoid patterns, not 51"):
        parse_avoid([f"id/item_{i}" for i in range(MAX_PATTERNS + 1)])


def test_one_string_is_not_taken_for_a_list_of_its_letters():
    with pytest.raises(ValueError, match="list of patterns"):
        parse_avoid("id/save")
    assert parse_avoid(()) == []
