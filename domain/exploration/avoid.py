"""What not to touch (DESIGN.md "What real apps do to an agent"): a run's `avoid` patterns.

`POST /run` takes at most MAX_PATTERNS of them; the elements they match are never acted on (sign out, delete
account, purchase, call):

- `id/<name>` matches an element whose resource id's name (after `pkg:id/`) is `<name>`;
- `text:<regex>` matches an element whose text or content-desc the regex matches in full, ignoring case
  (and the whitespace around the text, which a person does not see).

The API refuses a bad pattern with a 400 naming it (api/models.py); the agent skips what `matches`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from domain.exploration.elements import Element

MAX_PATTERNS = 50
MAX_PATTERN_CHARS = 1000
QUOTED_CHARS = 200  # how much of a pattern an error message quotes
ID_PREFIX, TEXT_PREFIX = "id/", "text:"
# A resource name as aapt takes it (letters, digits, underscores; dots in some libraries' names)
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9_.]+")


@dataclass(frozen=True)
class AvoidPattern:
    """One parsed pattern: `source` as the run was given it, and what it matches."""

    source: str
    kind: str  # "id" or "text"
    name: str = ""  # kind "id": the resource name
    regex: re.Pattern[str] | None = field(default=None, compare=False)  # kind "text": compiled, ignoring case

    def matches(self, element: Element) -> bool:
        if self.kind == "id":
            return bool(element.resource_id) and element.short_id == self.name
        assert self.regex is not None
        return any(value.strip() and self.regex.fullmatch(value.strip())
                   for value in (element.text, element.content_desc))


def parse_pattern(pattern: object) -> AvoidPattern:
    """One pattern, or a ValueError that names it and says what is wrong."""
    if not isinstance(pattern, str):
        raise ValueError(f"avoid pattern {pattern!r} is not a string: expected id/<name> or text:<regex>")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"avoid pattern {_named(pattern)} is longer than {MAX_PATTERN_CHARS} characters")
    if pattern.startswith(ID_PREFIX):
        name = pattern[len(ID_PREFIX):]
        if not _RESOURCE_NAME.fullmatch(name):
            raise ValueError(f"avoid pattern {_named(pattern)}: id/<name> needs a resource name "
                             "(letters, digits, '_' or '.'), as in id/sign_out")
        return AvoidPattern(pattern, "id", name=name)
    if pattern.startswith(TEXT_PREFIX):
        source = pattern[len(TEXT_PREFIX):]
        if not source:
            raise ValueError(f"avoid pattern {_named(pattern)}: text:<regex> needs a regex, "
                             "as in text:sign out|log out")
        try:
            regex = re.compile(source, re.IGNORECASE)
        except RecursionError:
            raise ValueError(f"avoid pattern {_named(pattern)} is not a valid regex: nested too deeply") from None
        except (re.error, OverflowError, ValueError) as error:
            raise ValueError(f"avoid pattern {_named(pattern)} is not a valid regex: {error}") from None
        return AvoidPattern(pattern, "text", regex=regex)
    raise ValueError(f"avoid pattern {_named(pattern)} is neither id/<name> nor text:<regex>")


def _named(pattern: str) -> str:
    """The pattern as a message quotes it: whole, or its start when it is long."""
    return repr(pattern) if len(pattern) <= QUOTED_CHARS else f"{pattern[:QUOTED_CHARS]!r}..."


def parse_avoid(patterns: Iterable[object]) -> list[AvoidPattern]:
    """A run's patterns, in order; a ValueError naming the first bad one, or saying there are too many."""
    if isinstance(patterns, str | bytes):
        raise ValueError(f"avoid is a list of patterns, not the string {patterns!r}")
    given = list(patterns)
    if len(given) > MAX_PATTERNS:
        raise ValueError(f"at most {MAX_PATTERNS} avoid patterns, not {len(given)}")
    return [parse_pattern(pattern) for pattern in given]


def avoided(element: Element, patterns: Iterable[AvoidPattern]) -> AvoidPattern | None:
    """The first pattern that matches the element, or None: the element may be acted on."""
    return next((pattern for pattern in patterns if pattern.matches(element)), None)
