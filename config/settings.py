"""All configuration, read from the environment once per process (the only reader of os.environ)."""

from __future__ import annotations

import os
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.worker_settings import WorkerSettings

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    database_url: str | None = Field(None, description="External PostgreSQL; embedded when unset")
    data_dir: Path = Field(REPO_ROOT / ".data", description="Embedded PostgreSQL data and run artifacts")
    ray_address: str | None = Field(None, description="Existing Ray cluster; local when unset")
    ray_namespace: str = "runservice"
    ray_dashboard_port: int = 8265
    host: str = "127.0.0.1"
    port: int = 8000
    appium_port: int = 4723
    appium_url: str | None = Field(None, description="Appium server of the device actors; local simulator when unset")
    devices: int = Field(2, ge=0, le=64, description="Device actors on the Appium server (when DEVICE_UDIDS is unset)")
    device_udids: str = Field("", description="Comma-separated udids of real devices: one actor each")
    automation_name: str = Field("Simulator", description="Appium driver: Simulator, or UiAutomator2 for real devices")
    appium_timeout_seconds: float = Field(30.0, gt=0, description="Client timeout of one Appium command")
    appium_session_timeout_seconds: float = Field(
        180.0, gt=0, description="Client timeout of creating a session: a real device installs the app and "
        "UiAutomator2's server first, and one server creating many sessions at once answers each later")
    lease_seconds: float = Field(30.0, gt=0)
    heartbeat_seconds: float = Field(5.0, gt=0)
    max_attempts: int = Field(3, ge=1, description="Workers a run may lose before it fails with worker_lost")
    run_timeout_seconds: float = Field(900.0, gt=0, description="Wall-clock limit of one run")
    no_progress_steps: int = Field(30, ge=1, description="Steps without a new screen or transition before stopping")
    stream_keepalive_seconds: float = Field(15.0, gt=0)
    app_roots: Annotated[tuple[Path, ...], NoDecode] = Field(
        (REPO_ROOT / "apps",), description="Directories a run's apkPath must lie under (os.pathsep or comma separated)")
    appium_servers: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Appium servers runs may name (comma separated); the device actors' server when empty")
    api_keys: str = Field("", description="key=tenant[/project],...: Bearer keys and their tenants; none = local mode")
    log_level: str = "INFO"
    reproduce_attempts: int = Field(2, ge=0, le=10, description="Replays of each crash and ANR after exploring")
    settle_seconds: float = Field(3.0, ge=0, description="Longest wait for a page source to stop changing")
    loading_seconds: float = Field(10.0, ge=0, description="Longest wait for a screen that shows only a progress bar")
    idle_timeout_ms: int = Field(500, ge=0, description="UiAutomator2's waitForIdleTimeout, set at session start")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint of the llm policy, with /v1; "
                                     "the llm policy is refused while unset")
    llm_model: str | None = Field(None, description="Model to ask; the server's first model when unset")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key of the model server (never logged)")
    llm_timeout_seconds: float = Field(10.0, gt=0, description="Limit of one model request; then dfs decides")
    llm_max_calls_per_run: int = Field(200, ge=0, description="Model requests a run may send (cached answers are free)")

    @field_validator("app_roots", mode="before")
    @classmethod
    def split_paths(cls, value: object) -> object:
        return _split(value.replace(os.pathsep, ",")) if isinstance(value, str) else value

    @field_validator("appium_servers", mode="before")
    @classmethod
    def split_urls(cls, value: object) -> object:
        return _split(value) if isinstance(value, str) else value

    @property
    def registered_servers(self) -> tuple[str, ...]:
        return tuple(url.rstrip("/") for url in self.appium_servers or (self.device_server_url,))

    def tenants_by_key(self) -> dict[str, tuple[str, str]]:
        """API key -> (tenant, project); empty in local mode."""
        keys = {}
        for entry in filter(None, (e.strip() for e in self.api_keys.split(","))):
            key, _, owner = entry.partition("=")
            tenant, _, project = owner.partition("/")
            if not key or not tenant:
                raise ValueError("API_KEYS entries are key=tenant or key=tenant/project")
            keys[key] = (tenant, project or "default")
        return keys

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def device_server_url(self) -> str:
        return self.appium_url or f"http://127.0.0.1:{self.appium_port}"

    def device_caps(self) -> list[dict[str, str]]:
        """Capabilities of each device actor's sessions, one entry per device; every device has a udid
        (simulated ones are sim-0, sim-1, ...), which names the Ray resource that places its actor."""
        return [{"appium:automationName": self.automation_name, "appium:udid": udid} for udid in self.udids]

    @property
    def udids(self) -> list[str]:
        real = [u.strip() for u in self.device_udids.split(",") if u.strip()]
        return real or [f"sim-{i}" for i in range(self.devices)]

    def device_resources(self) -> dict[str, float]:
        """What a local Ray declares so that it can place every device actor of these settings."""
        return {f"device_{udid}": 1 for udid in self.udids}

    def worker_settings(self) -> WorkerSettings:
        """The part a device worker needs, without pydantic (config/worker_settings.py)."""
        if self.database_url is None:
            raise ValueError("a worker needs a database_url (the launcher sets it once PostgreSQL is up)")
        values = {f.name: getattr(self, f.name) for f in fields(WorkerSettings)}
        key = self.llm_api_key
        return WorkerSettings(**{**values, "llm_api_key": key.get_secret_value() if key else None})

    @property
    def embedded_database_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    return Settings()
