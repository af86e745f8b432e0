"""Progress bars for `wait` and `wait_all`: tqdm.auto, so a widget in Jupyter and text on stderr elsewhere."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tqdm.auto import tqdm

from runservice_client.models import FINDING_DETECTED, LLM_CALLED, RunEvent, was_sent

# What each event says about the run's status while it lasts; terminal events carry their own.
# (`run.resumed` carries its own: queued again, or still running when the pause was withdrawn in time.)
STATUS_AFTER = {"run.queued": "queued", "run.started": "running", "run.resumed": "queued",
                "run.pause_requested": "pausing", "run.paused": "paused", "run.cancel_requested": "cancelling"}

REPRODUCE_NODE = "Reproduce"  # replays the findings once exploring ended
REPLAY_NODES = frozenset({REPRODUCE_NODE, "CheckFixed"})  # ... and an older version's, on a warm run
NEWS = frozenset({LLM_CALLED, FINDING_DETECTED})  # worth a redraw with no new step


class StepProgress:
    """A run's steps against its maxSteps, with the screens found, the findings (what broke), the model's
    requests (a run that asks a language model) and the status in the postfix. Reproducing the findings
    comes after exploring, outside maxSteps: the bar counts exploration's steps."""

    def __init__(self, run_id: str, enabled: bool = True) -> None:
        # Shown after a moment: by then the history's first event has given the bar its total.
        self.bar = tqdm(desc=f"run {run_id}", unit="step", disable=not enabled, leave=True, delay=0.5)
        self.screens, self.findings, self.model_calls, self.status = 0, 0, 0, "queued"
        self.reproducing = False
        self.terminal: RunEvent | None = None

    def __enter__(self) -> StepProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.close()

    def see(self, event: RunEvent) -> None:
        data = event.data
        if event.name == "run.queued" and data.get("maxSteps"):
            self.bar.reset(total=data["maxSteps"])
        if event.name == "graph.screen.discovered":
            self.screens += 1
        if event.name == FINDING_DETECTED:
            self.findings += 1
        if event.name == LLM_CALLED and was_sent(data):
            self.model_calls += 1
        reproduce = event.name == "agent.node.started" and data.get("nodeName") in REPLAY_NODES
        if reproduce:
            self.reproducing, self.status = True, "reproducing"
        step = 0 if self.reproducing else data.get("stepOrdinal") or 0
        if event.is_terminal:
            self.terminal = event
            step = (data.get("metrics") or {}).get("steps", step)
            self.status = f"{event.name.removeprefix('run.')}: {data.get('stopReason')}"
        self.status = STATUS_AFTER.get(event.name, self.status)
        if event.name == "run.resumed":
            self.status = data.get("status", self.status)
        shown = {"screens": self.screens, **({"findings": self.findings} if self.findings else {}),
                 **({"model_calls": self.model_calls} if self.model_calls else {})}
        self.bar.set_postfix(shown | {"status": self.status}, refresh=False)
        if step > self.bar.n:
            self.bar.update(step - self.bar.n)
        elif reproduce or event.is_terminal or event.name in STATUS_AFTER or event.name in NEWS:
            self.bar.refresh()  # a new status (a finding, a model call) with no new step still shows


class RunsProgress:
    """Runs finished out of those waited for, with how many ended for each stop reason."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.bar = tqdm(total=total, desc="runs", unit="run", disable=not enabled, leave=True)
        self.reasons: Counter[str] = Counter()

    def __enter__(self) -> RunsProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.close()

    def finished(self, run: dict[str, Any]) -> None:
        self.reasons[run.get("stopReason") or run.get("status") or "unknown"] += 1
        self.bar.set_postfix(dict(sorted(self.reasons.items())), refresh=False)
        self.bar.update(1)
