"""LlmPolicy over a fake ChatModel: the model ranks and chooses, every failure falls back to the crawl."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from domain.exploration import (
    BACK, Action, DepthFirstPolicy, ExplorationHistory, ExplorationPolicy, LlmCall, LlmPolicy, ModelReply, Screen,
    enumerate_actions, parse_screen,
)
from domain.exploration.llm_policy import MAX_DETOURS
from domain.exploration.llm_questions import CHOOSE_ASK, GOAL_ASK, MAX_LISTED, MAX_PROMPT_CHARS, WHITESPACE_TOKENS
from domain.exploration.policy import MAX_BACK_FALLBACKS
from tests.unit.exploration.fakeapp import OUTSIDE, PKG, FakeApp, explore
from tests.unit.exploration.pagesource import catalog_page, login_page, product_page
from tests.unit.exploration.test_exploration_flow import ShopApp, perceive
from tests.unit.exploration.test_policy import NOTES_APP, REACHABLE
from tests.unit.exploration.test_restore import GATED, Agent, new_app

PURPOSES = {"order": "rank", "index": "choose", "reached": "goal"}


@dataclass(frozen=True)
class Request:
    messages: list[dict[str, str]]
    schema: dict[str, Any]
    max_tokens: int

    @property
    def purpose(self) -> str:
        return PURPOSES[next(iter(self.schema["properties"]))]

    @property
    def prompt(self) -> str:
        return self.messages[-1]["content"]


class FakeModel:
    """Answers by purpose: a JSON text (a reply with tokens), a ModelReply as is (a failure), or
    a function of the request; a purpose without an answer is refused."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.requests: list[Request] = []

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int) -> ModelReply:
        request = Request(messages, schema, max_tokens)
        self.requests.append(request)
        answer = self.answers.get(request.purpose, ModelReply(content=None, model="fake", failure="refused"))
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, ModelReply):
            return answer
        return ModelReply(content=answer, model="fake-270m", prompt_tokens=120, completion_tokens=6, latency_ms=40.0)

    def purposes(self) -> list[str]:
        return [request.purpose for request in self.requests]


def screen(name: str) -> Screen:
    return Screen(screen_id=name, activity=f".{name}", package=PKG, elements=())


def tap(name: str) -> Action:
    return Action(kind="tap", label=f'tap "{name}"', action_id=f"tap:id/{name}")


HUB_ACTIONS = (tap("a"), tap("b"), BACK)
LAUNCHER = "com.android.launcher3"


def hub_explored() -> ExplorationHistory:
    """The hub's actions were all tried; screen "a" still has an untried action, so the crawl
    would route there (tap a) and the model is asked instead."""
    return ExplorationHistory(
        package_of={"hub": PKG, "a": PKG, "b": PKG, OUTSIDE: LAUNCHER},
        offered={"hub": {"tap:id/a", "tap:id/b", "back"}, "a": {"tap:id/x", "back"}, "b": {"back"}},
        tried=[("hub", "tap:id/a"), ("hub", "tap:id/b"), ("hub", "back"), ("a", "back"), ("b", "back")],
        transitions=[("hub", "tap:id/a", "a"), ("hub", "tap:id/b", "b"), ("hub", "back", OUTSIDE),
                     ("a", "back", "hub"), ("b", "back", "hub")],
    )


def restored(policy, history: ExplorationHistory | None = None):
    policy.restore(history or hub_explored())
    return policy


def dfs_choice_on_hub() -> Action | None:
    return restored(DepthFirstPolicy(seed=7)).choose(screen("hub"), HUB_ACTIONS)


# rank


def test_the_model_ranks_a_new_screens_untried_actions_and_the_crawl_follows_that_order():
    def walk(policy):
        _, taken, stopped = explore(policy, FakeApp(NOTES_APP, "home"), max_steps=300)
        assert stopped
        return [step for step in taken if step.startswith("home>tap:")]

    model = FakeModel(rank='{"order": [2, 1]}')  # home lists settings, notes, sync: sync first, then notes
    assert walk(DepthFirstPolicy(seed=7))[:3] == ["home>tap:id/settings", "home>tap:id/notes", "home>tap:id/sync"]
    assert walk(LlmPolicy(model, seed=7))[:3] == ["home>tap:id/sync", "home>tap:id/notes", "home>tap:id/settings"]
    home = next(r for r in model.requests if r.purpose == "rank" and "Screen: .home" in r.prompt)
    assert home.prompt.splitlines()[1:5] == ["Actions:", "0 tap:id/settings", "1 tap:id/notes", "2 tap:id/sync"]
    assert "back" not in home.prompt  # the crawl leaves back last whatever the ranking
    assert home.schema["properties"]["order"] == {"type": "array", "items": {"type": "integer", "enum": [0, 1, 2]},
                                                  "maxItems": 3}
    assert home.max_tokens == WHITESPACE_TOKENS + 12 + 4 * 3
    ranks_of_home = [r for r in model.requests if r.purpose == "rank" and "Screen: .home" in r.prompt]
    assert len(ranks_of_home) == 1  # once per screen, not on every visit


def test_a_ranking_drops_unknown_and_repeated_indices_and_keeps_the_rest_in_crawl_order():
    model = FakeModel(rank='{"order": [2, 2, 9, -1, true, 1]}')
    policy = LlmPolicy(model, seed=7)
    actions = (tap("first"), tap("second"), tap("third"), tap("fourth"), BACK)
    chosen = []
    for _ in range(4):
        action = policy.choose(screen("s"), actions)
        policy.observe(screen("s"), action, screen("s"))
        chosen.append(action.action_id)
    assert chosen == ["tap:id/third", "tap:id/second", "tap:id/first", "tap:id/fourth"]
    assert [call.outcome for call in policy.take_calls()] == ["chosen"]


def test_a_failed_ranking_leaves_the_crawl_order_and_is_not_asked_again():
    model = FakeModel(rank=ModelReply(content=None, model="fake", failure="timeout", latency_ms=10000.0))
    policy = LlmPolicy(model, seed=7)
    first = policy.choose(screen("s"), (tap("one"), tap("two"), BACK))
    policy.observe(screen("s"), first, screen("s"))
    second = policy.choose(screen("s"), (tap("one"), tap("two"), BACK))
    assert (first.action_id, second.action_id) == ("tap:id/one", "tap:id/two")
    assert model.purposes() == ["rank"]
    assert policy.take_calls() == [LlmCall(purpose="rank", model="fake", prompt_tokens=0, completion_tokens=0,
                                           latency_ms=10000.0, cached=False, outcome="fallback", reason="timeout")]


def test_a_screen_with_one_untried_action_is_not_ranked():
    model = FakeModel(rank='{"order": [0]}')
    action = LlmPolicy(model, seed=7).choose(screen("s"), (tap("only"), BACK))
    assert action.action_id == "tap:id/only"
    assert model.requests == []


# choose


def test_the_model_chooses_where_the_crawl_has_nothing_untried():
    model = FakeModel(choose='{"index": 1}')
    policy = restored(LlmPolicy(model, seed=7, goal='Open "Settings"'))
    assert dfs_choice_on_hub().action_id == "tap:id/a"  # the crawl would route to a
    assert policy.choose(screen("hub"), HUB_ACTIONS).action_id == "tap:id/b"
    [request] = model.requests
    assert request.purpose == "choose"
    assert request.prompt.splitlines() == ["Screen: .hub", 'Goal: Open "Settings"', "Actions:", '0 tap "a"',
                                           '1 tap "b"', "2 back", CHOOSE_ASK]
    assert request.messages[0]["role"] == "system" and len(request.messages) == 2
    assert request.schema["properties"]["index"] == {"type": "integer", "enum": [0, 1, 2]}
    assert request.max_tokens == WHITESPACE_TOKENS + 16
    assert policy.take_calls() == [LlmCall(purpose="choose", model="fake-270m", prompt_tokens=120,
                                           completion_tokens=6, latency_ms=40.0, cached=False, outcome="chosen",
                                           reason=None)]


def test_the_question_shows_the_last_few_actions_taken():
    model = FakeModel(choose='{"index": 0}')
    policy = restored(LlmPolicy(model, seed=7))
    for i in range(7):
        policy.observe(screen("hub"), tap(f"t{i}"), screen("hub"))
    policy.choose(screen("hub"), HUB_ACTIONS)
    assert 'Last actions: tap "t2"; tap "t3"; tap "t4"; tap "t5"; tap "t6"\n' in model.requests[0].prompt


def test_a_tap_the_model_picks_on_a_form_fills_the_fields_of_this_visit_first():
    history = ExplorationHistory(
        package_of={"login": PKG, "home": PKG},
        offered={"login": {"type:id/user", "tap:id/sign_in", "back"}},
        tried=[("login", "type:id/user"), ("login", "tap:id/sign_in"), ("login", "back")],
        transitions=[("login", "tap:id/sign_in", "home")],
    )
    user = Action(kind="type", text="alice", label='type "alice" into "user"', action_id="type:id/user")
    actions = (user, tap("sign_in"), BACK)
    policy = restored(LlmPolicy(FakeModel(choose='{"index": 1}'), seed=7), history)
    assert policy.choose(screen("login"), actions) == user  # the crawl counts the typing as this visit's
    policy.observe(screen("login"), user, screen("login"))
    assert policy.choose(screen("login"), actions).action_id == "tap:id/sign_in"


def test_the_models_pick_in_place_of_the_crawls_back_leaves_the_crawl_its_tries_of_back():
    # "far" was seen but no known way leads there: the crawl presses back (MAX_BACK_FALLBACKS times) in hope of one.
    history = ExplorationHistory(
        package_of={"s": PKG, "far": PKG}, offered={"s": {"tap:id/stay", "back"}},
        tried=[("s", "tap:id/stay"), ("s", "back")], transitions=[("s", "tap:id/stay", "s"), ("s", "back", "s")])
    policy = restored(LlmPolicy(FakeModel(choose='{"index": 0}'), seed=7), history)
    taken = []
    while (action := policy.choose(screen("s"), (tap("stay"), BACK))) is not None and len(taken) < 20:
        taken.append(action.action_id)
        policy.observe(screen("s"), action, screen("s"))
    assert taken == ["tap:id/stay"] * MAX_DETOURS + ["back"] * MAX_BACK_FALLBACKS


def test_when_the_crawl_is_done_the_model_is_not_asked():
    history = hub_explored()
    history.offered["a"] = {"back"}  # nothing untried anywhere
    model = FakeModel(choose='{"index": 0}')
    policy = restored(LlmPolicy(model, seed=7), history)
    assert policy.choose(screen("hub"), HUB_ACTIONS) is None
    assert policy.is_explored()
    assert model.requests == [] and policy.take_calls() == []


# fallbacks

FAILED = {reason: ModelReply(content=None, model="fake-270m", latency_ms=5.0, failure=reason)
          for reason in ("timeout", "http_error", "refused")}
INVALID = {"garbage": "I think you should tap a", "out of range": '{"index": 3}', "negative": '{"index": -1}',
           "not an integer": '{"index": "1"}', "wrong key": '{"order": [1]}', "a list": "[1]",
           "bool": '{"index": true}'}


@pytest.mark.parametrize("reason", sorted(FAILED))
def test_a_failed_request_falls_back_to_the_crawls_choice(reason):
    model = FakeModel(choose=FAILED[reason])
    policy = restored(LlmPolicy(model, seed=7))
    assert policy.choose(screen("hub"), HUB_ACTIONS) == dfs_choice_on_hub()
    assert policy.take_calls() == [LlmCall(purpose="choose", model="fake-270m", prompt_tokens=0, completion_tokens=0,
                                           latency_ms=5.0, cached=False, outcome="fallback", reason=reason)]


@pytest.mark.parametrize("content", INVALID.values(), ids=INVALID.keys())
def test_an_invalid_answer_falls_back_to_the_crawls_choice(content):
    policy = restored(LlmPolicy(FakeModel(choose=content), seed=7))
    assert policy.choose(screen("hub"), HUB_ACTIONS) == dfs_choice_on_hub()
    [call] = policy.take_calls()
    assert (call.outcome, call.reason, call.cached, call.prompt_tokens) == ("fallback", "invalid_answer", False, 120)


def test_an_invalid_answer_is_not_cached():
    model = FakeModel(choose="no")
    policy = restored(LlmPolicy(model, seed=7))
    policy.choose(screen("hub"), HUB_ACTIONS)
    policy.choose(screen("hub"), HUB_ACTIONS)
    assert len(model.requests) == 2


def test_a_spent_budget_falls_back_without_a_request():
    model = FakeModel(choose='{"index": 1}')
    policy = restored(LlmPolicy(model, seed=7, max_calls=0))
    assert policy.choose(screen("hub"), HUB_ACTIONS) == dfs_choice_on_hub()
    assert model.requests == []
    assert policy.take_calls() == [LlmCall(purpose="choose", model="", prompt_tokens=0, completion_tokens=0,
                                           latency_ms=0.0, cached=False, outcome="fallback", reason="budget")]


@pytest.mark.parametrize("calls_made, requests", [(0, 2), (1, 1), (2, 0), (5, 0)])
def test_a_resumed_runs_earlier_requests_count_toward_the_budget(calls_made, requests):
    model = FakeModel(goal="nope")  # invalid: nothing cached, every screen asks
    policy = LlmPolicy(model, seed=7, goal="open settings", max_calls=2, calls_made=calls_made)
    for name in ("one", "two", "three"):
        assert policy.goal_reached(screen(name)) is None
    assert len(model.requests) == requests
    reasons = [call.reason for call in policy.take_calls()]
    assert reasons == ["invalid_answer"] * requests + ["budget"] * (3 - requests)


def test_a_model_that_always_fails_walks_exactly_as_the_crawl():
    def walk(policy):
        return explore(policy, FakeApp(NOTES_APP, "login", gated=GATED), max_steps=300)

    model = FakeModel(rank=FAILED["timeout"], choose=FAILED["http_error"])
    assert walk(LlmPolicy(model, seed=7)) == walk(DepthFirstPolicy(seed=7))
    assert {"rank", "choose"} <= set(model.purposes())  # both were asked, and both fell back


# cache


def test_a_cached_answer_costs_no_request_and_no_budget():
    model = FakeModel(choose='{"index": 2}')  # back: out of the app, and the app relaunches on the hub
    policy = restored(LlmPolicy(model, seed=7, max_calls=1))
    for _ in range(2):
        assert policy.choose(screen("hub"), HUB_ACTIONS) == BACK
        policy.observe(screen("hub"), BACK, Screen(OUTSIDE, ".launcher", LAUNCHER, ()))
    first, second = policy.take_calls()
    assert len(model.requests) == 1
    assert (first.cached, first.outcome) == (False, "chosen")
    assert second == LlmCall(purpose="choose", model="fake-270m", prompt_tokens=0, completion_tokens=0,
                             latency_ms=0.0, cached=True, outcome="chosen", reason=None)
    # The one request of the budget was the first: a new question now finds it spent.
    policy.choose(screen("hub"), (tap("a"), tap("b"), tap("new"), BACK))
    assert len(model.requests) == 1


def test_the_cache_tells_questions_apart_by_screen_and_listed_actions():
    model = FakeModel(choose='{"index": 0}')
    history = hub_explored()
    history.offered["twin"] = set(history.offered["hub"])
    history.tried += [("twin", aid) for aid in history.offered["twin"]]
    policy = restored(LlmPolicy(model, seed=7), history)
    policy.choose(screen("hub"), HUB_ACTIONS)
    policy.choose(screen("twin"), HUB_ACTIONS)
    policy.choose(screen("hub"), (tap("a"), BACK))
    assert len(model.requests) == 3


def test_the_models_picks_that_find_nothing_new_give_way_to_the_crawl():
    # The model shuttles between two explored screens (tap b, then back), the crawl would go to a.
    model = FakeModel(choose=lambda request: '{"index": 1}' if "Screen: .hub" in request.prompt else '{"index": 0}')
    policy = restored(LlmPolicy(model, seed=7))
    moves = {"hub": {"tap:id/a": "a", "tap:id/b": "b", "back": OUTSIDE}, "b": {"back": "hub"}}
    here, taken = "hub", []
    while here != "a":
        action = policy.choose(screen(here), HUB_ACTIONS if here == "hub" else (BACK,))
        taken.append(f"{here}>{action.action_id}")
        policy.observe(screen(here), action, screen(moves[here][action.action_id]))
        here = moves[here][action.action_id]
        assert len(taken) < 10, taken
    assert taken == ["hub>tap:id/b", "b>back", "hub>tap:id/b", "b>back", "hub>tap:id/a"]
    assert MAX_DETOURS == 3  # the model's three picks, then the crawl's way back and on to a
    calls = policy.take_calls()
    assert [(call.cached, call.outcome) for call in calls] == [(False, "chosen"), (False, "chosen"), (True, "chosen")]


# goal


@pytest.mark.parametrize("content, verdict", [('{"reached": true}', True), ('{"reached": false}', False),
                                              ('{"reached": "yes"}', None), ("true", None)])
def test_goal_reached_is_the_models_verdict(content, verdict):
    model = FakeModel(goal=content)
    policy = LlmPolicy(model, seed=7, goal='Open the product page of "Product 2"')
    product = parse_screen(product_page("Product 2", "$2.99"), activity=".ProductActivity")
    assert policy.goal_reached(product) is verdict
    [call] = policy.take_calls()
    assert (call.purpose, call.goal_reached, call.outcome) == ("goal", verdict,
                                                               "fallback" if verdict is None else "chosen")
    assert call.reason == (None if verdict is not None else "invalid_answer")
    [request] = model.requests
    assert request.prompt.splitlines() == ["Screen: .ProductActivity", "Shows: Product 2 | $2.99 | Buy now",
                                           'Goal: Open the product page of "Product 2"',
                                           GOAL_ASK]
    assert request.schema["properties"] == {"reached": {"type": "boolean"}} and request.max_tokens == WHITESPACE_TOKENS + 16


def test_a_judged_screen_is_not_asked_again():
    model = FakeModel(goal='{"reached": false}')
    policy = LlmPolicy(model, seed=7, goal="open settings")
    assert [policy.goal_reached(screen("s")) for _ in range(2)] == [False, False]
    assert len(model.requests) == 1
    assert [call.cached for call in policy.take_calls()] == [False, True]


def test_without_a_goal_nothing_is_judged():
    model = FakeModel(goal='{"reached": true}')
    policy = LlmPolicy(model, seed=7, goal="  ")
    assert policy.goal_reached(screen("s")) is None
    assert model.requests == [] and policy.take_calls() == []


def test_the_goal_question_leaves_password_fields_out():
    model = FakeModel(goal='{"reached": false}')
    login = parse_screen(login_page(username="alice", password="secret", error="Wrong password"), activity=".Login")
    LlmPolicy(model, goal="sign in").goal_reached(login)
    shows = model.requests[0].prompt.splitlines()[1]
    assert "alice" in shows and "Wrong password" in shows and "•" not in shows


# restore


def test_restore_rebuilds_as_the_crawl_does_and_asks_again():
    events = []
    assert not Agent(new_app(), events).explore(12)  # a run paused after 12 steps
    history = ExplorationHistory.from_events(events)
    dfs = restored(DepthFirstPolicy(seed=7), history)
    llm = restored(LlmPolicy(FakeModel(), seed=7, max_calls=0), history)  # every question falls back
    assert llm.is_explored() == dfs.is_explored() is False
    walk = explore(llm, new_app(), max_steps=300)
    assert walk == explore(dfs, new_app(), max_steps=300)
    assert walk[2] and llm.is_explored()


def test_restore_empties_the_cache():
    model = FakeModel(choose='{"index": 1}')
    policy = restored(LlmPolicy(model, seed=7))
    policy.choose(screen("hub"), HUB_ACTIONS)
    restored(policy)
    policy.choose(screen("hub"), HUB_ACTIONS)
    assert [call.cached for call in policy.take_calls()] == [False, False]
    assert len(model.requests) == 2


# termination and size


def always(request: Request) -> str:
    """Index 0 for every question, in the shape the question wants."""
    return json.dumps({"rank": {"order": [0]}, "choose": {"index": 0}, "goal": {"reached": False}}[request.purpose])


@pytest.mark.parametrize("model", [FakeModel(rank=always, choose=always), FakeModel(rank='{"index": 0}',
                                                                                      choose='{"index": 0}')],
                         ids=["shaped", "index 0 for everything"])
def test_an_exploration_with_a_model_that_always_answers_0_ends_explored(model):
    policy = LlmPolicy(model, seed=7)
    visited, taken, stopped = explore(policy, FakeApp(NOTES_APP, "login", gated=GATED), max_steps=400)
    assert stopped and policy.is_explored()
    assert set(visited) == REACHABLE
    assert "choose" in model.purposes()


def test_the_shop_from_page_source_is_explored_with_the_model_steering():
    app, policy = ShopApp(), LlmPolicy(FakeModel(rank=always, choose=always, goal=always), seed=7,
                                       goal='Open "Product 2"')
    inputs = {"Username": "alice", "password": "secret"}
    activities = set()
    for _ in range(300):
        if not app.stack:
            app.__init__()
        before = perceive(app)
        activities.add(before.activity)
        policy.goal_reached(before)
        action = policy.choose(before, enumerate_actions(before, inputs))
        if action is None:
            break
        app.perform(action)
        policy.observe(before, action, perceive(app))
    else:
        raise AssertionError("the run never ended")
    assert {".LoginActivity", ".CatalogActivity", ".ProductActivity"} <= activities
    assert {call.purpose for call in policy.take_calls()} == {"rank", "choose", "goal"}


@pytest.mark.parametrize("page, activity", [(login_page(), ".LoginActivity"), (catalog_page(48), ".CatalogActivity")])
def test_prompts_stay_short_on_sample_screens(page, activity):
    model = FakeModel(rank='{"order": [0]}', choose='{"index": 0}')
    policy = LlmPolicy(model, seed=7, goal='Open the product page of "Product 2" from the catalog')
    shown = parse_screen(page, activity=activity)
    actions = enumerate_actions(shown, {"Username": "alice"})
    action = policy.choose(shown, actions)
    for _ in range(4):
        policy.observe(shown, action, shown)
    [request] = model.requests
    text = "".join(message["content"] for message in request.messages)
    assert len(text) <= MAX_PROMPT_CHARS  # ~300 tokens at ~3 characters a token
    assert len(request.schema["properties"]["order"]["items"]["enum"]) <= MAX_LISTED


def test_long_labels_list_fewer_actions_and_the_rest_keep_the_crawl_order():
    actions = tuple(tap(f"a rather long button label number {i:02d}") for i in range(30)) + (BACK,)
    model = FakeModel(rank='{"order": [1]}')
    policy = LlmPolicy(model, seed=7, goal="x" * 300)
    assert policy.choose(screen("s"), actions) == actions[1]
    [request] = model.requests
    listed = len(request.schema["properties"]["order"]["items"]["enum"])
    assert 2 <= listed < MAX_LISTED
    assert len("".join(message["content"] for message in request.messages)) <= MAX_PROMPT_CHARS
    policy.observe(screen("s"), actions[1], screen("s"))
    assert policy.choose(screen("s"), actions) == actions[0]


def test_the_llm_policy_implements_the_protocol():
    assert isinstance(LlmPolicy(FakeModel()), ExplorationPolicy)
