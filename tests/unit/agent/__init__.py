"""The agent's loop (agent/agent_run.py) on the in-memory device of tests/unit/fakes.py: what a client
reads of a run (its wire events), as tests/integration/test_agent.py reads it on the simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.wire import TERMINAL_NAMES, WireEvent
from tests.unit.fakes import Crash, El, FakeDevice, FakeRun, Page, label

SETUP_NODES = ["EnsureDevice", "ProvisionApp", "LaunchOrAttach", "WaitIdle"]
STEP_NODES = ["Perceive", "EnumerateActions", "ChooseAction", "Act", "Verify", "DetectProgress", "ShouldContinue"]


@dataclass
class Call:
    step: int
    name: str
    outcome: str
    detail: dict[str, Any]
    inner: list[Call] = field(default_factory=list)
    started_seq: int = 0
    finished_seq: int = 0


@dataclass
class Finished:
    run: FakeRun
    events: list[WireEvent]

    @classmethod
    def of(cls, run: FakeRun) -> Finished:
        return cls(run, run.events())

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e.data for e in self.events if e.name == name]

    @property
    def terminal(self) -> WireEvent:
        return self.events[-1]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.terminal.data["metrics"]

    def actions(self) -> list[str]:
        """The exploration's actions (not the replays that reproduce its findings)."""
        return [d["action"]["action_id"] for d in self.named("agent.action.performed") if not d["reproducing"]]

    def discovered(self) -> dict[str, str]:
        return {d["screenId"]: d["activity"] for d in self.named("graph.screen.discovered")}

    def screen_of(self, activity: str) -> str:
        (screen_id,) = [sid for sid, act in self.discovered().items() if act == activity]
        return screen_id

    def transitions(self) -> set[tuple[str, str, str]]:
        return {(t["fromScreen"], t["action"]["action_id"], t["toScreen"])
                for t in self.named("graph.transition.discovered")}

    def calls(self) -> list[Call]:
        return node_calls(self.events)

    def all_calls(self) -> list[Call]:
        return flatten(self.calls())


def node_calls(events: list[WireEvent]) -> list[Call]:
    """The top-level node calls in order, nested calls under them. Checks that every started node
    finishes, innermost first, at the step it started at."""
    stack: list[Call] = []
    top: list[Call] = []
    for event in events:
        if event.name == "agent.node.started":
            stack.append(Call(event.data["stepOrdinal"], event.data["nodeName"], "", {}, started_seq=event.seq))
        elif event.name == "agent.node.finished":
            assert stack, f"{event.data['nodeName']} finished at seq {event.seq} without having started"
            call = stack.pop()
            assert (event.data["nodeName"], event.data["stepOrdinal"]) == (call.name, call.step), event
            call.outcome, call.detail, call.finished_seq = event.data["outcomeStatus"], event.data["detail"], event.seq
            (stack[-1].inner if stack else top).append(call)
    assert not stack, f"nodes never finished: {[c.name for c in stack]}"
    return top


def flatten(calls: list[Call]) -> list[Call]:
    return [c for call in calls for c in (call, *flatten(call.inner))]


def assert_one_terminal(finished: Finished, name: str, status: str, stop_reason: str) -> None:
    names = [e.name for e in finished.events]
    assert [e.seq for e in finished.events] == list(range(1, len(finished.events) + 1))
    assert [n for n in names if n in TERMINAL_NAMES] == [name], names[-5:]
    assert finished.terminal.name == name and finished.terminal.data["stopReason"] == stop_reason, finished.terminal
    run = finished.run.api.get_run(finished.run.run_id)
    assert (run.status, run.stop_reason) == (status, stop_reason)
    stop = finished.calls()[-1]
    assert (stop.name, stop.outcome, stop.detail["stopReason"]) == ("Stop", "SUCCESS", stop_reason)


def assert_graph_consistent(finished: Finished) -> None:
    perceived = finished.named("agent.screen.perceived")
    discovered = finished.named("graph.screen.discovered")
    ids = [d["screenId"] for d in discovered]
    assert len(ids) == len(set(ids)), "a screen was discovered twice"
    first_seen: dict[str, int] = {}
    for p in perceived:
        first_seen.setdefault(p["screenId"], p["stepOrdinal"])
    assert {d["screenId"]: d["stepOrdinal"] for d in discovered} == first_seen  # discovered when first perceived
    known = set(ids)
    transitions = finished.named("graph.transition.discovered")
    keys = [(t["fromScreen"], t["action"]["action_id"], t["toScreen"]) for t in transitions]
    assert len(keys) == len(set(keys)), "a transition was discovered twice"
    by_step = {p["stepOrdinal"]: p["screenId"] for p in perceived}
    assert all(by_step[t["stepOrdinal"]] == t["fromScreen"] for t in transitions), "from a screen not perceived then"
    # A step's transition leads to the screen the next step perceives; only the last step has no next one.
    last = finished.metrics["steps"]
    assert all(by_step.get(t["stepOrdinal"] + 1, t["toScreen"]) == t["toScreen"] for t in transitions)
    assert [t for t in transitions if t["toScreen"] not in known and t["stepOrdinal"] != last] == []
    assert finished.metrics["screensDiscovered"] == len(known)
    assert finished.metrics["transitions"] == len(keys)


# Small apps --------------------------------------------------------------------------------------


def small_app() -> FakeDevice:
    """home -> first, home -> second: two dead ends whose back leads home; back on home stays there."""
    return FakeDevice({
        "home": Page(".HomeActivity", (El("first", "First"), El("second", "Second")), back="home"),
        "first": Page(".FirstActivity", (label("text", "A dead end: only back leads out"),), back="home"),
        "second": Page(".SecondActivity", (label("text", "Another dead end"),), back="home"),
    }, {("home", "first"): "first", ("home", "second"): "second"}, start="home")


def trap_app() -> FakeDevice:
    """home -> trap, a dead end whose back leads back into itself; "elsewhere" stays unexplored."""
    return FakeDevice({
        "home": Page(".HomeActivity", (El("enter", "Enter the trap"), El("other", "Elsewhere")), back="home"),
        "trap": Page(".TrapActivity", (label("text", "No way out"),), back="trap"),
        "elsewhere": Page(".ElsewhereActivity", (label("text", "Elsewhere"),), back="home"),
    }, {("home", "enter"): "trap", ("home", "other"): "elsewhere"}, start="home")


def shop_app() -> FakeDevice:
    """home (back leaves the app) -> catalog -> product -> cart (a coupon field) -> done ("Thank you")."""
    return FakeDevice({
        "home": Page(".HomeActivity", (label("welcome", "Welcome"), El("catalog", "Catalog"), El("cart", "Cart"))),
        "catalog": Page(".CatalogActivity", (label("heading", "Catalog"), El("item", "Product 1")), back="home"),
        "product": Page(".ProductActivity", (label("name", "Product 1"), El("add", "Add to cart")), back="catalog"),
        "cart": Page(".CartActivity", (El("coupon", editable=True), El("checkout", "Checkout")), back="home"),
        "done": Page(".DoneActivity", (label("thanks", "Thank you for your order"),), back="home"),
    }, {("home", "catalog"): "catalog", ("home", "cart"): "cart", ("catalog", "item"): "product",
        ("product", "add"): "cart", ("cart", "checkout"): "done"}, start="home")


def crashy_app(crash: Crash | None = None) -> FakeDevice:
    """home: Sync now crashes; Next opens a screen only found after the crash."""
    return FakeDevice({
        "home": Page(".HomeActivity", (El("sync", "Sync now"), El("next", "Next")), back="home"),
        "next": Page(".NextActivity", (label("text", "After the crash"),), back="home"),
    }, {("home", "sync"): crash or Crash(), ("home", "next"): "next"}, start="home")
