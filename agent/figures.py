"""A run's own figures as the agent counts them: they end up in `run.completed`'s `metrics`.

(Operators' metrics, through Ray, are `adapters/telemetry.py`.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from domain.exploration.labels import run_labels


@dataclass
class RunFigures:
    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    restarts: int = 0
    errors: int = 0
    screens: set[str] = field(default_factory=set)
    activities: set[str] = field(default_factory=set)
    transitions: set[tuple[str, str, str]] = field(default_factory=set)
    llm_calls: int = 0  # model requests sent (cached answers are not requests)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    app_left: int = 0  # times an action opened another app
    system_dialogs: int = 0  # permission dialogs answered
    login_required: bool = False  # a login screen the run had no inputs for
    exits: set[tuple[str, str]] = field(default_factory=set)  # (from screen, action) that opened another app
    recoveries: int = 0  # lost sessions replaced (DESIGN.md "Time and faults")
    wait_seconds: float = 0.0  # waiting for screens to settle, finish loading or show a freeze

    def waited(self, seconds: float) -> None:
        self.wait_seconds += seconds

    def count_llm_call(self, cached: bool, reason: str | None, prompt_tokens: int, completion_tokens: int) -> None:
        self.llm_calls += not cached and reason != "budget"  # neither sent a request
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens

    def labels(self) -> tuple[str, ...]:
        return run_labels(self.login_required, self.app_left, self.system_dialogs)

    def as_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "screensDiscovered": len(self.screens),
                "activitiesDiscovered": len(self.activities), "transitions": len(self.transitions),
                "restarts": self.restarts, "errors": self.errors,
                "llmCalls": self.llm_calls, "promptTokens": self.prompt_tokens,
                "completionTokens": self.completion_tokens,
                "appLeft": self.app_left, "systemDialogs": self.system_dialogs,
                "recoveries": self.recoveries, "waitSeconds": round(self.wait_seconds, 2),
                "durationMs": round((time.monotonic() - self.started) * 1000)}
