"""What a device worker needs of the settings, as a plain dataclass: a device actor's process then needs
no pydantic, which config/ray_workers.py keeps out of it (about 8 MiB a process)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerSettings:
    """Copied from a validated `config.settings.Settings` (`Settings.worker_settings()`)."""

    database_url: str
    ray_namespace: str
    log_level: str
    lease_seconds: float
    heartbeat_seconds: float
    max_attempts: int
    run_timeout_seconds: float
    no_progress_steps: int
    appium_timeout_seconds: float
    appium_session_timeout_seconds: float
