"""What makes two sightings one finding, the finding's id, and its title.

A signature is a readable string (DESIGN.md, "Findings"):
- a crash with logcat: "crash|<exception>|<frame>|<frame>|<frame>", the first three
  frames whose class is in the app's package;
- a crash without logcat: "crash|<activity>|<action id>";
- an ANR: "anr|<activity>";
- an accessibility issue: "accessibility|<rule>|<screen id>|<action id>".

Frames go in without their source position: "com.x.sync.SyncClient.push", not
"...push(SyncClient.java:88)". A line number moves with any edit above it in the
file and differs between builds (R8 prints "SourceFile:12" or "Unknown Source"),
so one bug would become a new finding after every unrelated change. The price: two
different throws of one exception type in one method (and the same two callers)
are one finding.
"""

from __future__ import annotations

import hashlib

from domain.exploration.screen import _short_activity  # the form Screen.activity has
from domain.findings.logcat import LogcatCrash, app_frames, frame_method

SIGNATURE_FRAMES = 3
_TITLE_MESSAGE_CHARS = 80


def signature(kind: str, package: str, crash: LogcatCrash | None, activity: str, action_id: str) -> str:
    """The identity of a crash or ANR: the same bug met again has the same signature.

    `activity` and `action_id` are those of the screen where the triggering action was taken.
    """
    activity = _short_activity(activity or (crash.activity if crash else None) or "", package)
    if kind == "anr":
        # The screen's activity first: the same ANR whether or not logcat was read in time.
        return f"anr|{activity}"
    if crash is None or crash.exception is None:
        return f"crash|{activity}|{action_id}"
    frames = [frame_method(frame) for frame in app_frames(crash.frames, package)[:SIGNATURE_FRAMES]]
    return "|".join(["crash", crash.exception, *frames])


def accessibility_signature(rule: str, screen_id: str, action_id: str) -> str:
    """One finding per rule, screen and element (the element's action id on that screen)."""
    return f"accessibility|{rule}|{screen_id}|{action_id}"


def finding_id(run_id: str, signature: str) -> str:
    """The first 16 hex digits of SHA-1 over run id and signature: the same in every replay
    and process, different in another run; safe in a URL path."""
    return hashlib.sha1(f"{run_id}\n{signature}".encode("utf-8")).hexdigest()[:16]


def crash_title(kind: str, label_or_package: str, crash: LogcatCrash | None,
                activity: str = "", action_label: str = "") -> str:
    """A one-line title: "IllegalStateException: token is null in SyncClient.push", "ANR in .HomeActivity",
    'Crash on .HomeActivity after tap "Sync now"' (no logcat)."""
    if kind == "anr":
        where = activity or (crash.activity if crash else None)
        return f"ANR in {where or label_or_package}"
    if crash is None or crash.exception is None:
        if activity:
            return f"Crash on {activity}" + (f" after {action_label}" if action_label else "")
        return f"{label_or_package} crashed"
    title = crash.exception.rsplit(".", 1)[-1]
    if crash.message:
        title += f": {_first_line(crash.message)}"
    own = app_frames(crash.frames, crash.package)
    return title + (f" in {_short_method(own[0])}" if own else "")


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0]
    return line if len(line) <= _TITLE_MESSAGE_CHARS else line[: _TITLE_MESSAGE_CHARS - 1] + "…"


def _short_method(frame: str) -> str:
    """ "com.x.sync.SyncClient.push(...)" -> "SyncClient.push"."""
    owner, _, method = frame_method(frame).rpartition(".")
    return f"{owner.rsplit('.', 1)[-1]}.{method}" if owner else method
