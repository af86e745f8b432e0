"""Reading a run as a client does, from its wire events: the agent's tests on the in-memory device
(tests/unit/agent) and on the simulator (tests/integration/test_agent.py) ask the same questions of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.run import Run
from domain.wire import TERMINAL_NAMES, WireEvent


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
class RunEvents:
    events: list[WireEvent]

    @property
    def final(self) -> Run:
        """The run as stored once it ended (each harness knows where)."""
        raise NotImplementedError

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
        """Discovered screen id -> activity."""
        return {d["screenId"]: d["activity"] for d in self.named("graph.screen.discovered")}

    def screen_of(self, activity: str) -> str:
        matches = [sid for sid, act in self.discovered().items() if act == activity]
        assert len(matches) == 1, f"screens of {activity}: {matches}; discovered: {self.discovered()}"
        return matches[0]

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


def assert_one_terminal(finished: RunEvents, name: str, status: str, stop_reason: str) -> None:
    names = [e.name for e in finished.events]
    assert [e.seq for e in finished.events] == list(range(1, len(finished.events) + 1))
    assert [n for n in names if n in TERMINAL_NAMES] == [name], names[-5:]
    assert finished.terminal.name == name and finished.terminal.data["stopReason"] == stop_reason, finished.terminal
    assert (finished.final.status, finished.final.stop_reason) == (status, stop_reason)
    stop = finished.calls()[-1]
    assert (stop.name, stop.outcome, stop.detail["stopReason"]) == ("Stop", "SUCCESS", stop_reason)


def assert_setup_failed(finished: RunEvents, stop_reason: str, message_part: str) -> None:
    """The device could not be set up: the run failed at EnsureDevice, before perceiving anything."""
    assert_one_terminal(finished, "run.failed", "failed", stop_reason)
    assert message_part.casefold() in finished.terminal.data["error"].casefold(), finished.terminal.data
    calls = finished.calls()
    assert [(c.step, c.name, c.outcome) for c in calls] == [(0, "EnsureDevice", "FAILURE"), (0, "Stop", "SUCCESS")]
    assert not finished.named("agent.screen.perceived")
