"""`runservice app import-droidbot` on state files that are no state (DESIGN.md "Real apps": a state that is
missing or broken is skipped with a warning): a view list that is no tree, or a file cut short, loses that
state only; the screen is shown by the next state DroidBot saw of it, and every other state and event is kept.
The conversion itself is tested in tests/unit/exploration/test_real_sources.py."""

from __future__ import annotations

from pathlib import Path

from runservice_client.droidbot import read_droidbot
from tests.client.test_droidbot import FORM_VIEWS, ID, PKG, DroidBotFolder, tasks_views, ui

LAUNCH = {"event_type": "intent", "intent": f"am start {PKG}/{PKG}.TasksActivity"}


def test_a_state_whose_views_are_no_tree_is_skipped_with_a_warning_and_nothing_else_is_lost(tmp_path: Path):
    folder = DroidBotFolder(tmp_path / "droidbot-out")
    looped = [dict(v, children=[0]) if v["temp_id"] == 5 else v for v in tasks_views("3 tasks")]  # a row holds the root
    list_2 = tasks_views("4 tasks")
    folder.state("2020-08-29_220101", "list-1", "tasks", ".TasksActivity", looped)
    folder.state("2020-08-29_220102", "form-1", "form", ".TaskFormActivity", FORM_VIEWS)
    folder.state("2020-08-29_220103", "list-2", "tasks", ".TasksActivity", list_2)
    (folder.root / "states" / "state_2020-08-29_220104.json").write_text("  \n")
    folder.event("2020-08-29_220100", LAUNCH, "launcher", "list-1")
    folder.event("2020-08-29_220101", ui("touch", looped, 2), "list-1", "form-1")
    folder.event("2020-08-29_220102", {"event_type": "key", "name": "BACK"}, "form-1", "list-2")
    folder.event("2020-08-29_220103", ui("touch", list_2, 2), "list-2", "form-1")
    folder.utg()

    imported = read_droidbot(folder.root)

    assert "states/state_2020-08-29_220101.json: a broken view tree (view 0 is reached twice): skipped" \
        in imported.warnings
    assert "states/state_2020-08-29_220104.json: empty: skipped" in imported.warnings
    assert "events/event_2020-08-29_220101.json: from a state the folder does not have or that is not the " \
        "app's: skipped" in imported.warnings
    assert (imported.states, imported.events) == (2, 4)
    model = imported.model
    assert model["screens"] == {
        "s0": {"activity": ".TaskFormActivity", "pageSource": "screens/s0.xml", "screenshot": "screens/s0.png"},
        "s1": {"activity": ".TasksActivity", "pageSource": "screens/s1.xml", "screenshot": "screens/s1.png"}}
    assert model["start"] == "s0"  # the launch's stop state is the broken one: the app's next state
    assert 'text="4 tasks"' in imported.files["screens/s1.xml"].decode()  # the next state of the screen
    assert model["transitions"] == [
        {"from": "s0", "action": {"kind": "back"}, "to": "s1"},
        {"from": "s1", "action": {"kind": "tap", "element": {"resource-id": ID + "add"}}, "to": "s0"}]
