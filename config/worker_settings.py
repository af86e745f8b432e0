"""What a device worker needs of the settings, as a plain dataclass: a device actor's process then needs
no pydantic, which config/ray_workers.py keeps out of it (about 8 MiB a process)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    # The `llm` policy's model server (DESIGN.md "Policies"); the key is never shown (repr) nor logged.
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout_seconds: float = 10.0
    llm_max_calls_per_run: int = 200
    reproduce_attempts: int = 2  # replays of each crash and ANR once exploration ends (DESIGN.md "Findings")
    # DESIGN.md "Time and faults": how long a screen may take to stop changing, or to finish loading, before it
    # is taken as it is; how long UiAutomator2 waits for an idle screen before each read.
    settle_seconds: float = 3.0
    loading_seconds: float = 10.0
    idle_timeout_ms: int = 500
