"""The questions LlmPolicy asks a language model: messages, answer schema, and how an answer is read.

The model may be as small as Gemma 3 270M (a base model, ~290 prompt tokens/s on two
shared cores): prompts stay under ~300 tokens, answers are a few tokens of JSON that
the schema constrains to valid choices, and reading an answer checks it again (a
server may ignore the schema). Unreadable or invalid answers read as None.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.exploration.actions import Action
from domain.exploration.screen import Screen

# At most this many actions are listed, fewer when their labels are long (MAX_PROMPT_CHARS); those
# left out cannot be named by the model (ranking: they keep the crawl's order after the ranked ones;
# choosing: the crawl may still take them).
MAX_LISTED = 20
# About 300 tokens, estimating ~3 characters a token on these short lines (Gemma's tokenizer splits digits
# one by one and quotes off words; not measured here).
MAX_PROMPT_CHARS = 900
MAX_LABEL = 32  # characters of an action label, a screen text or an activity
MAX_GOAL = 100
MAX_TEXTS = 12  # texts of the screen shown for the goal question
SYSTEM = "You drive an Android app explorer. Answer with JSON only."
# Each question ends with an example answer: without one, Gemma 3 270M answered no JSON at all; with one it
# writes the example's shape, often the example itself: plumbing, not judgement.
# A JSON-schema grammar (llama.cpp's) allows up to 20 whitespace characters between tokens, and the small model
# takes them (`{\n \t \t ... "index": 0 ...}`): the answer needs room for them, or it is cut before it is
# JSON (52% of answers fell back with 16-40 tokens; at 96 they end, in 77-95 tokens, measured on settings).
WHITESPACE_TOKENS = 80
RANK_ASK = 'Order the action numbers, most promising first. Answer like {"order": [0, 1]}'
CHOOSE_ASK = 'Pick the number of the action to take next. Answer like {"index": 0}'
GOAL_ASK = 'Does this screen fulfil the goal? Answer like {"reached": false}'


@dataclass(frozen=True)
class Question:
    purpose: str  # "rank" | "choose" | "goal"
    listed: tuple[Action, ...]  # the actions the question numbers, 0 first
    messages: list[dict[str, str]]
    schema: dict[str, Any]
    max_tokens: int
    read: Callable[[dict[str, Any]], Any]  # the parsed JSON object -> the answer, None when invalid

    def answer(self, content: str | None) -> Any:
        data = _json_object(content)
        return None if data is None else self.read(data)


def rank_question(screen: Screen, actions: Sequence[Action], goal: str | None, recent: Sequence[str]) -> Question:
    """Answer: the listed action ids in the model's order (unknown indices and repeats dropped)."""
    listed, messages = _listing(screen, actions, goal, recent, RANK_ASK)
    n = len(listed)
    schema = _object("order", {"type": "array", "items": {"type": "integer", "enum": list(range(n))},
                               "maxItems": n})
    # A few tokens per index ("3, "), plus the braces, the key and the indent.
    return Question("rank", listed, messages, schema, WHITESPACE_TOKENS + 12 + 4 * n,
                    lambda data: _read_order(data, listed))


def choose_question(screen: Screen, actions: Sequence[Action], goal: str | None, recent: Sequence[str]) -> Question:
    """Answer: the action id of the listed action the model picked."""
    listed, messages = _listing(screen, actions, goal, recent, CHOOSE_ASK)
    schema = _object("index", {"type": "integer", "enum": list(range(len(listed)))})
    return Question("choose", listed, messages, schema, WHITESPACE_TOKENS + 16, lambda data: _read_index(data, listed))


def goal_question(screen: Screen, goal: str) -> Question:
    """Answer: True or False."""
    lines = [f"Screen: {_short(screen.activity)}", f"Shows: {' | '.join(_texts(screen)) or '(no text)'}",
             f"Goal: {_short(goal, MAX_GOAL)}", GOAL_ASK]
    return Question("goal", (), _chat("\n".join(lines)), _object("reached", {"type": "boolean"}),
                    WHITESPACE_TOKENS + 16, lambda data: data.get("reached") if isinstance(data.get("reached"), bool) else None)


def action_line(index: int, action: Action) -> str:
    """`3 tap "Settings"`: labels mostly start with their kind; the kind is added where they do not."""
    label = _short(action.label or action.action_id)
    kind = action.kind.replace("_", " ")
    return f"{index} {label}" if label.startswith(kind) else f"{index} {kind} {label}"


def _listing(screen: Screen, actions: Sequence[Action], goal: str | None, recent: Sequence[str],
             ask: str) -> tuple[tuple[Action, ...], list[dict[str, str]]]:
    """The actions listed (as many as fit MAX_PROMPT_CHARS, 2 at least) and the messages listing them."""
    lines = [f"Screen: {_short(screen.activity)}"]
    if goal:
        lines.append(f"Goal: {_short(goal, MAX_GOAL)}")
    if recent:
        lines.append("Last actions: " + "; ".join(_short(label) for label in recent))
    lines.append("Actions:")
    room = MAX_PROMPT_CHARS - len(SYSTEM) - len(ask) - sum(len(line) + 1 for line in lines)
    listed: list[Action] = []
    for action in actions[:MAX_LISTED]:
        line = action_line(len(listed), action)
        if len(listed) >= 2 and len(line) + 1 > room:
            break
        listed.append(action)
        lines.append(line)
        room -= len(line) + 1
    return tuple(listed), _chat("\n".join([*lines, ask]))


def _chat(user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _object(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {key: value}, "required": [key], "additionalProperties": False}


def _read_order(data: dict[str, Any], listed: Sequence[Action]) -> list[str] | None:
    order = data.get("order")
    if not isinstance(order, list):
        return None
    valid = (i for i in order if type(i) is int and 0 <= i < len(listed))  # bool is an int, and no index
    ranked = list(dict.fromkeys(listed[i].action_id for i in valid))
    return ranked or None  # nothing usable: no ranking at all


def _read_index(data: dict[str, Any], listed: Sequence[Action]) -> str | None:
    index = data.get("index")
    return listed[index].action_id if type(index) is int and 0 <= index < len(listed) else None


def _json_object(content: str | None) -> dict[str, Any] | None:
    """The first JSON object in the text: a model may add words or a code fence around it."""
    start = (content or "").find("{")
    if start < 0:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(content, start)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _texts(screen: Screen) -> list[str]:
    """What the screen displays, once each; password fields are left out (they end up in prompts)."""
    shown = (e.text or e.content_desc for e in screen.displayed_elements if not e.password)
    return list(dict.fromkeys(_short(text.strip()) for text in shown if text.strip()))[:MAX_TEXTS]


def _short(text: str, limit: int = MAX_LABEL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
