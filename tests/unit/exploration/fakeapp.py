"""A tiny fake app for policy tests: screens are names, transitions a dict by action id."""

from __future__ import annotations

from domain.exploration import BACK, Action, Screen

PKG = "com.example.fake"
OUTSIDE = "launcher"  # the home screen a crash or a last back leaves the device on


class FakeApp:
    """`graph[screen][action_id]` is the next screen. Sign-in (when `gated`) only works once
    every type action of that screen was performed in the current visit, as in a real form."""

    def __init__(self, graph: dict[str, dict[str, str]], start: str, gated: set[str] = frozenset()) -> None:
        self.graph, self.start, self.gated = graph, start, gated
        self.current = start
        self.typed: set[str] = set()

    def screen(self) -> Screen:
        package = "com.android.launcher3" if self.current == OUTSIDE else PKG
        return Screen(screen_id=self.current, activity=f".{self.current}", package=package, elements=())

    def actions(self) -> tuple[Action, ...]:
        offered = [aid for aid in self.graph[self.current] if aid != "back"]
        return (*(Action(kind=aid.split(":")[0], label=aid, action_id=aid) for aid in offered), BACK)

    def perform(self, action: Action) -> None:
        following = self.graph[self.current].get(action.action_id, OUTSIDE)
        if action.action_id in self.gated and not self._form_filled():
            following = self.current
        if action.kind == "type":
            self.typed.add(action.action_id)
        if following != self.current:
            self.typed = set()
        self.current = following

    def relaunch(self) -> None:
        self.current, self.typed = self.start, set()

    def _form_filled(self) -> bool:
        fields = {aid for aid in self.graph[self.current] if aid.startswith("type:")}
        return fields <= self.typed


def explore(policy, app: FakeApp, max_steps: int = 200) -> tuple[list[str], list[str], bool]:
    """Drive `policy` as the device worker does: relaunch when outside the app.

    Returns the screens visited, the action ids taken, and whether the policy stopped by itself.
    """
    visited, taken = [app.current], []
    for _ in range(max_steps):
        if app.current == OUTSIDE:
            app.relaunch()
            visited.append(app.current)
        screen = app.screen()
        action = policy.choose(screen, app.actions())
        if action is None:
            return visited, taken, True
        app.perform(action)
        taken.append(f"{screen.screen_id}>{action.action_id}")
        policy.observe(screen, action, app.screen())
        visited.append(app.current)
    return visited, taken, False
