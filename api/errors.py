"""Every failure answers JSON {"code", "message", "details"}: never a stack trace."""

from __future__ import annotations

import asyncio
from typing import Any

from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import InterfaceError, OperationalError
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException

from api.apk_manifest import is_apk
from api.database_gate import DatabaseUnavailable
from api.models import error_body, refused_body
from config.logging import logger_for
from domain.application import InvalidRunId
from domain.idempotency import IdempotencyConflict
from domain.run import IllegalTransition, RunNotFound

log = logger_for("run", "errors")


def error_response(status: int, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(error_body(status, message, details), status_code=status)


async def validation_failed(request: Request, error: RequestValidationError) -> JSONResponse:
    return JSONResponse(refused_body(error.errors(), await _access_problems(request, error.body)), status_code=400)


async def _access_problems(request: Request, body: Any) -> list[dict[str, str]]:
    """A body refused by the schema is also checked against the access rules (and an .apk against
    its manifest), so one answer names every invalid field (refused_body keeps those the schema does not name)."""
    access = getattr(request.app.state, "access", None)
    if access is None or not isinstance(body, dict):
        return []
    apk, server, policy = body.get("apkPath"), body.get("appiumServerUrl"), body.get("policy", "dfs")
    if not (isinstance(apk, str) and isinstance(server, str) and isinstance(policy, str)):
        return []
    found = access.problems(apk, server, policy)
    if is_apk(apk):  # reads the file: off the event loop
        package, activity = (value if isinstance(value, str) else None
                             for value in (body.get("packageName"), body.get("appActivity")))
        found += (await asyncio.to_thread(access.apk_problems, apk, package, activity))[1]
    return found


def install_error_handlers(api: FastAPI) -> None:
    api.add_exception_handler(RequestValidationError, validation_failed)
    api.add_exception_handler(HTTPException, lambda _, e: error_response(e.status_code, str(e.detail)))
    api.add_exception_handler(InvalidRunId, lambda _, e: error_response(400, str(e), {"field": "runId"}))
    api.add_exception_handler(RunNotFound, lambda _, e: error_response(404, str(e)))
    api.add_exception_handler(IllegalTransition, lambda _, e: error_response(409, str(e)))
    api.add_exception_handler(IdempotencyConflict,
                              lambda _, e: error_response(409, str(e), {"field": "Idempotency-Key"}))
    for unavailable in (OperationalError, InterfaceError, PoolTimeout, StoreOperationalError, StoreInterfaceError,
                        DatabaseUnavailable):
        api.add_exception_handler(unavailable, _database_unavailable)
    api.add_exception_handler(Exception, _internal)


def _database_unavailable(_: Request, error: Exception) -> JSONResponse:
    log.warning("database unavailable", extra={"error": str(error)[:300]})
    return error_response(503, "the database is unavailable; try again shortly")


def _internal(_: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error")
    return error_response(500, "internal error")
