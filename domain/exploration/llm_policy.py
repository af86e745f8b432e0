"""A policy that asks a language model, over the depth-first crawl (DESIGN.md "Policies")."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.exploration.actions import Action
from domain.exploration.history import ExplorationHistory
from domain.exploration.llm_questions import Question, choose_question, goal_question, rank_question
from domain.exploration.policy import DepthFirstPolicy
from domain.exploration.screen import Screen

RECENT_ACTIONS = 5  # the short history a question shows
# The model's picks in a row that find no new transition; then the crawl leads until one does.
MAX_DETOURS = 3


@dataclass(frozen=True)
class ModelReply:
    """What one chat-completions request gave."""

    content: str | None  # the assistant message text (JSON text expected); None when failure is set
    model: str = ""  # the model name the server reported (or was asked for)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    failure: str | None = None  # "timeout" | "http_error" | "refused" | "invalid_answer"


class ChatModel(Protocol):
    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int) -> ModelReply:
        """Never raises for a model or network fault: returns ModelReply(failure=...)."""
        ...


@dataclass(frozen=True)
class LlmCall:
    """One use of the model by the policy, for the agent.llm.called event."""

    purpose: str  # "rank" | "choose" | "goal"
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    cached: bool  # the answer came from the cache: no request was sent, no budget spent
    outcome: str  # "chosen" (the answer was used) | "fallback"
    reason: str | None  # fallback reason: timeout | http_error | refused | invalid_answer | budget
    goal_reached: bool | None = None  # for purpose "goal"


class LlmPolicy:
    """The depth-first crawl, steered by a language model (an adapter outside domain/ talks to it).

    - rank: the first time a screen shows 2+ untried actions (back aside: the crawl leaves it
      last anyway), the model orders them; the crawl then takes them in that order wherever its
      own priorities tie (fields first, toggles, scrolls and back last; taps among taps).
    - choose: where the crawl has nothing untried (it would route elsewhere or press back),
      the model picks from the numbered actions; where the crawl is done (None), so is this.
    - goal_reached: with a goal, whether a screen fulfils it.

    Every failure falls back to the crawl's own choice and is recorded with its reason. Valid
    answers are cached by (purpose, screen, the actions the question lists): asking again costs
    no request. The model's picks that find nothing new are followed at most MAX_DETOURS times
    in a row: a cached pick on screens it already explored would otherwise loop, and the run
    must still end.
    """

    def __init__(self, model: ChatModel, seed: int | None = None, package: str | None = None,
                 goal: str | None = None, max_calls: int = 200, calls_made: int = 0) -> None:
        self._model, self._goal = model, (goal or "").strip() or None
        self._dfs = DepthFirstPolicy(seed=seed, package=package)
        self._max_calls, self._sent = max_calls, calls_made  # a resumed run's requests count on
        self._model_name = ""  # as the server last reported it, for calls that send nothing
        self._cache: dict[tuple[str, str, frozenset[str]], tuple[Any, str]] = {}  # -> (answer, model)
        self._ranked: dict[str, list[str]] = {}  # screen -> its action ids in the model's order
        self._recent: deque[str] = deque(maxlen=RECENT_ACTIONS)
        self._detours = 0  # model picks in a row that found no new transition
        self._calls: list[LlmCall] = []

    def choose(self, screen: Screen, actions: Sequence[Action]) -> Action | None:
        actions = self._in_rank_order(screen, actions)
        if self._dfs.untried(screen.screen_id, actions):
            return self._dfs.choose(screen, actions)
        proposal = self._dfs.propose(screen, actions)
        if proposal is None:
            return None  # explored: nothing the model says would make the crawl go on
        picked = self._pick(screen, actions) if self._detours < MAX_DETOURS else None
        self._detours += picked is not None
        return self._dfs.take(screen, actions, picked or proposal)

    def observe(self, screen: Screen, action: Action, after: Screen) -> None:
        if (screen.screen_id, action.action_id, after.screen_id) not in self._dfs.graph.transitions:
            self._detours = 0
        self._dfs.observe(screen, action, after)
        self._recent.append(action.label or action.action_id)

    def reached_end(self, screen: Screen, action: Action) -> None:
        self._dfs.reached_end(screen, action)

    def unseen(self, screen: Screen, action: Action) -> None:
        self._dfs.unseen(screen, action)

    def is_explored(self) -> bool:
        return self._dfs.is_explored()

    def remember(self, history: ExplorationHistory, same_version: bool) -> None:
        self._dfs.remember(history, same_version)

    def restore(self, history: ExplorationHistory) -> None:
        """As the crawl restores; the model is asked afresh (the cache and the rankings start empty)."""
        self._dfs.restore(history)
        self._cache.clear()
        self._ranked.clear()
        self._recent.clear()
        self._detours = 0

    def goal_reached(self, screen: Screen) -> bool | None:
        """The model's judgement of the screen against the goal; None without a goal or an answer."""
        if self._goal is None:
            return None
        return self._ask(screen.screen_id, goal_question(screen, self._goal))

    def take_calls(self) -> list[LlmCall]:
        calls, self._calls = self._calls, []
        return calls

    def close(self) -> None:
        """Closes the model client's connections, if it has any (the agent calls this at the end)."""
        if close := getattr(self._model, "close", None):
            close()

    def _in_rank_order(self, screen: Screen, actions: Sequence[Action]) -> list[Action]:
        sid = screen.screen_id
        if sid not in self._ranked:
            rankable = [a for a in self._dfs.untried(sid, actions) if a.kind != "back"]
            if len(rankable) < 2:
                return list(actions)  # nothing to order (yet)
            question = rank_question(screen, rankable, self._goal, self._recent)
            self._ranked[sid] = self._ask(sid, question) or []  # a failed ranking is not asked again
        position = {action_id: i for i, action_id in enumerate(self._ranked[sid])}
        return sorted(actions, key=lambda a: position.get(a.action_id, len(position)))  # stable: the rest as given

    def _pick(self, screen: Screen, actions: Sequence[Action]) -> Action | None:
        question = choose_question(screen, actions, self._goal, self._recent)
        action_id = self._ask(screen.screen_id, question)
        return next((a for a in question.listed if a.action_id == action_id), None)

    def _ask(self, sid: str, question: Question) -> Any:
        """The answer (None: fall back), from the cache or one request; each use is an LlmCall."""
        key = (question.purpose, sid, frozenset(a.action_id for a in question.listed))
        if key in self._cache:
            answer, model = self._cache[key]
            self._record(question.purpose, answer, ModelReply(content=None, model=model), cached=True)
            return answer
        if self._sent >= self._max_calls:
            self._record(question.purpose, None, ModelReply(content=None, model=self._model_name), reason="budget")
            return None
        self._sent += 1
        reply = self._model.complete(question.messages, question.schema, question.max_tokens)
        self._model_name = reply.model or self._model_name
        answer = None if reply.failure else question.answer(reply.content)
        if answer is not None:
            self._cache[key] = (answer, reply.model)
        self._record(question.purpose, answer, reply, reason=reply.failure or "invalid_answer")
        return answer

    def _record(self, purpose: str, answer: Any, reply: ModelReply, cached: bool = False,
                reason: str | None = None) -> None:
        """`reason` counts only without an answer; a cached call's reply has no tokens and no latency."""
        used = answer is not None
        self._calls.append(LlmCall(
            purpose=purpose, model=reply.model, prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens, latency_ms=reply.latency_ms, cached=cached,
            outcome="chosen" if used else "fallback", reason=None if used else reason,
            goal_reached=answer if purpose == "goal" else None))
