"""A plug-in policy as a user would write one: it knows only the protocol, not the service's code.

`first` takes the first action the agent enumerated on every screen, and says the goal is
reached on a screen whose activity the goal names ("activity:.LoginActivity"): what the
service's tests check a plug-in can do.
"""

from __future__ import annotations

from typing import Any

GOAL_PREFIX = "activity:"


class FirstActionPolicy:
    def __init__(self, package: str, goal: str | None) -> None:
        self.package, self.goal = package, goal

    def choose(self, screen: Any, actions: Any) -> Any:
        return actions[0] if actions else None

    def observe(self, screen: Any, action: Any, after: Any) -> None:
        pass

    def reached_end(self, screen: Any, action: Any) -> None:
        pass

    def is_explored(self) -> bool:
        return False

    def restore(self, history: Any) -> None:
        pass

    def goal_reached(self, screen: Any) -> bool | None:
        if not self.goal or not self.goal.startswith(GOAL_PREFIX):
            return None
        return screen.package == self.package and screen.activity == self.goal[len(GOAL_PREFIX):]


def make_policy(*, seed: int, package: str, goal: str | None, settings: Any) -> FirstActionPolicy:
    return FirstActionPolicy(package, goal)
