"""Structured JSON logs with `module`, `actor`, `runId`, `status`, `stopReason` where they apply,
so `module:"run" AND actor:"start" AND runId:X` finds a request."""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

# LogRecord already has a `module` attribute (the Python module), so ours travels as `service_module`.
_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(_FORMAT, rename_fields={"service_module": "module", "levelname": "level"}))
    root = logging.getLogger("runservice")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class ContextLogger(logging.LoggerAdapter):
    def process(self, msg: str, kwargs: Any) -> tuple[str, Any]:
        fields = {**self.extra, **kwargs.pop("extra", {}), **kwargs.pop("fields", {})}
        return msg, {**kwargs, "extra": fields}

    def with_fields(self, **fields: Any) -> "ContextLogger":
        return ContextLogger(self.logger, {**self.extra, **fields})


def logger_for(module: str, actor: str) -> ContextLogger:
    """A logger whose lines carry `module` and `actor`; pass `extra={"runId": ...}` per line."""
    return ContextLogger(logging.getLogger(f"runservice.{module}.{actor}"), {"service_module": module, "actor": actor})
