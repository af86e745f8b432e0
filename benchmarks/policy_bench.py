"""The llm policy's part of exploration_bench.py: the real local model, what it answered, and its calls.

exploration_bench.py imports this and uses it when `--policies` names `llm`:

- `start_model_server`: scripts/llm_server.py (Gemma 3 270M on llama.cpp, what `make llm` runs) as a
  subprocess on a free port, ready once GET /v1/models lists a model; stopped with the bench's other
  processes;
- `ModelAnswers`: a wrapper, in the bench process only, around the model client's `complete`: its time
  (the "model" column of the step times) and each reply's text, to compare with the example answer that
  every question ends with;
- `report`: per app, from the runs' `agent.llm.called` events and `run.completed` metrics: requests,
  tokens, latency by purpose (p50/p95 of `latencyMs`), fallbacks and their reasons, the cached share;
  then what the model answered, by purpose.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_common import free_port, pct, table, wait_until
import launcher
from adapters.llm_client import OpenAIChatModel
from domain.exploration import llm_questions

REPO = Path(__file__).resolve().parent.parent
MODEL_START_SECONDS = 180.0  # the first start joins the 250 MB GGUF from its chunk packages
SEES_GOAL = {"llm"}  # policies whose path depends on the goal (it is in their questions)
PURPOSES = ("rank", "choose", "goal")
PURPOSE_OF_KEY = {"order": "rank", "index": "choose", "reached": "goal"}  # the answer schema's one key
# The example answer each question ends with ('... Answer like {"index": 0}').
EXAMPLES = {purpose: json.loads(ask[ask.index("{"):]) for purpose, ask in
            (("rank", llm_questions.RANK_ASK), ("choose", llm_questions.CHOOSE_ASK), ("goal", llm_questions.GOAL_ASK))}


def start_model_server(stack: ExitStack) -> str:
    """Base URL (with /v1) of the local model server, stopped when `stack` closes."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    log = stack.enter_context(tempfile.TemporaryFile())
    print(f"starting the model server (scripts/llm_server.py) on {url} ...", flush=True)
    process = subprocess.Popen([sys.executable, str(REPO / "scripts" / "llm_server.py"), "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    stack.callback(launcher.stop_process_group, process)
    wait_until(lambda: process.poll() is not None or serves_models(url), MODEL_START_SECONDS, "the model server")
    if process.poll() is not None:
        log.seek(0)
        raise RuntimeError(f"the model server exited ({process.returncode}):\n{log.read().decode()[-2000:]}")
    return url


def serves_models(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
            return bool(json.load(response).get("data"))
    except (OSError, ValueError):
        return False


class ModelAnswers:
    """Every reply of the model client in this process, with its purpose; the clock times the calls."""

    def __init__(self, clock: Any) -> None:
        self.replies: list[tuple[str, Any, int]] = []
        original = OpenAIChatModel.complete

        @functools.wraps(original)
        def complete(model: Any, messages: list, schema: dict[str, Any], max_tokens: int) -> Any:
            reply = original(model, messages, schema, max_tokens)
            self.replies.append((PURPOSE_OF_KEY[schema["required"][0]], reply, max_tokens))
            return reply

        OpenAIChatModel.complete = complete
        clock._restore.append(lambda: setattr(OpenAIChatModel, "complete", original))
        clock.wrap(OpenAIChatModel, "complete", "model")

    def take(self) -> list[tuple[str, Any, int]]:
        """(purpose, ModelReply, max_tokens) of every request since the last take."""
        replies, self.replies = self.replies, []
        return replies


def latency_cell(calls: list[dict[str, Any]], purpose: str) -> str:
    """p50/p95 ms of the requests sent for `purpose` (cached answers and a spent budget send none)."""
    sent = [c["latencyMs"] for c in calls if c["purpose"] == purpose and not c["cached"] and c["reason"] != "budget"]
    return f"{pct(sent, 50):.0f}/{pct(sent, 95):.0f} ({len(sent)})" if sent else "-"


def per_run(runs: list[Any], key: str) -> str:
    return f"{sum(r.metrics.get(key, 0) for r in runs) / len(runs):.1f}"


def calls_row(label: str, runs: list[Any]) -> list[str]:
    calls = [c for r in runs for c in r.llm_calls]
    fallbacks = Counter(c["reason"] for c in calls if c["outcome"] == "fallback")
    share = (lambda n: f"{n / len(calls):.0%}") if calls else (lambda n: "-")
    return [label, str(len(runs)), per_run(runs, "llmCalls"), per_run(runs, "promptTokens"),
            per_run(runs, "completionTokens"), *[latency_cell(calls, p) for p in PURPOSES],
            str(len(calls)), share(sum(fallbacks.values())),
            ", ".join(f"{reason} {n}" for reason, n in fallbacks.most_common()) or "-",
            share(sum(c["cached"] for c in calls))]


def answer_cells(replies: list[tuple[Any, int]], purpose: str) -> list[str]:
    """Requests, faults, answers that are no JSON object (and of those, how many ran to max_tokens), and
    how many JSON answers are the prompt's example (or, for a ranking, keep the listed order: the crawl's)."""
    answered = [(r, limit) for r, limit in replies if not r.failure]
    read = [(llm_questions._json_object(r.content), r.completion_tokens >= limit) for r, limit in answered]
    objects = [d for d, _ in read if d is not None]
    cut = sum(at_limit for d, at_limit in read if d is None)
    example = sum(d == EXAMPLES[purpose] for d in objects)
    orders = [d.get("order") for d in objects if purpose == "rank"]
    same_order = sum(order == list(range(len(order))) for order in orders if isinstance(order, list))
    common = ", ".join(f"{text} x{n}" for text, n in
                       Counter(json.dumps(d, sort_keys=True) for d in objects).most_common(3))
    return [purpose, str(len(replies)), str(len(replies) - len(answered)), f"{len(answered) - len(objects)} ({cut})",
            str(len(objects)),
            f"{example}" + (f" ({example / len(objects):.0%})" if objects else ""),
            str(same_order) if purpose == "rank" else "-", common or "-"]


def report(results: list[Any], apps: tuple[Any, ...]) -> None:
    mine = [r for r in results if r.policy == "llm"]
    if not mine:
        return
    rows = []
    for app in apps:
        for goal in (False, True):
            runs = [r for r in mine if r.app == app.name and r.goal == goal]
            if runs:
                rows.append(calls_row(f"{app.name} {'goal runs' if goal else 'coverage'}", runs))
    rows.append(calls_row("all", mine))
    table("The llm policy's model (per run: requests sent, tokens; latency ms p50/p95 (requests) by purpose;"
          " shares of all uses, cached ones included)",
          ["app runs", "runs", "requests/run", "prompt tok/run", "completion tok/run", "rank ms", "choose ms",
           "goal ms", "uses", "fallback", "fallback reasons", "cached"], rows)
    report_answers([reply for r in mine for reply in r.replies])


def report_answers(replies: list[tuple[str, Any, int]]) -> None:
    table("What the model answered (requests of all llm runs; examples: "
          + ", ".join(f"{p} {json.dumps(EXAMPLES[p])}" for p in PURPOSES) + ")",
          ["purpose", "requests", "faults", "no JSON object (at max_tokens)", "JSON objects", "= the example",
           "keeps listed order", "most common"],
          [answer_cells([(reply, n) for p, reply, n in replies if p == purpose], purpose) for purpose in PURPOSES])
    answered = [reply for _, reply, _ in replies if not reply.failure]
    if answered:
        tokens = [reply.completion_tokens for reply in answered]
        print(f"  completion tokens per answer: mean {sum(tokens) / len(tokens):.1f}, max {max(tokens)}")
    unreadable = [reply.content for reply in answered if llm_questions._json_object(reply.content) is None]
    if unreadable:
        print(f"  an answer that is no JSON object: {unreadable[0]!r}")
