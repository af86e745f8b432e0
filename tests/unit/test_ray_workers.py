"""What the service's worker processes load: device workers get plain WorkerSettings, and the device
actors' and the queue's processes run without pydantic and Starlette (config/ray_workers.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields

import pytest

from config.ray_workers import WITHOUT_WEB_STACK
from config.settings import REPO_ROOT, Settings


def test_worker_settings_carry_the_validated_values():
    settings = Settings(database_url="postgresql://postgres@/db?host=/tmp", lease_seconds=12, no_progress_steps=7)
    worker = settings.worker_settings()
    assert (worker.database_url, worker.lease_seconds, worker.no_progress_steps) == (settings.database_url, 12, 7)
    assert all(getattr(worker, f.name) == getattr(settings, f.name) for f in fields(worker))


def test_a_worker_needs_a_database_url():
    with pytest.raises(ValueError, match="database_url"):
        Settings(database_url=None).worker_settings()


def test_the_device_and_queue_actors_run_without_pydantic_starlette_and_tornado():
    check = ("import sys\n"
             "from config.ray_workers import setup\n"
             "setup()\n"
             "import actors.device, actors.queue\n"
             "from ray._common.pydantic_compat import PYDANTIC_INSTALLED\n"  # what Ray's serializers look for
             "print(PYDANTIC_INSTALLED, sorted(m for m in sys.modules if m and sys.modules[m] is not None\n"
             "                                  and m.split('.')[0] in ('pydantic', 'starlette', 'tornado')))")
    env = {**os.environ, **WITHOUT_WEB_STACK["env_vars"]}
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "[]"]
