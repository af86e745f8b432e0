"""A warm start (DESIGN.md "Memory across runs"): the crawl starts from what an earlier run of the app explored,
as the app's map gives it (an ExplorationHistory: storage/app_map_view.py builds it from the map's rows).

The earlier run is recorded as the worker records it (tests/unit/exploration/test_restore.py's Agent); the
same version lets the warm crawl skip what is known; a new version is revisited first, its actions taken last.
"""

from __future__ import annotations

from domain.exploration import DepthFirstPolicy, ExplorationHistory
from domain.exploration.graph import MAX_MISSES, ScreenGraph
from domain.run import Run
from tests.unit.exploration.fakeapp import OUTSIDE, FakeApp, explore
from tests.unit.exploration.test_policy import NOTES_APP, REACHABLE
from tests.unit.exploration.test_restore import GATED, Agent, new_app

# An app whose first screens have buttons that change nothing (refresh, sort...): a crawl spends steps on them.
LISTS_APP = {
    "home": {"tap:refresh": "home", "tap:sort": "home", "tap:filter": "home", "tap:settings": "settings",
             "tap:notes": "notes", "back": OUTSIDE},
    "settings": {"tap:sync": "settings", "tap:export": "settings", "tap:about": "about", "back": "home"},
    "about": {"tap:rate": "about", "back": "settings"},
    "notes": {"tap:search": "notes", "tap:new": "editor", "back": "home"},
    "editor": {"tap:bold": "editor", "tap:save": "notes", "back": "notes"},
}
# Its next version: the editor changed (a new id, as a screen whose content changed gets) and gained an
# attachments screen; every road to the editor now leads to the changed one.
NEXT_VERSION = {("editor2" if name == "editor" else name):
                {action: ("editor2" if to == "editor" else to) for action, to in moves.items()}
                for name, moves in LISTS_APP.items()}
NEXT_VERSION["editor2"]["tap:attach"] = "attachments"
NEXT_VERSION["attachments"] = {"back": "editor2"}
NEXT_REACHABLE = {"home", "settings", "about", "notes", "editor2", "attachments", OUTSIDE}


def earlier_run(steps: int = 300, app: FakeApp | None = None) -> ExplorationHistory:
    events: list[Run.Event] = []
    Agent(app or new_app(), events).explore(steps)
    return ExplorationHistory.from_events(events)


def start(app: dict) -> FakeApp:
    return FakeApp(app, "login", gated=GATED) if "login" in app else FakeApp(app, "home")


def warm(history: ExplorationHistory, same_version: bool, app: dict = NOTES_APP, max_steps: int = 300):
    policy = DepthFirstPolicy(seed=7)
    policy.remember(history, same_version)
    return explore(policy, start(app), max_steps)


def cold(app: dict, max_steps: int = 300):
    return explore(DepthFirstPolicy(seed=7), start(app), max_steps)


def test_a_warm_start_on_an_explored_version_has_nothing_left_to_do():
    visited, taken, stopped = warm(earlier_run(), same_version=True)
    assert stopped and taken == [] and visited == ["login"]


def test_a_warm_start_on_a_version_explored_in_part_goes_to_the_frontier_and_finishes_it():
    cut = earlier_run(steps=12)
    known = cut.screens
    visited, taken, stopped = warm(cut, same_version=True)
    _, cold_taken, _ = cold(NOTES_APP)
    assert stopped and known | set(visited) == REACHABLE
    assert known < REACHABLE and len(taken) < len(cold_taken) - 6  # less than a cold crawl, less the 12 known


def test_a_warm_start_on_a_new_version_reaches_the_changed_screens_sooner_and_still_covers_the_app():
    history = earlier_run(app=start(LISTS_APP))
    visited, taken, stopped = warm(history, same_version=False, app=NEXT_VERSION)
    _, cold_taken, cold_stopped = cold(NEXT_VERSION)
    assert stopped and cold_stopped and set(visited) == NEXT_REACHABLE
    warm_reached = taken.index(next(t for t in taken if t.startswith("attachments>")))
    cold_reached = cold_taken.index(next(t for t in cold_taken if t.startswith("attachments>")))
    assert warm_reached < cold_reached, (taken[:warm_reached + 1], cold_taken[:cold_reached + 1])
    # Every action of the new version is taken in the end: the older version's last, not never
    every = {f"{name}>{aid}" for name, moves in NEXT_VERSION.items() if name in NEXT_REACHABLE - {OUTSIDE}
             for aid in moves}
    assert every - {t for t in every if t.endswith(">back")} <= set(taken)


def test_an_earlier_version_s_actions_are_taken_again_only_after_its_screens_were_revisited():
    _, taken, _ = warm(earlier_run(app=start(LISTS_APP)), same_version=False, app=NEXT_VERSION)
    # Refresh leads nowhere: the earlier run took it, and no road to another screen needs it
    refreshed = taken.index("home>tap:refresh")
    assert {t.split(">")[0] for t in taken[:refreshed]} >= {"home", "settings", "about", "notes", "editor2"}


def test_a_remembered_road_is_given_up_at_its_first_miss_a_seen_one_after_several():
    graph = ScreenGraph()
    graph.remember("home", "tap:settings", "settings")
    graph.record("home", "tap:about", "about")
    graph.record_miss("home", "tap:settings", "settings")
    graph.record_miss("home", "tap:about", "about")
    assert graph.reliable_edges("home") == [("tap:about", "about")]
    for _ in range(MAX_MISSES - 1):
        graph.record_miss("home", "tap:about", "about")
    assert graph.reliable_edges("home") == []


def test_a_remembered_road_this_run_takes_too_is_trusted_as_its_own():
    graph = ScreenGraph()
    graph.remember("home", "tap:settings", "settings")
    graph.record("home", "tap:settings", "settings")
    graph.record_miss("home", "tap:settings", "settings")
    assert graph.reliable_edges("home") == [("tap:settings", "settings")]
