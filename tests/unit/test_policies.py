"""The policy registry: built-in names, plug-ins from the entry point group, and what each name builds."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from agent import policies
from config.settings import Settings
from domain.exploration import DepthFirstPolicy, RandomPolicy

SETTINGS = Settings(database_url="postgresql://unused").worker_settings()


class NamedPolicy(RandomPolicy):
    def __init__(self, **given: object) -> None:
        super().__init__(seed=0)
        self.given = given


def make_named(**given: object) -> NamedPolicy:
    return NamedPolicy(**given)


@pytest.fixture
def plugin(monkeypatch):
    """An installed plug-in as importlib.metadata shows one, and one that tries to take a built-in name."""
    found = [EntryPoint("named", f"{__name__}:make_named", policies.ENTRY_POINT_GROUP),
             EntryPoint("dfs", f"{__name__}:make_named", policies.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(policies, "entry_points", lambda group: found if group == policies.ENTRY_POINT_GROUP else [])
    policies.installed_plugins.cache_clear()
    yield
    policies.installed_plugins.cache_clear()


def test_built_in_names_build_the_built_in_policies():
    assert isinstance(policies.build_policy("dfs", seed=1, package="a.b", goal=None, settings=SETTINGS),
                      DepthFirstPolicy)
    assert isinstance(policies.build_policy("random", seed=1, package="a.b", goal=None, settings=SETTINGS),
                      RandomPolicy)


def test_a_plugin_is_listed_and_built_with_the_runs_seed_package_goal_and_settings(plugin):
    assert policies.policy_names() == ["dfs", "random", "llm", "named"]
    built = policies.build_policy("named", seed=7, package="a.b", goal="Open it", settings=SETTINGS)

    assert isinstance(built, NamedPolicy)
    assert built.given == {"seed": 7, "package": "a.b", "goal": "Open it", "settings": SETTINGS}


def test_a_plugin_cannot_take_a_built_in_name(plugin):
    assert policies.policy_names().count("dfs") == 1
    assert isinstance(policies.build_policy("dfs", seed=0, package="a.b", goal=None, settings=SETTINGS),
                      DepthFirstPolicy)


def test_the_llm_policy_needs_a_model_server():
    assert "LLM_BASE_URL" in policies.policy_problem("llm", llm_configured=False)
    assert policies.policy_problem("llm", llm_configured=True) is None
    with pytest.raises(ValueError, match="LLM_BASE_URL"):
        policies.build_policy("llm", seed=0, package="a.b", goal=None, settings=SETTINGS)


def test_the_model_servers_key_never_shows_in_the_workers_settings():
    settings = Settings(database_url="postgresql://unused", llm_api_key="sk-secret-123").worker_settings()

    assert settings.llm_api_key == "sk-secret-123" and "sk-secret-123" not in repr(settings)
