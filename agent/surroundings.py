"""The device besides the app, as the agent meets it (DESIGN.md "What real apps do to an agent"): the
system's permission dialogs answered as the run says, another app left by going back, the keyboard
hidden after typing. The rules (what is a dialog, another app) are domain/exploration/system.py's."""

from __future__ import annotations

from adapters.device import DevicePort
from agent.figures import RunFigures
from agent.node_runner import NodeRunner
from agent.observer import Observer
from agent.outcome import Stop
from domain.exploration import Action, Screen
from domain.exploration.system import other_app, permission_dialog
from domain.run import Run

# Dialogs answered at one look: a request for several permissions shows one dialog each; a dialog that
# stays after its answer (a button we misread) must not hold the run forever.
MAX_DIALOGS = 6
MAX_BACKS = 3  # back presses that try to walk out of another app before the app is activated


class Surroundings:
    def __init__(self, device: DevicePort, observer: Observer, node: NodeRunner, figures: RunFigures,
                 permissions: str) -> None:
        self.device, self.observer, self.node, self.figures = device, observer, node, figures
        self.permissions, self.package = permissions, observer.package

    def look(self, step: int, record: bool = True) -> tuple[Screen, int]:
        """The idle screen once the permission dialogs over it are answered, and how many were. A
        reproduction (`record` False) answers them as the run did without recording exploration's facts."""
        screen, answered = self.observer.wait_idle(), 0
        while answered < MAX_DIALOGS and (dialog := permission_dialog(screen, self.permissions)) is not None:
            if dialog.target is None:
                self.device.back()
            else:
                self.device.tap(dialog.target)
            answered += 1
            if record:
                self.figures.system_dialogs += 1
                self.node.record(Run.record_system_dialog, step_ordinal=step, kind="permission",
                                 message=dialog.message, answer=dialog.answer)
            screen = self.observer.wait_idle()
        return screen, answered

    def hide_keyboard(self, action: Action) -> bool:
        """After typing: a keyboard left up takes the taps meant for the bottom of the app. Never with back,
        which would leave the screen when the keyboard had gone by itself."""
        if action.kind != "type" or not self.device.is_keyboard_shown():
            return False
        self.device.hide_keyboard()
        return True

    def return_to_app(self, step: int) -> Screen | Stop:
        """Back out of another app (its own screens first), then activate the app if it is not back."""
        for _ in range(MAX_BACKS):
            self.device.back()
            screen, _ = self.look(step)
            if screen.in_app(self.package):
                return screen
            if other_app(screen, self.package) is None:
                break  # the launcher, or a dialog: backs walk no further towards the app
        self.device.activate_app(self.package)
        screen, _ = self.look(step)
        if not screen.in_app(self.package):
            return Stop.failed("app_launch_failed", "the app did not come back after another app opened")
        return screen
