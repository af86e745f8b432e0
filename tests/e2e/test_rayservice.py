"""deploy/rayservice.yaml, read as KubeRay reads it: its serveConfigV2 import path builds the
application on a real Ray (no Kubernetes here), with the head container's environment."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import httpx
import pytest
import ray
import yaml
from ray import serve

from config.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "deploy" / "rayservice.yaml"


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def declared_devices(group: dict) -> set[str]:
    """KubeRay passes rayStartParams.resources to `ray start --resources` as a quoted JSON string."""
    resources = json.loads(json.loads(group["rayStartParams"]["resources"]))
    assert all(value == 1 for value in resources.values())
    return {name.removeprefix("device_") for name in resources}


def test_every_device_the_head_names_has_one_worker_group_that_declares_it():
    cluster = manifest()["spec"]["rayClusterConfig"]
    head_env = {e["name"]: e.get("value") for e in cluster["headGroupSpec"]["template"]["spec"]["containers"][0]["env"]}
    udids = head_env["DEVICE_UDIDS"].split(",")
    groups = [declared_devices(group) for group in cluster["workerGroupSpecs"]]
    assert sorted(udid for group in groups for udid in group) == sorted(udids)  # each device on one host
    assert "resources" not in cluster["headGroupSpec"]["rayStartParams"]  # the head has no devices


@pytest.fixture
def rayservice_env(monkeypatch, service, database_url):
    """The head container's environment, with this test's database and a namespace of its own."""
    cluster = manifest()["spec"]["rayClusterConfig"]
    for entry in cluster["headGroupSpec"]["template"]["spec"]["containers"][0]["env"]:
        if "value" in entry:
            monkeypatch.setenv(entry["name"], entry["value"])
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RAY_NAMESPACE", "rayservice-test")
    monkeypatch.setenv("HOST", service.settings.host)
    load_settings.cache_clear()
    yield load_settings()
    load_settings.cache_clear()


def test_the_serve_config_import_path_builds_the_application(rayservice_env, service):
    config = yaml.safe_load(manifest()["spec"]["serveConfigV2"])
    application = config["applications"][0]
    module_name, attribute = application["import_path"].split(":")
    sys.modules.pop(module_name, None)
    app = getattr(importlib.import_module(module_name), attribute)
    try:
        serve.run(app, name="rayservice", route_prefix="/rayservice")
        health = httpx.get(f"{service.api_url}/rayservice/health", timeout=30)
        assert health.status_code == 200, health.text
        # the manifest's phones are on hosts this machine is not: their actors wait, the API serves
        assert health.json()["details"]["waiting"] == rayservice_env.udids
        assert httpx.get(f"{service.api_url}/rayservice/runs", timeout=30).json()["runs"] == []
    finally:
        serve.delete("rayservice")
        for name in ["job-queue", *(f"device-{udid}" for udid in rayservice_env.udids)]:
            ray.kill(ray.get_actor(name, namespace="rayservice-test"), no_restart=True)
