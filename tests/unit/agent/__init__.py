"""The agent's loop (agent/agent_run.py) on the in-memory device of tests/unit/fakes.py: what a client
reads of a run (its wire events), as tests/integration/test_agent.py reads it on the simulator."""

from __future__ import annotations

from dataclasses import dataclass

from domain.run import Run
from tests.run_events import RunEvents, assert_one_terminal  # noqa: F401 - the tests here take it from this package
from tests.unit.fakes import Crash, El, FakeDevice, FakeRun, Page, label

SETUP_NODES = ["EnsureDevice", "ProvisionApp", "LaunchOrAttach", "WaitIdle"]
STEP_NODES = ["Perceive", "EnumerateActions", "ChooseAction", "Act", "Verify", "DetectProgress", "ShouldContinue"]


@dataclass
class Finished(RunEvents):
    run: FakeRun

    @classmethod
    def of(cls, run: FakeRun) -> Finished:
        return cls(run.events(), run)

    @property
    def final(self) -> Run:
        return self.run.api.get_run(self.run.run_id)


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
