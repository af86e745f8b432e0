"""What most routes need before their one service call: who is asking, and a database that answers."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request

from api.access import Caller


async def ready_caller(request: Request) -> Caller:
    """The caller (401 without a valid key), then 503 at once while PostgreSQL is down instead of a request
    waiting out the store's retries (api/database_gate.py; the replica puts both on `api.state`)."""
    caller = request.app.state.access.caller(request)
    database = request.app.state.database
    if not database.available:
        await asyncio.to_thread(database.check)  # looks again, off the event loop
    return caller


ReadyCaller = Annotated[Caller, Depends(ready_caller)]
