"""What shows on a device besides the app (DESIGN.md "What real apps do to an agent"): the system's
permission dialogs, other apps, the launcher. Rules only; the agent answers and goes back."""

from __future__ import annotations

from dataclasses import dataclass

from domain.exploration.screen import Screen

PERMISSION_PACKAGES = frozenset({"com.android.permissioncontroller", "com.google.android.permissioncontroller"})
SYSTEM_PACKAGE = "android"  # Android's crash and ANR dialogs: findings, not another app
# Home screens: the app went to the background (back from its first screen), it did not open another app.
LAUNCHER_PACKAGES = frozenset({"com.android.launcher", "com.android.launcher3", "com.google.android.apps.nexuslauncher",
                               "com.sec.android.app.launcher", "com.miui.home", "com.huawei.android.launcher"})
GRANT, DENY = "grant", "deny"
# Android 11's buttons, by preference: "while using the app" is as much as a user grants a camera.
_ANSWER_IDS = {GRANT: ("permission_allow_foreground_only_button", "permission_allow_button"),
               DENY: ("permission_deny_button",)}
BACK_ANSWER = "back"  # a dialog without the buttons we know: back answers deny


@dataclass(frozen=True)
class PermissionDialog:
    message: str  # permission_message's text
    answer: str  # the text of the button to tap, or "back"
    target: tuple[str, str] | None  # its locator; None: press back


def is_permission_dialog(screen: Screen) -> bool:
    return screen.package in PERMISSION_PACKAGES


def permission_dialog(screen: Screen, permissions: str = GRANT) -> PermissionDialog | None:
    """The permission controller's dialog on screen and how the run answers it (`permissions`), or None."""
    if not is_permission_dialog(screen):
        return None
    by_name = {e.short_id: e for e in screen.displayed_elements if e.resource_id}
    message = by_name["permission_message"].text if "permission_message" in by_name else ""
    for name in permission_button_names(permissions):
        if name in by_name:
            button = by_name[name]
            return PermissionDialog(message, button.text or name, ("id", button.resource_id))
    return PermissionDialog(message, BACK_ANSWER, None)


def permission_button_names(permissions: str) -> tuple[str, ...]:
    """The resource names of the buttons that answer as `permissions` says, by preference."""
    return _ANSWER_IDS[DENY if permissions == DENY else GRANT]


def is_launcher(package: str) -> bool:
    return package in LAUNCHER_PACKAGES or package.endswith(".launcher")


def other_app(screen: Screen, package: str) -> str | None:
    """The package of another app on screen (a browser, a share sheet): the app was left. None for the app
    itself, the system's dialogs (permissions, crashes) and the launcher, which are no other app."""
    shown = screen.package
    if shown == package or shown in PERMISSION_PACKAGES or shown == SYSTEM_PACKAGE or is_launcher(shown):
        return None
    return shown or None
