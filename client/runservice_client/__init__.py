"""Client of the run service: `RunClient` (blocking) and `AsyncRunClient` (asyncio), and the `runservice` command."""

from runservice_client.async_client import AsyncRunClient
from runservice_client.client import RunClient
from runservice_client.errors import FailingFindings, RunServiceError
from runservice_client.memory import AppMap, FindingHistory
from runservice_client.models import Finding, Findings, Run, RunEvent, llm_usage

__all__ = ["AppMap", "AsyncRunClient", "FailingFindings", "Finding", "FindingHistory", "Findings", "Run", "RunClient",
           "RunEvent", "RunServiceError", "llm_usage"]
