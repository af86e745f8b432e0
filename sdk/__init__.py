"""A small Python client for the run service: `from sdk import RunClient`."""

from sdk.client import RunClient, RunEvent, RunServiceError

__all__ = ["RunClient", "RunEvent", "RunServiceError"]
