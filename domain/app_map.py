"""The app's map (DESIGN.md "Memory across runs"): what every run of one app (tenant and package) learned,
as pure facts over run events, and what a warm run recalls of it.

A run's events say which app and version it ran (`Run.Requested`), which screens it saw and what they
offered, which actions it took on them and where each led (a screen, the same screen, another app, a crash
or an ANR), and which findings it met. The Postgres view in `storage/app_map_view.py` keeps them by
tenant, package and version, a page of the log at a time with its tracking record, so dropping its tables
and replaying the event store rebuilds them identically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.exploration.history import ExplorationHistory
from domain.projections import TERMINAL_STATUS, run_id_of
from domain.run import Run

APP_MAP_EVENTS = (Run.Requested, Run.ScreenPerceived, Run.NodeFinished, Run.ActionPerformed,
                  Run.TransitionDiscovered, Run.FindingDetected, Run.FindingReproduced, Run.MemoryRecalled,
                  *TERMINAL_STATUS)
UNCHANGED = "unchanged"  # an action's outcome: it led back to the screen it was taken on
FINDING_OUTCOMES = ("crash", "anr")  # a finding set off by an action is that action's outcome too


def version_key(app_version: dict[str, Any] | None, run_id: str) -> str:
    """How the map names a version: its versionCode, else its versionName, else (no version known) the run."""
    if app_version and app_version.get("versionCode") is not None:
        return str(app_version["versionCode"])
    if app_version and app_version.get("versionName"):
        return str(app_version["versionName"])
    return run_id


@dataclass(frozen=True)
class MapFact:
    """What one event adds to the map: `kind` names the row it changes, `data` its columns."""

    kind: str  # run | screen | offered | tried | outcome | finding | reproduction | recalled | ended
    run_id: str
    data: dict[str, Any] = field(default_factory=dict)


def map_fact(e: Any) -> MapFact | None:
    """The event's fact for the map, or None (a node other than EnumerateActions, a reproduction's action)."""
    run_id = run_id_of(e)
    match e:
        case Run.Requested():
            version = getattr(e, "app_version", None)
            return MapFact("run", run_id, {
                "tenant_id": e.tenant_id, "package": e.app_config.get("packageName", ""),
                "version": version_key(version, run_id), "version_code": (version or {}).get("versionCode"),
                "version_name": (version or {}).get("versionName"), "memory": getattr(e, "memory", "cold")})
        case Run.ScreenPerceived():
            return MapFact("screen", run_id, {"screen_id": e.screen_id, "activity": e.activity,
                                              "screen_package": e.package, "elements": sorted(set(e.elements))})
        case Run.NodeFinished(node_name="EnumerateActions") if e.detail.get("actionIds") is not None:
            return MapFact("offered", run_id, {"action_ids": list(e.detail["actionIds"])})
        case Run.ActionPerformed(reproducing=None):
            return MapFact("tried", run_id, {"screen_id": e.screen_id, **_action(e.action)})
        case Run.TransitionDiscovered():
            return MapFact("outcome", run_id, {"screen_id": e.from_screen, **_action(e.action),
                                               "outcome": _outcome(e)})
        case Run.FindingDetected():
            return MapFact("finding", run_id, {
                "finding_id": e.finding_id, "signature": e.signature, "kind": e.kind, "title": e.title,
                "screen_id": e.screen_id, "activity": e.activity, "action_id": e.action_id})
        case Run.MemoryRecalled():
            # A warm run on its own version explores only the frontier: its graph is no whole version's
            return MapFact("recalled", run_id, {"partial": e.same_version})
        case Run.FindingReproduced() if e.steps:
            return MapFact("reproduction", run_id, {"finding_id": e.finding_id, "steps": list(e.steps)})
        case _ if type(e) in TERMINAL_STATUS:
            return MapFact("ended", run_id, {"status": TERMINAL_STATUS[type(e)]})
    return None


def _action(action: dict[str, Any]) -> dict[str, str]:
    return {"action_id": action.get("action_id") or action.get("kind", ""), "action_kind": action.get("kind", ""),
            "action_label": action.get("label", "")}


def _outcome(e: Run.TransitionDiscovered) -> str:
    if e.to_screen is None:
        return f"left:{e.left_to or ''}"
    return UNCHANGED if e.to_screen == e.from_screen else f"screen:{e.to_screen}"


class AppMapProjection(Projection[Any]):
    """Keeps the app map's tables (storage/app_map_view.py) from the events of APP_MAP_EVENTS."""

    name = "app_map"
    topics = tuple(get_topic(cls) for cls in APP_MAP_EVENTS)

    def process_page(self, page: Sequence[tuple[Any, Tracking]]) -> None:
        facts = [(tracking.notification_id, fact) for e, tracking in page if (fact := map_fact(e)) is not None]
        self.view.apply(facts, page[-1][1])  # a page without facts still moves the tracking on

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_page([(domain_event, tracking)])


# What a warm run recalls


@dataclass(frozen=True)
class Recall:
    """What the map knew when a warm run started: the earlier runs of its app, the version it learns from
    (its own if an earlier run had it, else the previous one), and that version's screens and actions."""

    runs: int = 0
    version: str | None = None  # the version recalled
    same_version: bool = False
    base_run_id: str | None = None  # the latest run of the previous version (a new version's drift base)
    history: ExplorationHistory = field(default_factory=ExplorationHistory)

    @property
    def screens(self) -> set[str]:
        return set(self.history.offered) | {to for _, _, to in self.history.transitions}

    def note(self, package: str) -> str:
        if not self.runs:
            return f"no earlier run of {package}: this run starts cold"
        if self.same_version:
            return f"{len(self.screens)} screens known from {self.runs} earlier runs of version {self.version}"
        return (f"a new version: {len(self.screens)} screens of version {self.version} to revisit, "
                f"from {self.runs} earlier runs")


def recalled_history(screens: Iterable[dict[str, Any]], actions: Iterable[dict[str, Any]]) -> ExplorationHistory:
    """The map's rows of one version as the history a policy restores (ExplorationHistory): the screens with
    what they offered, the actions tried and the screens they led to. Exits and crashes are tried actions
    that lead to no screen of the graph."""
    history = ExplorationHistory()
    for row in screens:
        history.package_of[row["screen_id"]] = row["screen_package"]
        if row["offered"] is not None:
            history.offered[row["screen_id"]] = set(row["offered"])
    for row in actions:
        history.tried.append((row["screen_id"], row["action_id"]))
        for outcome in row["outcomes"]:
            if outcome == UNCHANGED:
                history.transitions.append((row["screen_id"], row["action_id"], row["screen_id"]))
            elif outcome.startswith("screen:"):
                history.transitions.append((row["screen_id"], row["action_id"], outcome.removeprefix("screen:")))
            elif outcome.startswith("left:"):
                history.left.add((row["screen_id"], row["action_id"]))
    return history
