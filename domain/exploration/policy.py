"""Exploration policies: which action to take next on the current screen."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from domain.exploration.actions import Action, list_group
from domain.exploration.graph import ScreenGraph
from domain.exploration.history import ExplorationHistory
from domain.exploration.screen import Screen
from domain.exploration.system import other_app

# Fill the form, press buttons, open long-press menus, see what scrolling reveals; leave; flip switches when back.
# Taps lead to new screens; toggles rarely do. Scrolling comes before leaving: what it reveals is this screen's.
_KIND_ORDER = {"type": 0, "tap": 1, "long_press": 2, "scroll": 3, "toggle": 4, "back": 5}
# Scrolls of one scrollable view of a screen: an endless list ends here.
MAX_SCROLLS = 8
# Scrolls in search of an item a route needs that a new visit shows no more (it starts at the top).
SEEK_SCROLLS = 3 * MAX_SCROLLS
# Back when no known route leads to unexplored screens, at most this often per screen.
MAX_BACK_FALLBACKS = 3


@runtime_checkable
class ExplorationPolicy(Protocol):
    def choose(self, screen: Screen, actions: Sequence[Action]) -> Action | None: ...

    def observe(self, screen: Screen, action: Action, after: Screen) -> None: ...

    def reached_end(self, screen: Screen, action: Action) -> None: ...

    def is_explored(self) -> bool: ...

    def restore(self, history: ExplorationHistory) -> None: ...

    # Optional (the loop asks with getattr, so plug-ins without it keep working):
    # unseen(screen, action): the app never saw `action` (it was frozen, or a crash or ANR that another action
    # set off cut it short): count it untried again, so one frozen moment cannot hide a screen.
    # remember(history, same_version): a warm run starts from what earlier runs of the app explored
    # (DESIGN.md "Memory across runs"): the app's map of its own version, or of the previous one.


class RandomPolicy:
    """The baseline: any enumerated action, uniformly, but one that left the app only when nothing
    else is offered (each exit costs a trip back); never claims to be done."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        self._left: set[tuple[str, str]] = set()  # (screen, action) that opened another app

    def choose(self, screen: Screen, actions: Sequence[Action]) -> Action | None:
        staying = [a for a in actions if (screen.screen_id, a.action_id) not in self._left]
        return self._rng.choice(staying or list(actions)) if actions else None

    def observe(self, screen: Screen, action: Action, after: Screen) -> None:
        """Only which actions leave the app: otherwise the next choice is as random as the first."""
        if other_app(after, screen.package) is not None:
            self._left.add((screen.screen_id, action.action_id))

    def reached_end(self, screen: Screen, action: Action) -> None:
        """Scrolling on is as good as anything else."""

    def unseen(self, screen: Screen, action: Action) -> None:
        """Nothing counts as tried here: any action may come again."""

    def is_explored(self) -> bool:
        return False

    def restore(self, history: ExplorationHistory) -> None:
        self._left = set(history.left)


class DepthFirstPolicy:
    """Depth-first crawl with a frontier.

    Takes the current screen's untried actions first (fields, taps, toggles,
    back), then walks the known graph to the nearest screen with untried
    actions or never enumerated (the frontier), then tries back; None when
    nothing is left that it can reach. An action counts as tried once chosen,
    so a screen is never re-explored; a route step that keeps leading
    elsewhere (MAX_MISSES) is dropped from planning, so flaky transitions
    cannot loop. The seed only picks among equally near targets.

    A scroll stays untried until its view stops moving (the end: its tried
    count is then set to MAX_SCROLLS) or MAX_SCROLLS scrolls; the items it
    reveals are the screen's untried actions. Items of one list are skipped
    once LIST_SAMPLES of them led to one and the same screen. All of it
    lives in `_tried` and the graph, so replaying choose/observe rebuilds it.
    """

    def __init__(self, seed: int | None = None, package: str | None = None) -> None:
        self._rng = random.Random(seed)
        self._package = package  # the app's; defaults to the first screen's
        self.graph = ScreenGraph()
        self._known: dict[str, set[str]] = {}  # action ids each enumerated screen offers
        self._tried: Counter[tuple[str, str]] = Counter()
        self._frontier: set[str] = set()  # in-app screens seen but never enumerated
        self._back_fallbacks: Counter[str] = Counter()
        self._visit: str | None = None  # screen of the current visit ...
        self._typed: set[str] = set()  # ... and the fields typed into during it
        self._expected: tuple[str, str, str] | None = None  # the route step under way
        self._seeking: tuple[str, str, str] | None = None  # the route step a scroll looks for
        self._plan: _Plan | None = None  # what propose() found, until take()
        self._at_end: set[tuple[str, str]] = set()  # (screen, scroll) that last hit its view's end
        self._stuck = False
        # A warm run on a new version: the previous version's screens to see again first, and the actions it
        # took on them, taken again only once those were seen (a screen whose content changed has a new id:
        # all it offers is untried).
        self._revisit: set[str] = set()
        self._deferred: set[tuple[str, str]] = set()
        self._warm = False  # started from the app's map (remember)

    def choose(self, screen: Screen, actions: Sequence[Action]) -> Action | None:
        action = self.propose(screen, actions)
        return None if action is None else self.take(screen, actions, action)

    def untried(self, screen_id: str, actions: Sequence[Action]) -> list[Action]:
        """The offered actions not tried on the screen yet, in the order given; changes nothing.
        A policy built on this one (LlmPolicy) asks it whether the crawl would stay on the screen."""
        return [a for a in actions if self._is_untried(screen_id, a.action_id)]

    def propose(self, screen: Screen, actions: Sequence[Action]) -> Action | None:
        """What the crawl would do on the screen, counted as done only by `take` (which may take
        another choice instead). None: nothing reachable is left. Among actions the crawl ranks
        alike, the first in `actions` comes first, so a caller can reorder them."""
        action = self._propose(screen, actions)
        if action is None and (self._revisit or self._deferred):
            # The previous version's screens are seen (or out of reach): what it did on them is taken again.
            self._revisit.clear()
            self._deferred.clear()
            action = self._propose(screen, actions)
        return action

    def _propose(self, screen: Screen, actions: Sequence[Action]) -> Action | None:
        self._enter(screen, actions)
        sid = screen.screen_id
        untried = self._untried(sid, actions)
        plan = _Plan(sid, untried) if untried else self._next_on_route(sid, actions) or self._back(sid, actions)
        self._plan, self._stuck = plan, plan is None
        return None if plan is None else plan.action

    def take(self, screen: Screen, actions: Sequence[Action], action: Action) -> Action:
        """Counts `action` as taken on the screen, after `propose` there: the proposal's route step,
        scroll search or back fallback stands only if `action` is the proposal. Returns what to
        perform: a field not filled in this visit comes before a tap (the tap may submit the form)."""
        sid = screen.screen_id
        plan, self._plan = self._plan, None
        if plan is not None and plan.screen_id == sid and plan.action == action:
            self._expected, self._seeking = plan.expected, plan.seeking
            self._back_fallbacks[sid] += plan.back_fallback
        performed = self._field_to_fill_before(action, actions)
        self._tried[(sid, performed.action_id)] += 1
        if performed.kind == "type":
            self._typed.add(performed.action_id)
        return performed

    def observe(self, screen: Screen, action: Action, after: Screen) -> None:
        self.graph.record(screen.screen_id, action.action_id, after.screen_id)
        expected, self._expected = self._expected, None
        step = (screen.screen_id, action.action_id)
        if expected is not None and expected[:2] == step and expected[2] != after.screen_id:
            self.graph.record_miss(*expected)  # routes through it are given up after a few misses
        if after.screen_id not in self._known and self._in_app(after):
            self._frontier.add(after.screen_id)
        if after.screen_id != screen.screen_id:
            self._visit = None  # a new visit: the fields of the next screen start empty
        seeking, self._seeking = self._seeking, None
        if action.kind == "scroll":
            self._scrolled(screen.screen_id, action, at_end=_hit_the_end(screen, action, after))
        if _hit_the_end(screen, action, after):
            self._tried[step] = max(self._tried[step], MAX_SCROLLS)
            if seeking is not None:
                self.graph.record_miss(*seeking)  # the item is not that way (any more)

    def _scrolled(self, sid: str, action: Action, at_end: bool) -> None:
        """Which end a view is at: one that hit an end can scroll the other way (and no more this way)."""
        self._at_end.discard((sid, _opposite(action).action_id))
        if at_end:
            self._at_end.add((sid, action.action_id))
        else:
            self._at_end.discard((sid, action.action_id))

    def reached_end(self, screen: Screen, action: Action) -> None:
        """The device says the scroll `action` reached the end of its view (UiAutomator2's scrollGesture
        answers so): no scroll more to find it out. Without this, observe() sees it one scroll later."""
        step = (screen.screen_id, action.action_id)
        self._tried[step] = max(self._tried[step], MAX_SCROLLS)

    def unseen(self, screen: Screen, action: Action) -> None:
        """The app never saw `action` on the screen (DESIGN.md "Time and faults"): untried again. What the
        graph learned from it leads nowhere the crawl plans for (the frozen screen, the app's relaunch)."""
        step = (screen.screen_id, action.action_id)
        self._tried[step] = max(0, self._tried[step] - 1)

    def restore(self, history: ExplorationHistory) -> None:
        """Takes up a run where it stopped (resumed after a pause, or taken over from a lost
        worker): the transitions it found, the actions it tried, what each screen offered.
        Screens seen but never enumerated are the frontier; the current visit starts afresh,
        as the app is relaunched. Routes that missed are not recorded, so they are trusted again."""
        for from_id, action_id, to_id in history.transitions:
            self.graph.record(from_id, action_id, to_id)
        self._tried.update(history.tried)
        self._known.update({sid: set(action_ids) for sid, action_ids in history.offered.items()})
        if self._package is None and history.package_of:
            self._package = next(iter(history.package_of.values()))  # the first screen's, as choose() takes it
        in_app = (sid for sid in history.screens if history.package_of.get(sid, self._package) == self._package)
        self._frontier = {sid for sid in in_app if sid not in self._known}

    def remember(self, history: ExplorationHistory, same_version: bool) -> None:
        """A warm start (DESIGN.md "Memory across runs"). On the same version, what earlier runs tried counts
        as tried, and their transitions are roads: only the frontier is left to explore. On a new version
        their transitions are roads to the screens to revisit first, and the actions they took are taken
        again last. A remembered road that misses once is given up (ScreenGraph.remember)."""
        for transition in history.transitions:
            self.graph.remember(*transition)
        self._warm = True
        if self._package is None and history.package_of:
            self._package = next(iter(history.package_of.values()))  # the first screen's, as restore() takes it
        in_app = {sid for sid in history.screens if history.package_of.get(sid, self._package) == self._package}
        if same_version:
            # A scroll the map knows was scrolled as far as it went then (the map keeps no counts)
            self._tried.update({(sid, aid): MAX_SCROLLS if aid.startswith("scroll:") else 1
                                for sid, aid in history.tried})
            self._known.update({sid: set(ids) for sid, ids in history.offered.items()})
            self._frontier |= {sid for sid in in_app if sid not in self._known}
            return
        self._revisit = in_app
        self._deferred = set(history.tried)

    def is_explored(self) -> bool:
        """True once nothing untried is left, or none of it can be reached any more."""
        if not self._known:
            return False
        return self._stuck or not any(self._has_work(sid)
                                      for sid in self._known.keys() | self._frontier | self._revisit)

    def _enter(self, screen: Screen, actions: Sequence[Action]) -> None:
        self._expected = None
        if self._package is None:
            self._package = screen.package
        if screen.screen_id != self._visit:
            self._visit, self._typed = screen.screen_id, set()
        # What the screen offers now, not all it ever offered: an action id that is gone
        # (a button hidden this time) must not keep pulling the crawl back here.
        self._known[screen.screen_id] = {a.action_id for a in actions}
        self._frontier.discard(screen.screen_id)
        self._revisit.discard(screen.screen_id)

    def _in_app(self, screen: Screen) -> bool:
        return self._package is None or screen.in_app(self._package)

    def _has_work(self, sid: str) -> bool:
        known = self._known.get(sid)
        if known is None:
            return sid in self._frontier or sid in self._revisit
        return any(self._is_untried(sid, action_id) for action_id in known)

    def _has_more_than_switches(self, sid: str) -> bool:
        known = self._known.get(sid)
        if known is None:
            return self._has_work(sid)
        return any(self._is_untried(sid, aid) for aid in known if not aid.startswith(("toggle:", "back")))

    def _is_untried(self, sid: str, action_id: str) -> bool:
        if (sid, action_id) in self._deferred:
            return False
        tried = self._tried[(sid, action_id)]
        if action_id.startswith("scroll:"):
            return tried < MAX_SCROLLS
        group = list_group(action_id)
        return tried == 0 and (group is None or not self.graph.list_done(sid, group))

    def _untried(self, sid: str, actions: Sequence[Action]) -> Action | None:
        untried = self.untried(sid, actions)
        # One item of each list first, then what the rest of the screen offers, then more items of its
        # lists (they mostly lead where the first did); all of them before scrolling them out of sight;
        # then taps on views that do not say they are clickable (most of them are labels: what scrolling
        # reveals comes first), then back; switches after everything else, when the crawl comes back:
        # they rarely lead anywhere, and the screens found sooner are worth more. min keeps
        # enumerate_actions' order.
        return min(untried, key=lambda a: (a.kind == "toggle", a.kind == "back", not a.declared,
                                          a.kind == "scroll", self.graph.list_tried(sid, list_group(a.action_id)),
                                          _KIND_ORDER[a.kind]), default=None)

    def _next_on_route(self, sid: str, actions: Sequence[Action]) -> _Plan | None:
        offered = {action.action_id: action for action in actions}
        # A warm start's work is wherever the map ends, the switches of known screens too, which a crawl
        # leaves for when it comes back: screens with more than switches and back left go first.
        route = self._warm and self.graph.route(sid, self._has_more_than_switches, offered.keys(), self._rng)
        route = route or self.graph.route(sid, self._has_work, offered.keys(), self._rng)
        if not route:
            return self._seek(sid, actions)
        action_id, next_id = route[0]
        return _Plan(sid, offered[action_id], expected=(sid, action_id, next_id))

    def _seek(self, sid: str, actions: Sequence[Action]) -> _Plan | None:
        """The way on is an item scrolled out of view: scroll to find it again, back up once a view is at
        its end (an item above the window, as a button at the top of a long screen, is only found upwards)."""
        seeks = (_opposite(a) if (sid, a.action_id) in self._at_end else a for a in actions if a.kind == "scroll")
        scroll = next((a for a in seeks if self._tried[(sid, a.action_id)] < SEEK_SCROLLS), None)
        route = scroll and self.graph.route(sid, self._has_work, self.graph.actions_from(sid), self._rng)
        if not route:
            return None
        return _Plan(sid, scroll, seeking=(sid, *route[0]))

    def _back(self, sid: str, actions: Sequence[Action]) -> _Plan | None:
        """No known route: back may still reveal a way (the graph is incomplete)."""
        back = next((a for a in actions if a.kind == "back"), None)
        anything_left = any(self._has_work(other) for other in self._known.keys() | self._frontier)
        if back is None or not anything_left or self._back_fallbacks[sid] >= MAX_BACK_FALLBACKS:
            return None
        return _Plan(sid, back, back_fallback=True)

    def _field_to_fill_before(self, action: Action, actions: Sequence[Action]) -> Action:
        """Before a tap, type into fields not filled in this visit: the tap may submit a form
        (sign in succeeds with the fields filled and fails without)."""
        unfilled = (a for a in actions if a.kind == "type" and a.action_id not in self._typed)
        field = next(unfilled, None) if action.kind == "tap" else None
        if field is None:
            return action
        self._expected = None  # the route step comes after the typing
        return field


@dataclass(frozen=True)
class _Plan:
    """The crawl's proposal on a screen, and what taking it would set under way."""

    screen_id: str
    action: Action
    expected: tuple[str, str, str] | None = None  # the route step it starts
    seeking: tuple[str, str, str] | None = None  # the route step a scroll looks for
    back_fallback: bool = False  # back for want of a route: counted against MAX_BACK_FALLBACKS


_OPPOSITE = {"down": "up", "up": "down", "left": "right", "right": "left"}


def _opposite(scroll: Action) -> Action:
    """The same view scrolled the other way (enumerate_actions offers only `down`: lists open at their top)."""
    direction = scroll.direction or "down"
    other = _OPPOSITE[direction]
    return replace(scroll, direction=other, label=scroll.label.replace(f" {direction}", f" {other}"),
                   action_id=scroll.action_id.removesuffix(f":{direction}") + f":{other}")


def _hit_the_end(before: Screen, action: Action, after: Screen) -> bool:
    """A scroll that changed nothing: its view is at the end."""
    return (action.kind == "scroll" and after.screen_id == before.screen_id
            and after.scrolled_content() == before.scrolled_content())
