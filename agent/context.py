"""What the parts of one run's agent share, built once the device is open: the parts take it
instead of the agent itself, so none of them imports another part or the loop that builds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agent.figures import RunFigures
from agent.node_runner import NodeRunner
from agent.observer import Observer
from agent.session import SessionDevice
from agent.surroundings import Surroundings
from config.worker_settings import WorkerSettings
from domain.exploration import ExplorationPolicy, ProgressTracker
from domain.exploration.offer import ElementPattern
from domain.findings.journal import FindingsJournal


class ArtifactSink(Protocol):
    """Where screenshots, page sources and logcat excerpts go (storage/artifacts.py; in memory in tests)."""

    def put(self, content: bytes, media_type: str) -> str: ...


@dataclass(frozen=True)
class RunContext:
    run_id: str
    worker_id: str
    udid: str  # the device's, for operators' metrics
    package: str
    goal: str | None
    max_steps: int
    inputs: dict[str, str]
    settings: WorkerSettings
    device: SessionDevice  # the current session: a lost one is replaced behind it (agent/recovery.py)
    observer: Observer
    node: NodeRunner
    artifacts: ArtifactSink
    policy: ExplorationPolicy
    journal: FindingsJournal
    figures: RunFigures
    progress: ProgressTracker
    surroundings: Surroundings
    avoid: tuple[ElementPattern, ...] = ()  # the run's avoid patterns, parsed
