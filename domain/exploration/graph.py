"""The screen graph a policy learns: which action led from which screen to which."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection

from domain.exploration.actions import list_group

# A route step that missed its screen this often is no road to plan on.
MAX_MISSES = 3
# ... and one only an earlier run took (the app's map): once is enough, the app may have changed.
MAX_REMEMBERED_MISSES = 1
# Items of one list that led to one and the same screen: the others are taken to lead there too.
LIST_SAMPLES = 2


class ScreenGraph:
    def __init__(self) -> None:
        self._outcomes: dict[str, dict[str, dict[str, None]]] = {}  # from -> action -> screens it led to
        self._transitions: set[tuple[str, str, str]] = set()
        self._misses: Counter[tuple[str, str, str]] = Counter()
        self._lists: dict[tuple[str, str], set[str]] = {}  # (screen, list) -> items tried there
        self._list_screens: dict[tuple[str, str], set[str]] = {}  # ... and the screens they led to
        self._remembered: set[tuple[str, str, str]] = set()  # transitions only earlier runs saw (warm start)

    def record(self, from_id: str, action_id: str, to_id: str) -> bool:
        """Remember a transition; True when it was never seen before."""
        self._outcomes.setdefault(from_id, {}).setdefault(action_id, {})[to_id] = None
        group = list_group(action_id)
        if group is not None:
            self._lists.setdefault((from_id, group), set()).add(action_id)
            self._list_screens.setdefault((from_id, group), set()).add(to_id)
        transition = (from_id, action_id, to_id)
        is_new = transition not in self._transitions
        self._transitions.add(transition)
        self._remembered.discard(transition)  # this run saw it too
        return is_new

    def remember(self, from_id: str, action_id: str, to_id: str) -> None:
        """A transition an earlier run of the app saw: a road to plan on until it misses once."""
        if (from_id, action_id, to_id) not in self._transitions:
            self.record(from_id, action_id, to_id)
            self._remembered.add((from_id, action_id, to_id))

    def record_miss(self, from_id: str, action_id: str, expected_id: str) -> None:
        """A route step led elsewhere (login failed, the app crashed, the way worked only once)."""
        self._misses[(from_id, action_id, expected_id)] += 1

    def list_done(self, from_id: str, group: str) -> bool:
        """A few items of one list led to one and the same screen: the others will too."""
        key = (from_id, group)
        return len(self._lists.get(key, ())) >= LIST_SAMPLES and len(self._list_screens[key]) == 1

    def list_tried(self, from_id: str, group: str | None) -> int:
        """How many items of the list were tried on the screen (0 for an action outside lists)."""
        return 0 if group is None else len(self._lists.get((from_id, group), ()))

    def actions_from(self, from_id: str) -> Collection[str]:
        """Every action ever taken on the screen, whether or not it shows now."""
        return self._outcomes.get(from_id, {}).keys()

    @property
    def transitions(self) -> frozenset[tuple[str, str, str]]:
        return frozenset(self._transitions)

    def reliable_edges(self, from_id: str) -> list[tuple[str, str]]:
        """(action, next screen) pairs worth planning a route on; self-loops lead nowhere.

        Every screen an action ever led to counts (sign-in led home once, so it may
        again), until a route through it missed that screen MAX_MISSES times.
        """
        return [
            (action_id, to_id)
            for action_id, seen in self._outcomes.get(from_id, {}).items()
            for to_id in seen
            if to_id != from_id and self._misses[(from_id, action_id, to_id)] < self._miss_limit(from_id, action_id, to_id)
        ]

    def _miss_limit(self, from_id: str, action_id: str, to_id: str) -> int:
        return MAX_REMEMBERED_MISSES if (from_id, action_id, to_id) in self._remembered else MAX_MISSES

    def route(
        self,
        start: str,
        is_target: Callable[[str], bool],
        first_actions: Collection[str],
        rng: random.Random,
    ) -> list[tuple[str, str]] | None:
        """(action id, screen it leads to) steps of a shortest route from `start` to a target screen, or None.

        Breadth-first; the first step must be one of `first_actions` (what the
        screen offers now). Among targets equally near, `rng` picks one.
        """
        parents: dict[str, tuple[str, str] | None] = {start: None}
        layer = [start]
        while layer:
            targets = sorted(screen for screen in layer if screen != start and is_target(screen))
            if targets:
                return self._path_to(rng.choice(targets), parents)
            layer = self._expand(layer, parents, start, first_actions)
        return None

    def _expand(
        self, layer: list[str], parents: dict, start: str, first_actions: Collection[str]
    ) -> list[str]:
        following: list[str] = []
        for screen in layer:
            for action_id, to_id in self.reliable_edges(screen):
                if to_id in parents or (screen == start and action_id not in first_actions):
                    continue
                parents[to_id] = (screen, action_id)
                following.append(to_id)
        return following

    @staticmethod
    def _path_to(target: str, parents: dict[str, tuple[str, str] | None]) -> list[tuple[str, str]]:
        path: list[tuple[str, str]] = []
        screen, step = target, parents[target]
        while step is not None:
            path.append((step[1], screen))
            screen, step = step[0], parents[step[0]]
        return path[::-1]
