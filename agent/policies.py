"""Which exploration policy a run uses: the built-in ones and those installed as plug-ins.

A plug-in is a Python package with an entry point in the group `runservice.policies`: a
factory called once per run as `factory(seed=..., package=..., goal=..., settings=...)` (the
worker's `WorkerSettings`) that returns an object with the `ExplorationPolicy` protocol,
optionally with `goal_reached(screen) -> bool | None`. Entry points are read once per
process: a plug-in installed after the service started is known after its next start.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

from config.worker_settings import WorkerSettings
from domain.exploration import DepthFirstPolicy, ExplorationPolicy, RandomPolicy

ENTRY_POINT_GROUP = "runservice.policies"
BUILT_IN = ("dfs", "random", "llm")
DEFAULT_POLICY = "dfs"


@lru_cache(maxsize=1)
def installed_plugins() -> dict[str, EntryPoint]:
    """A plug-in cannot take a built-in name: `dfs` always means our depth-first crawl."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILT_IN}


def policy_names() -> list[str]:
    return [*BUILT_IN, *sorted(installed_plugins())]


def policy_problem(name: str, llm_configured: bool) -> str | None:
    """Why a run may not use the policy `name`, or None."""
    if name not in policy_names():
        return f"must be one of the installed policies: {', '.join(policy_names())}"
    if name == "llm" and not llm_configured:
        return "llm needs a model server: this service has no LLM_BASE_URL configured"
    return None


def build_policy(name: str, *, seed: int, package: str, goal: str | None, settings: WorkerSettings,
                 llm_calls_made: int = 0) -> ExplorationPolicy:
    """A run's policy; `llm_calls_made` are the model requests a resumed run already sent (its budget)."""
    if name == "dfs":
        return DepthFirstPolicy(seed=seed, package=package)
    if name == "random":
        return RandomPolicy(seed=seed)
    if name == "llm":
        return _llm_policy(seed, package, goal, settings, llm_calls_made)
    return installed_plugins()[name].load()(seed=seed, package=package, goal=goal, settings=settings)


def _llm_policy(seed: int, package: str, goal: str | None, settings: WorkerSettings,
                calls_made: int) -> ExplorationPolicy:
    if not settings.llm_base_url:
        raise ValueError("the llm policy needs LLM_BASE_URL")  # refused at POST /run: only a changed setting gets here
    # Imported here: only runs of the llm policy need an HTTP client in the device's process.
    from adapters.llm_client import OpenAIChatModel
    from domain.exploration.llm_policy import LlmPolicy

    model = OpenAIChatModel(settings.llm_base_url, settings.llm_model, settings.llm_api_key,
                            settings.llm_timeout_seconds)
    return LlmPolicy(model, seed=seed, package=package, goal=goal, max_calls=settings.llm_max_calls_per_run,
                     calls_made=calls_made)
