"""The node graph and the stop reasons of one run (DESIGN.md "The agent"), on the in-memory device."""

from __future__ import annotations

from tests.unit.agent import (
    SETUP_NODES, STEP_NODES, Finished, assert_graph_consistent, assert_one_terminal, shop_app, small_app, trap_app,
)
from tests.unit.fakes import El, FakeDevice, Page, fake_run, label

# Which node records which exploration fact.
RECORDED_BY = {"agent.screen.perceived": "Perceive", "graph.screen.discovered": "Perceive",
               "agent.action.performed": "Act", "graph.transition.discovered": "Verify"}


def explore(device: FakeDevice, **options) -> Finished:
    run = fake_run(device, **options)
    run.execute()
    return Finished.of(run)


# The node graph --------------------------------------------------------------------------------------


def test_each_node_starts_and_finishes_in_order_at_its_step():
    finished = explore(small_app(), max_steps=5)

    calls = finished.calls()
    assert [(c.step, c.name) for c in calls] == (
        [(0, name) for name in SETUP_NODES]
        + [(step, name) for step in range(1, 6) for name in STEP_NODES]
        + [(5, "Stop")])
    assert {c.outcome for c in calls} == {"SUCCESS"}
    assert all(c.started_seq + 1 == c.finished_seq or c.inner or c.name in RECORDED_BY.values()
               for c in calls), "only nodes that record facts or run nested nodes have events inside them"
    assert calls[3].detail["screenId"] == finished.named("agent.screen.perceived")[0]["screenId"]  # WaitIdle
    assert [e.name for e in finished.events][:2] == ["run.queued", "run.started"]
    assert_one_terminal(finished, "run.completed", "completed", "max_steps")


def test_exploration_facts_are_recorded_inside_the_node_that_finds_them():
    finished = explore(shop_app(), max_steps=8)

    open_nodes: list[tuple[str, int]] = []
    for event in finished.events:
        if event.name == "agent.node.started":
            open_nodes.append((event.data["nodeName"], event.data["stepOrdinal"]))
        elif event.name == "agent.node.finished":
            open_nodes.pop()
        elif event.name in RECORDED_BY:
            assert open_nodes[-1] == (RECORDED_BY[event.name], event.data["stepOrdinal"]), event
    assert len(finished.named("agent.action.performed")) == 8
    assert {name for name in RECORDED_BY} <= {e.name for e in finished.events}


def test_max_steps_ends_the_run_after_exactly_that_many_steps():
    finished = explore(shop_app(), max_steps=7)

    assert_one_terminal(finished, "run.completed", "completed", "max_steps")
    assert finished.metrics["steps"] == 7
    assert len(finished.actions()) == 7
    should_continue = [c for c in finished.calls() if c.name == "ShouldContinue"]
    assert [c.detail.get("stopReason") for c in should_continue] == [None] * 6 + ["max_steps"]


# Stop reasons ----------------------------------------------------------------------------------------


def test_an_app_with_nothing_left_to_try_is_explored_dead_ends_included():
    device = small_app()
    finished = explore(device, max_steps=30)

    assert_one_terminal(finished, "run.completed", "completed", "explored")
    assert sorted(finished.discovered().values()) == [".FirstActivity", ".HomeActivity", ".SecondActivity"]
    home = finished.screen_of(".HomeActivity")
    for leaf in (".FirstActivity", ".SecondActivity"):  # the agent backed out of each dead end
        assert (finished.screen_of(leaf), "back", home) in finished.transitions()
    choose = [c for c in finished.calls() if c.name == "ChooseAction"][-1]
    assert choose.detail["stopReason"] == "explored" and choose.step == finished.metrics["steps"] < 30
    assert finished.metrics["restarts"] == 0 and device.calls["activate_app"] == 1  # launched once
    assert device.calls["quit"] == 1  # the session is closed at the end


def test_steps_without_anything_new_stop_the_run_with_no_progress():
    finished = explore(trap_app(), max_steps=30, no_progress_steps=2)

    assert_one_terminal(finished, "run.completed", "completed", "no_progress")
    trap = finished.screen_of(".TrapActivity")
    assert ".ElsewhereActivity" not in finished.discovered().values()
    detect = [c for c in finished.calls() if c.name == "DetectProgress"]
    assert [c.detail.get("stopReason") for c in detect][-1] == "no_progress"
    assert all(c.detail == {"stalled": False, "durationMs": c.detail["durationMs"]} for c in detect[:-1])
    # the last two steps found nothing: the same back on the trap, leading to the trap
    last_two = finished.named("agent.action.performed")[-2:]
    assert [(a["screenId"], a["action"]["action_id"]) for a in last_two] == [(trap, "back")] * 2
    steps = finished.metrics["steps"]
    assert not [t for t in finished.named("graph.transition.discovered") if t["stepOrdinal"] > steps - 2]


def test_a_dead_end_the_agent_cannot_leave_ends_the_run_instead_of_using_up_the_budget():
    finished = explore(trap_app(), max_steps=40)  # no_progress_steps stays at 30

    assert_one_terminal(finished, "run.completed", "completed", "explored")
    assert finished.metrics["steps"] < 30
    assert finished.named("agent.action.performed")[-1]["screenId"] == finished.screen_of(".TrapActivity")
    assert ".ElsewhereActivity" not in finished.discovered().values()


def test_the_run_timeout_stops_the_run_at_the_end_of_a_step():
    finished = explore(shop_app(), max_steps=50, run_timeout_seconds=0.001)

    assert_one_terminal(finished, "run.completed", "completed", "timeout")
    assert finished.metrics["steps"] == 1
    should_continue = [c for c in finished.calls() if c.name == "ShouldContinue"]
    assert [(c.step, c.detail.get("stopReason")) for c in should_continue] == [(1, "timeout")]


def test_a_goal_deep_in_the_app_is_reached_where_it_shows():
    run = fake_run(shop_app(), max_steps=60, goal='Reach "thank you"')
    run.execute()
    finished = Finished.of(run)

    assert_one_terminal(finished, "run.completed", "completed", "goal_reached")
    last_seen = finished.named("agent.screen.perceived")[-1]
    assert last_seen["activity"] == ".DoneActivity"
    source, media_type = run.artifacts.get(last_seen["artifacts"]["pageSource"])
    assert media_type == "application/xml" and b"Thank you for your order" in source
    perceive = [c for c in finished.calls() if c.name == "Perceive"][-1]
    assert (perceive.outcome, perceive.detail["stopReason"]) == ("SUCCESS", "goal_reached")
    assert finished.metrics["steps"] == perceive.step < 60
    assert len(finished.actions()) == perceive.step - 1  # no action on the goal's screen


def test_a_goal_that_never_shows_is_not_reached():
    finished = explore(shop_app(), max_steps=8, goal='"Apache License 2.0"')

    assert_one_terminal(finished, "run.completed", "completed", "max_steps")


# Leaving the app ---------------------------------------------------------------------------------------


def test_leaving_the_app_brings_it_back_where_it_was():
    """welcome -> main (back sends the app to the background) -> detail."""
    device = FakeDevice({
        "welcome": Page(".WelcomeActivity", (El("go", "Continue"),)),
        "main": Page(".MainActivity", (label("title", "Main"), El("open", "Open"))),
        "detail": Page(".DetailActivity", (label("text", "Detail"),), back="main"),
    }, {("welcome", "go"): "main", ("main", "open"): "detail"}, start="welcome")

    finished = explore(device, max_steps=20)

    assert finished.terminal.name == "run.completed"
    main = finished.screen_of(".MainActivity")
    left = [a for a in finished.named("agent.action.performed")
            if (a["screenId"], a["action"]["kind"]) == (main, "back")]
    assert left, "the agent pressed back on the screen that leaves the app"
    (verify,) = [c for c in finished.calls() if c.name == "Verify" and c.step == left[0]["stepOrdinal"]]
    assert [(c.name, c.detail["screenId"]) for c in verify.inner] == [("RestartApp", main)]  # resumed, not restarted
    assert finished.metrics["restarts"] == len(left) >= 1
    assert {p["package"] for p in finished.named("agent.screen.perceived")} == {device.package}
    assert (main, "back", main) in finished.transitions()


# The graph -----------------------------------------------------------------------------------------------


def test_the_graph_events_describe_one_consistent_graph():
    finished = explore(shop_app(), max_steps=40)

    assert finished.terminal.name == "run.completed"
    assert_graph_consistent(finished)
    assert len(finished.discovered()) == 5 and finished.metrics["restarts"] >= 1  # restarts keep it consistent too


def test_a_run_ending_right_after_a_new_screen_has_its_transition_but_never_perceived_it():
    device = FakeDevice({"a": Page(".AActivity", (El("go", "Go"),)), "b": Page(".BActivity", (label("text", "B"),))},
                        {("a", "go"): "b"}, start="a")

    finished = explore(device, max_steps=1)

    assert finished.terminal.data["stopReason"] == "max_steps"
    assert_graph_consistent(finished)
    (transition,) = finished.named("graph.transition.discovered")
    verify = [c for c in finished.calls() if c.name == "Verify"][-1]
    assert transition["toScreen"] == verify.detail["screenId"] and verify.detail["activity"] == ".BActivity"
    assert list(finished.discovered().values()) == [".AActivity"] and finished.metrics["screensDiscovered"] == 1


# Determinism ---------------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_actions():
    def twice(policy: str, seed: int) -> list[Finished]:
        runs = [fake_run(shop_app(), max_steps=15) for _ in range(2)]
        for run in runs:
            run.agent(policy=policy, seed=seed).execute()
        return [Finished.of(run) for run in runs]

    dfs, rnd = twice("dfs", 0), twice("random", 7)

    for first, second in (dfs, rnd):
        assert len(first.actions()) == 15
        assert first.actions() == second.actions()
        assert [p["screenId"] for p in first.named("agent.screen.perceived")] == [
            p["screenId"] for p in second.named("agent.screen.perceived")]
    assert dfs[0].actions() != rnd[0].actions()


def test_different_seeds_of_the_random_policy_take_different_actions():
    one, two = (fake_run(shop_app(), max_steps=15) for _ in range(2))
    one.agent(policy="random", seed=1).execute()
    two.agent(policy="random", seed=2).execute()

    assert len(Finished.of(one).actions()) == len(Finished.of(two).actions()) == 15
    assert Finished.of(one).actions() != Finished.of(two).actions()
