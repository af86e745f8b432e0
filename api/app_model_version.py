"""The version an app model declares (APP_MODEL.md: `versionCode`, `versionName`), read when a run names it,
as an APK's is read from its manifest: the app's map tells its runs apart by version (DESIGN.md "Memory
across runs"). A file that is no readable model has no version here; the simulator says why when the run
opens its session, as before.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

MAX_MODEL_BYTES = 32 * 1024 * 1024  # recorded apps run to a few MB; a bigger file is not read for two fields


def is_app_model(path: str) -> bool:
    return path.lower().endswith(".json")


def model_version(path: str) -> dict[str, Any] | None:
    """{"versionCode", "versionName"} of the model at `path` (cached by mtime and size); None if it has none."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    if stat.st_size > MAX_MODEL_BYTES:
        return None
    return _read(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _read(path: str, mtime_ns: int, size: int) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as file:
            model = json.load(file)
    except (OSError, ValueError):
        return None
    if not isinstance(model, dict):
        return None
    code, name = model.get("versionCode"), model.get("versionName")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    name = name if isinstance(name, str) and name else None
    return None if code is None and name is None else {"versionCode": code, "versionName": name}
