"""The real apps' material (DESIGN.md "Real apps"), read where it lies: REAL_APPS_DIR, which `make test-real`
sets (default ../shared/real-apps beside the repository). Nothing of it is copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT = Path(__file__).resolve().parents[2].parent / "shared" / "real-apps"


@pytest.fixture(scope="session")
def real_apps_dir() -> Path:
    """The material's folder; a missing one fails the test (these tests exist to run on it, not to skip)."""
    folder = Path(os.environ.get("REAL_APPS_DIR") or DEFAULT).expanduser()
    if not folder.is_dir():
        pytest.fail(f"the real apps' material is not at {folder}: set REAL_APPS_DIR to the folder that holds "
                    f"droidbot-habitica/ and uiautomator-dumps/ (`make test-real` defaults to ../shared/real-apps)",
                    pytrace=False)
    return folder
