"""A run as a recorded app (APP_MODEL.md "Recorded real apps", DESIGN.md "Real apps"), which the simulator
serves: a run on a device becomes an app anyone can explore again offline.

Each distinct page source the run perceived is a screen (named by its screen id, `<id>-2` for the next
page source with that id), its page source and screenshot inline. The action between two perceptions is
a transition from the first screen to the second: toggles as taps, a locator as `element` (or `at` its
point), back as back; an action that crashed the app is a transition with `crash`. What left the app
otherwise (back out of it, an ANR, a relaunch, a device error, a pause) is no transition: the simulator
does what Android does without one. Screens that share a screen id also take each other's transitions
after their own: the agent takes them for one screen, so a run on the export meets them as the first run
did. Pure: events and a way to read an artifact in, the model (JSON-ready) out.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Iterable
from typing import Any

from domain.run import Run

Fetch = Callable[[str], "tuple[bytes, str] | None"]  # artifact id -> (content, media type), None when gone
INTERRUPTING_NODES = frozenset({"RestartApp", "RecoverFromError", "LaunchOrAttach"})
FRAMEWORK_FRAMES = ("android.", "com.android.", "dalvik.", "java.lang.reflect.")  # where the app is called from

_LITERAL = r"""(?:"[^"]*"|'[^']*'|concat\((?:\s*(?:"[^"]*"|'[^']*')\s*,?)+\))"""
_BY_TEXT = re.compile(rf"^//\*\[@class=(?P<cls>{_LITERAL}) and @text=(?P<text>{_LITERAL})\]$")
_BY_POSITION = re.compile(rf"^\(//\*\[@class=(?P<cls>{_LITERAL})\]\)\[(?P<n>\d+)\]$")


class NothingPerceived(ValueError):
    """The run has not perceived a screen yet: there is no app to export."""


def recorded_app(events: Iterable[Run.Event], fetch: Fetch, package: str | None = None) -> dict[str, Any]:
    builder = _Recording(fetch, package)
    for event in events:
        builder.see(event)
    return builder.model()


class _Recording:
    def __init__(self, fetch: Fetch, package: str | None) -> None:
        self.fetch, self.package = fetch, package
        self.screens: dict[str, dict[str, Any]] = {}
        self.screen_ids: dict[str, str] = {}  # screen name -> the run's screen id
        self.by_source: dict[str, str] = {}  # page-source artifact -> screen name
        self.transitions: list[dict[str, Any]] = []
        self.findings: dict[str, tuple[str, dict[str, Any]]] = {}  # finding id -> kind, details
        self.start: str | None = None
        self.current: str | None = None  # the screen last perceived
        self.acted = False  # an action was taken on it
        self.action: dict[str, Any] | None = None  # that action, as the format's (None: it has no form)
        self.crash: dict[str, Any] | bool | None = None
        self.interrupted = False

    def see(self, event: Run.Event) -> None:
        if isinstance(event, Run.ScreenPerceived):
            self._reached(self._screen(event))
        elif isinstance(event, Run.ActionPerformed):
            self.interrupted |= self.acted or event.reproducing is not None  # a second one starts elsewhere
            self.acted, self.action = True, recorded_action(event.action)
        elif isinstance(event, Run.NodeStarted):
            self.interrupted |= event.node_name in INTERRUPTING_NODES
        elif isinstance(event, (Run.Started, Run.Paused, Run.Resumed)):
            self.interrupted = True
        elif isinstance(event, Run.FindingDetected):
            self.findings[event.finding_id] = (event.kind, dict(event.details))
            self._broke(event.finding_id)
        elif isinstance(event, Run.FindingRecurred):
            self._broke(event.finding_id)

    def _broke(self, finding_id: str) -> None:
        kind, details = self.findings.get(finding_id, ("", {}))
        if kind == "crash":
            crash = {"exception": details.get("exception"), "message": details.get("message"),
                     "frames": thrown_from(details.get("frames") or [])}
            self.crash = {key: value for key, value in crash.items() if value} or True
        elif kind == "anr":  # the format has no freeze: the relaunch after it is no transition
            self.interrupted = True

    def _reached(self, screen: str | None) -> None:
        if self.current is not None and self.action is not None:
            if self.crash is not None:
                self._add({"from": self.current, "action": self.action, "crash": self.crash})
            elif not self.interrupted and screen is not None:
                self._add({"from": self.current, "action": self.action, "to": screen})
        self.current, self.acted, self.action, self.crash, self.interrupted = screen, False, None, None, False
        self.start = self.start or screen

    def _add(self, transition: dict[str, Any]) -> None:
        if transition not in self.transitions:
            self.transitions.append(transition)

    def _screen(self, event: Run.ScreenPerceived) -> str | None:
        """The screen of this perception's page source; None when it cannot be shown (an artifact gone,
        another app's screen)."""
        self.package = self.package or event.package
        source = event.artifacts.get("pageSource")
        if source in self.by_source:
            return self.by_source[source]
        found = self.fetch(source) if source and event.package == self.package else None
        if found is None:
            return None
        seen = sum(screen_id == event.screen_id for screen_id in self.screen_ids.values())
        name = event.screen_id if not seen else f"{event.screen_id}-{seen + 1}"
        screen = {"activity": event.activity, "pageSource": found[0].decode("utf-8", "replace").lstrip()}
        shot = self.fetch(event.artifacts["screenshot"]) if event.artifacts.get("screenshot") else None
        if shot is not None:
            screen["screenshot"] = f"data:{shot[1] or 'image/png'};base64,{base64.b64encode(shot[0]).decode()}"
        self.screens[name], self.screen_ids[name], self.by_source[source] = screen, event.screen_id, name
        return name

    def model(self) -> dict[str, Any]:
        if self.start is None:
            raise NothingPerceived("the run has perceived no screen yet: there is no app to export")
        return {"format": "recorded", "package": self.package, "start": self.start, "screens": self.screens,
                "transitions": self.transitions + self._shared()}

    def _shared(self) -> list[dict[str, Any]]:
        """Each screen's siblings' transitions (same screen id) that it has none of its own for."""
        own = {(t["from"], repr(t["action"])) for t in self.transitions}
        shared: list[dict[str, Any]] = []
        for name, screen_id in self.screen_ids.items():
            for t in self.transitions:
                if t["from"] != name and self.screen_ids[t["from"]] == screen_id and \
                        (name, repr(t["action"])) not in own:
                    own.add((name, repr(t["action"])))
                    shared.append({**t, "from": name})
        return shared


def thrown_from(frames: list[str]) -> list[str]:
    """The frames above Android's dispatch of the input (View.performClick, Looper, ...): the simulator, as
    a device, calls the app from its own; a frame without a source position a model cannot name is left out."""
    above = itertools.takewhile(lambda frame: not frame.startswith(FRAMEWORK_FRAMES), frames)
    return [frame for frame in above if not any(char.isspace() for char in frame)]


def recorded_action(action: dict[str, Any]) -> dict[str, Any] | None:
    """The agent's action as the format's: None when its locator names no node the format can."""
    kind = "tap" if action.get("kind") == "toggle" else str(action.get("kind"))
    if kind == "back":
        return {"kind": "back"}
    target = _target(action.get("target"))
    if target is None:
        return None
    return {"kind": kind, **target, **({"direction": action.get("direction") or "down"} if kind == "scroll" else {})}


def _target(target: Any) -> dict[str, Any] | None:
    """domain/exploration/locators.py's forms: an id, a point, or an XPath by class and text or position."""
    strategy, value = target if isinstance(target, (list, tuple)) and len(target) == 2 else (None, None)
    if strategy == "id":
        return {"element": {"resource-id": value}}
    if strategy == "point":
        return {"at": [int(value[0]), int(value[1])]}
    if strategy == "xpath" and (match := _BY_TEXT.match(value)):
        return {"element": {"class": _unquote(match["cls"]), "text": _unquote(match["text"])}}
    if strategy == "xpath" and (match := _BY_POSITION.match(value)):
        return {"element": {"class": _unquote(match["cls"]), "nth": int(match["n"]) - 1}}
    return None


def _unquote(literal: str) -> str:
    """An XPath 1.0 string literal, or the concat() of them that quotes a text with both quote marks."""
    return "".join(part[1:-1] for part in re.findall(r""""[^"]*"|'[^']*'""", literal))
