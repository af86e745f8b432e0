"""Text to type into a field: the user's inputs first, else a plausible value.

Generated values are fixed strings, not random ones, so a run types the same
thing into the same field every time and a replay of a run is the same run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from domain.exploration.elements import Element

GENERATED_EMAIL = "explorer@example.com"
GENERATED_PASSWORD = "Passw0rd!23"
GENERATED_WORD = "hello"

# Words in a field's id/hint/description that ask for digits, and what to type;
# the first listed wins, so "phone number" gets a phone number.
_NUMBERS = {
    "phone": "5550100",
    "mobile": "5550100",
    "tel": "5550100",
    "zip": "94107",
    "postal": "94107",
    "postcode": "94107",
    "pin": "1234",
    "otp": "123456",
    "age": "30",
    "amount": "10",
    "price": "10",
    "quantity": "2",
    "qty": "2",
    "count": "2",
    "number": "42",
    "num": "42",
}
_EMAIL_WORDS = {"email", "mail"}
_PASSWORD_WORDS = {"password", "passwd", "pwd", "passcode"}
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def text_for(element: Element, inputs: Mapping[str, str] | None = None) -> str:
    """The user's input for this field when one matches, else a generated value."""
    supplied = matching_input(element, inputs or {})
    return supplied if supplied is not None else generated_text(element)


def matching_input(element: Element, inputs: Mapping[str, str]) -> str | None:
    """The first input whose key names this field: its full or short resource id,
    hint or content-desc, case-insensitively."""
    names = {element.resource_id, element.short_id, element.hint, element.content_desc}
    names = {name.strip().casefold() for name in names if name and name.strip()}
    for key, value in inputs.items():
        if key.strip().casefold() in names:
            return value
    return None


def generated_text(element: Element) -> str:
    """A value the field would accept: an email, digits, a password or a word."""
    words = field_words(element)
    if words & _EMAIL_WORDS:
        return GENERATED_EMAIL
    number = next((digits for word, digits in _NUMBERS.items() if word in words), None)
    if number is not None:
        return number
    if element.password or words & _PASSWORD_WORDS:
        return GENERATED_PASSWORD
    return GENERATED_WORD


def field_words(element: Element) -> set[str]:
    """Lower-case words of the id, hint and description: "zipCode" and "zip_code" give {"zip", "code"}.

    Whole words, not substrings, so "message" does not read as "age".
    """
    names = (element.short_id, element.hint, element.content_desc)
    split = " ".join(_CAMEL_BOUNDARY.sub(" ", name) for name in names).lower()
    return {word for word in _NON_ALNUM.split(split) if word}
