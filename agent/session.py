"""The run's device session, which a lost session is replaced in (DESIGN.md "Time and faults").

The observer, the surroundings and the findings hold this one object; `reopen` puts a new session behind it,
so none of them needs to know the session changed."""

from __future__ import annotations

from typing import Any, Callable

from adapters.device import DeviceError, DevicePort


class SessionDevice:
    """A DevicePort that passes every call to the current session."""

    def __init__(self, open_session: Callable[[], DevicePort]) -> None:
        self._open = open_session
        self.current: DevicePort = open_session()
        self.sessions = 1

    def reopen(self) -> None:
        """Ends the session (what is left of it) and opens another; the opener's errors go to the caller."""
        self.quit()
        self.current = self._open()
        self.sessions += 1

    def quit(self) -> None:
        try:
            self.current.quit()
        except DeviceError:
            pass  # a dead session cannot be ended more

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)
