"""Who may do what: API keys map to tenants, and runs may only name registered
Appium servers and app files under the configured roots (an .apk that its manifest agrees with)."""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from agent.policies import policy_problem
from api.apk_manifest import ApkManifest, ManifestCache, is_apk
from api.app_model_version import is_app_model, model_version
from config.settings import Settings

LOCAL = ("local", "default")


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    project_id: str


class Access:
    def __init__(self, settings: Settings) -> None:
        self.keys = settings.tenants_by_key()
        self.roots = tuple(os.path.normpath(root) for root in settings.app_roots)
        self.real_roots = tuple(os.path.realpath(root) for root in self.roots)  # where they lead, if symlinks
        self.servers = frozenset(settings.registered_servers)
        self.llm_configured = bool(settings.llm_base_url)
        self.manifests = ManifestCache()  # this replica's: each APK read once

    @property
    def local_mode(self) -> bool:
        return not self.keys

    def caller(self, request: Request) -> Caller:
        """Local mode: everyone is the local tenant. Otherwise a valid Bearer key is required."""
        if self.local_mode:
            return Caller(*LOCAL)
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        owner = next((self.keys[k] for k in self.keys if scheme.lower() == "bearer" and hmac.compare_digest(k, key)), None)
        if owner is None:
            raise HTTPException(401, "missing or invalid API key: send Authorization: Bearer <key>")
        return Caller(*owner)

    def problems(self, apk_path: str, appium_server_url: str, policy: str = "dfs") -> list[dict[str, str]]:
        """What a run may not name, one problem per field."""
        found = []
        if problem := policy_problem(policy, self.llm_configured):
            found.append({"field": "policy", "problem": problem})
        if not self._under_roots(apk_path):
            found.append({"field": "apkPath", "problem": "must be an absolute path under the configured app roots "
                          f"({', '.join(map(str, self.roots))})"})
        if appium_server_url.rstrip("/") not in self.servers:
            found.append({"field": "appiumServerUrl", "problem": "must be a registered device server "
                          f"({', '.join(sorted(self.servers))})"})
        return found

    def apk_problems(self, apk_path: str, package_name: str | None, app_activity: str | None
                     ) -> tuple[ApkManifest | None, list[dict[str, str]]]:
        """An .apk a run may name (under the roots: no other file is read): its manifest, and what the start
        gets wrong about it. Reads the file (cached by path, mtime and size): call it off the event loop."""
        if not is_apk(apk_path) or not self._under_roots(apk_path):
            return None, []
        return self.manifests.check(apk_path, package_name, app_activity)

    def app_model_version(self, apk_path: str) -> dict[str, Any] | None:
        """An app model's version, for a run naming one under the roots (no other file is read). Reads the
        file (cached by path, mtime and size): call it off the event loop."""
        if not is_app_model(apk_path) or not self._under_roots(apk_path):
            return None
        return model_version(apk_path)

    def _under_roots(self, apk_path: str) -> bool:
        """The path as written is under a root, and where it leads (symlinks resolved: one must not lead out)
        is under where a root leads. String work (os.path), not pathlib: this runs for every run started."""
        return (apk_path.startswith("/") and "\0" not in apk_path  # no file has a NUL in its name (realpath raises)
                and any(_within(os.path.normpath(apk_path), root) for root in self.roots)
                and any(_within(os.path.realpath(apk_path), root) for root in self.real_roots))


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")
