"""Which app files and Appium servers a run may name, and which API keys are callers."""

from __future__ import annotations

import os

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from api.access import Access
from config.settings import Settings


def access(tmp_path, **settings) -> Access:
    return Access(Settings(app_roots=(tmp_path / "apps",), appium_servers=("http://127.0.0.1:4723",), **settings))


def request_with(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "headers": raw})


def fields(problems: list[dict[str, str]]) -> list[str]:
    return [p["field"] for p in problems]


def test_app_files_under_the_roots_and_registered_servers_are_allowed(tmp_path):
    assert access(tmp_path).problems(str(tmp_path / "apps" / "a.json"), "http://127.0.0.1:4723/") == []


@pytest.mark.parametrize("apk", ["/etc/passwd", "apps/a.json", "{root}/apps/../secret.json", "{root}/apps-evil/a.json"])
def test_app_files_outside_the_roots_are_refused(tmp_path, apk):
    problems = access(tmp_path).problems(apk.format(root=tmp_path), "http://127.0.0.1:4723")
    assert fields(problems) == ["apkPath"] and "app roots" in problems[0]["problem"]


def test_a_symlink_under_the_roots_leading_out_is_refused(tmp_path):
    (tmp_path / "apps").mkdir()
    (tmp_path / "secret.json").write_text("{}")
    os.symlink(tmp_path / "secret.json", tmp_path / "apps" / "link.json")
    assert fields(access(tmp_path).problems(str(tmp_path / "apps" / "link.json"), "http://127.0.0.1:4723")) == ["apkPath"]


def test_app_files_under_a_root_that_is_a_symlink_are_allowed(tmp_path):
    (tmp_path / "real-apps").mkdir()
    (tmp_path / "real-apps" / "a.json").write_text("{}")
    os.symlink(tmp_path / "real-apps", tmp_path / "apps")
    checks = access(tmp_path)
    assert checks.problems(str(tmp_path / "apps" / "a.json"), "http://127.0.0.1:4723") == []
    assert fields(checks.problems(str(tmp_path / "real-apps" / "a.json"), "http://127.0.0.1:4723")) == ["apkPath"]


def test_unregistered_servers_are_refused_and_both_problems_are_named(tmp_path):
    problems = access(tmp_path).problems("/etc/passwd", "http://169.254.169.254")
    assert fields(problems) == ["apkPath", "appiumServerUrl"] and "registered" in problems[1]["problem"]


def test_local_mode_has_one_tenant_and_needs_no_key(tmp_path):
    local = access(tmp_path)
    assert local.local_mode and local.caller(request_with({})).tenant_id == "local"


def test_keys_map_to_tenants_and_projects(tmp_path):
    keyed = access(tmp_path, api_keys="k1=acme/web, k2=globex")
    assert not keyed.local_mode
    assert keyed.caller(request_with({"Authorization": "Bearer k1"})).__dict__ == {"tenant_id": "acme", "project_id": "web"}
    assert keyed.caller(request_with({"Authorization": "bearer k2"})).project_id == "default"


@pytest.mark.parametrize("header", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "k1"}, {"Authorization": "Basic k1"}])
def test_missing_or_wrong_keys_are_unauthenticated(tmp_path, header):
    with pytest.raises(HTTPException) as refused:
        access(tmp_path, api_keys="k1=acme").caller(request_with(header))
    assert refused.value.status_code == 401


def test_malformed_key_settings_are_refused():
    with pytest.raises(ValueError):
        Settings(api_keys="=acme").tenants_by_key()


def test_a_policy_must_be_installed_and_llm_needs_a_model_server(tmp_path):
    app, server = str(tmp_path / "apps" / "a.json"), "http://127.0.0.1:4723"
    without_model, with_model = access(tmp_path), access(tmp_path, llm_base_url="http://127.0.0.1:8081/v1")

    assert without_model.problems(app, server, "dfs") == [] and without_model.problems(app, server, "random") == []
    assert with_model.problems(app, server, "llm") == []
    [refused] = without_model.problems(app, server, "llm")
    assert refused["field"] == "policy" and "LLM_BASE_URL" in refused["problem"]
    [unknown] = with_model.problems(app, server, "Dfs")
    assert unknown["field"] == "policy" and "dfs, random, llm" in unknown["problem"]
