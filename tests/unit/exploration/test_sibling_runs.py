from domain.exploration.sibling_runs import MAX_PERIOD, collapse_runs


def test_single_token_runs_collapse_to_one():
    assert collapse_runs(["h", "a", "a", "a", "f"]) == (["h", "a", "f"], [None, 0, 1, 2, None])


def test_multi_token_items_collapse_to_one_item():
    kept, ordinals = collapse_runs(["h", "t", "p", "t", "p", "t", "p", "f"])
    assert kept == ["h", "t", "p", "f"]
    assert ordinals == [None, 0, 0, 1, 1, 2, 2, None]


def test_the_run_covering_most_tokens_wins():
    # "a a b" repeated: collapsing "a a" first would leave "a b a b".
    kept, ordinals = collapse_runs(["a", "a", "b", "a", "a", "b"])
    assert kept == ["a", "a", "b"]
    assert ordinals == [0, 0, 0, 1, 1, 1]


def test_equal_coverage_prefers_the_shorter_period():
    assert collapse_runs(["a"] * 4) == (["a"], [0, 1, 2, 3])


def test_distinct_tokens_are_kept():
    assert collapse_runs(["a", "b", "c"]) == (["a", "b", "c"], [None, None, None])


def test_items_longer_than_the_max_period_are_not_collapsed():
    item = [f"v{i}" for i in range(MAX_PERIOD + 1)]
    kept, _ = collapse_runs(item * 2)
    assert kept == item * 2
