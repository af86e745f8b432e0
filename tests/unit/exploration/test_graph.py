import random

from domain.exploration import ScreenGraph
from domain.exploration.graph import MAX_MISSES


def chain() -> ScreenGraph:
    graph = ScreenGraph()
    graph.record("a", "tap:id/b", "b")
    graph.record("b", "tap:id/c", "c")
    graph.record("a", "tap:id/d", "d")
    graph.record("d", "tap:id/c", "c")
    graph.record("c", "back", "c")
    return graph


def test_record_says_whether_the_transition_is_new():
    graph = ScreenGraph()
    assert graph.record("a", "tap:id/b", "b") is True
    assert graph.record("a", "tap:id/b", "b") is False
    assert graph.record("a", "tap:id/b", "x") is True
    assert graph.transitions == {("a", "tap:id/b", "b"), ("a", "tap:id/b", "x")}


def test_route_is_a_shortest_path_starting_with_an_offered_action():
    graph = chain()
    route = graph.route("a", lambda s: s == "c", {"tap:id/b", "tap:id/d"}, random.Random(0))
    assert len(route) == 2 and route[-1][1] == "c"
    via_d = graph.route("a", lambda s: s == "c", {"tap:id/d"}, random.Random(0))
    assert via_d == [("tap:id/d", "d"), ("tap:id/c", "c")]
    assert graph.route("a", lambda s: s == "c", set(), random.Random(0)) is None
    assert graph.route("c", lambda s: s == "a", {"back"}, random.Random(0)) is None


def test_the_seed_picks_among_equally_near_targets():
    graph = chain()
    firsts = {graph.route("a", lambda s: s in {"b", "d"}, {"tap:id/b", "tap:id/d"}, random.Random(seed))[0]
              for seed in range(20)}
    assert firsts == {("tap:id/b", "b"), ("tap:id/d", "d")}


def test_a_step_that_keeps_missing_is_dropped_from_routes():
    graph = chain()
    for _ in range(MAX_MISSES - 1):
        graph.record_miss("a", "tap:id/b", "b")
    assert ("tap:id/b", "b") in graph.reliable_edges("a")
    graph.record_miss("a", "tap:id/b", "b")
    assert graph.reliable_edges("a") == [("tap:id/d", "d")]
