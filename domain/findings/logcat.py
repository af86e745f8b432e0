"""Crashes and ANRs of one app, read from logcat lines.

Input is the messages of Appium's logcat entries (`driver.get_log("logcat")`).
Their `level` is "ALL" for every entry (UiAutomator2 and the simulator alike),
so only the message is read; a `{"message": ...}` entry is accepted too.
Lines may be threadtime ("12-02 10:00:00.123  1234  1234 E AndroidRuntime: ..."),
brief / time ("E/AndroidRuntime( 1234): ..."), tag ("E/AndroidRuntime: ...",
"E AndroidRuntime: ...") or bare messages, with or without leading tabs.

A crash block starts at "FATAL EXCEPTION"; its lines are the later ones with the
same pid and tag (other processes keep logging in between), up to the first one
that is no part of a stack trace. "Process: <name>, PID: <pid>" says whose it
is; logs of older Androids without that line count as the app's when a frame is
in the app's package. An ANR is "ANR in <process> (<package>/<activity>)" and
the system's field lines after it ("PID:", "Reason:", ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from domain.exploration.screen import _short_activity  # the form Screen.activity has, so signatures agree

_TIME = r"(?:\d{4}-)?\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+"
_THREADTIME = re.compile(rf"^{_TIME}\s+(?:\S+\s+)??(?P<pid>\d+)\s+\d+\s+[VDIWEFAS]\s+(?P<tag>[^:]*?)\s*: ?(?P<msg>.*)$")
_BRIEF = re.compile(rf"^(?:{_TIME}\s+)?[VDIWEFAS]/(?P<tag>[^(:]*?)\s*\(\s*(?P<pid>\d+)\): ?(?P<msg>.*)$")
_TAG = re.compile(r"^[VDIWEFAS]/(?P<tag>[^(:]+?)\s*: ?(?P<msg>.*)$")
_LEVEL_TAG = re.compile(r"^[VDIWEFAS]\s+(?P<tag>[^\s:]+)\s*: ?(?P<msg>.*)$")  # threadtime without time and ids
_PROCESS = re.compile(r"^Process: (?P<name>[^,\s]+)")
_EXCEPTION = re.compile(r"^(?P<name>[A-Za-z_$][\w$]*(?:\.[\w$]+)+)(?::\s?(?P<message>.*))?$")
_TRACE = re.compile(r"^(?:at |Caused by: |Suppressed: |\.\.\. \d+ more)")
_ANR = re.compile(r"^ANR in (?P<process>[^\s(]+)(?:\s*\((?P<component>[^)]*)\))?")
_ANR_FIELDS = re.compile(r"^(?:PID|Reason|Parent|Frozen|Load|ErrorId|Subject|Header):")
# A wrapped message ("Unable to start activity ...") may span lines before the first frame;
# bare lines have no pid to tell them from their neighbours, so such a run is bounded.
_MAX_LINES_BEFORE_FRAMES = 12
_SIMPLE_CAUSE_CHARS = 160


@dataclass(frozen=True)
class LogcatCrash:
    kind: str  # "crash" | "anr"
    package: str
    exception: str | None  # "java.lang.IllegalStateException"; None for an ANR
    message: str | None  # the exception's message (+ a simple root cause); an ANR's reason
    frames: tuple[str, ...]  # as printed after "at ": the app's own first, then the rest, order kept in each
    activity: str | None  # an ANR's, short form (".HomeActivity")
    excerpt: str  # the block's lines as logged


@dataclass(frozen=True)
class _Line:
    raw: str
    key: tuple[str | None, str | None]  # (pid, tag); (None, None) for a bare message
    text: str  # the message, stripped


def read_logcat(messages: Sequence[str | Mapping[str, object]], package: str) -> list[LogcatCrash]:
    """The app's crashes and ANRs in these messages, in log order; other processes' are ignored."""
    lines = [_line(raw) for message in messages for raw in _raw_lines(message)]
    found: list[LogcatCrash | None] = []
    for index, line in enumerate(lines):
        if line.text.startswith("FATAL EXCEPTION"):
            found.append(_crash(_crash_block(lines, index), package))
        elif _ANR.match(line.text):
            found.append(_anr(_anr_block(lines, index), package))
    return [crash for crash in found if crash is not None]


def _raw_lines(message: str | Mapping[str, object]) -> list[str]:
    text = message.get("message", "") if isinstance(message, Mapping) else message
    return [raw for raw in str(text or "").replace("\r", "").split("\n") if raw.strip()]


def _line(raw: str) -> _Line:
    stripped = raw.strip()
    for pattern in (_THREADTIME, _BRIEF, _TAG, _LEVEL_TAG):
        match = pattern.match(stripped)
        if match:
            fields = match.groupdict()
            return _Line(raw, (fields.get("pid"), fields["tag"]), fields["msg"].strip())
    return _Line(raw, (None, None), stripped)


def _following(lines: list[_Line], start: int) -> Iterator[_Line]:
    """Lines after `start` that the same writer logged: same pid and tag when the line has them."""
    key = lines[start].key
    return (line for line in lines[start + 1:] if key == (None, None) or line.key == key)


def _crash_block(lines: list[_Line], start: int) -> list[_Line]:
    block, framed = [lines[start]], False
    for line in _following(lines, start):
        tracing = bool(_TRACE.match(line.text))
        if line.text.startswith("FATAL EXCEPTION") or (framed and not tracing):
            break
        if not framed and not tracing and len(block) > _MAX_LINES_BEFORE_FRAMES:
            break
        framed = framed or tracing
        block.append(line)
    return block


def _anr_block(lines: list[_Line], start: int) -> list[_Line]:
    block = [lines[start]]
    for line in _following(lines, start):
        if not _ANR_FIELDS.match(line.text):
            break
        block.append(line)
    return block


def _crash(block: list[_Line], package: str) -> LogcatCrash | None:
    texts = [line.text for line in block[1:]]
    process = next((match["name"] for text in texts if (match := _PROCESS.match(text))), None)
    body = [text for text in texts if not _PROCESS.match(text)]
    frames = tuple(text[3:].strip() for text in body if text.startswith("at "))
    if not (_is_app_process(process, package) if process else app_frames(frames, package)):
        return None
    exception, message = _exception(body)
    own = app_frames(frames, package)
    return LogcatCrash(kind="crash", package=package, exception=exception, message=message,
                       frames=own + tuple(frame for frame in frames if frame not in own),
                       activity=None, excerpt=_excerpt(block))


def _exception(body: list[str]) -> tuple[str | None, str | None]:
    """The top exception and its message (continued up to the first frame), noting a simple root cause."""
    head = body[: next((i for i, text in enumerate(body) if _TRACE.match(text)), len(body))]
    match = _EXCEPTION.match(head[0]) if head else None
    if match is None:
        return None, "\n".join(head) or None
    message = "\n".join([match["message"] or "", *head[1:]]).strip() or None
    causes = [text[len("Caused by: "):] for text in body if text.startswith("Caused by: ")]
    root = causes[-1].strip() if causes else ""
    if root and len(root) <= _SIMPLE_CAUSE_CHARS and root not in (message or ""):
        message = f"{message} (caused by {root})" if message else f"caused by {root}"
    return match["name"], message


def _anr(block: list[_Line], package: str) -> LogcatCrash | None:
    match = _ANR.match(block[0].text)
    if match is None or not _is_app_process(match["process"], package):
        return None
    reason = next((line.text[len("Reason:"):].strip() for line in block if line.text.startswith("Reason:")), "")
    component = match["component"] or ""
    activity = _short_activity(component.split("/", 1)[1], package) if "/" in component else None
    return LogcatCrash(kind="anr", package=package, exception=None, message=reason or None,
                       frames=(), activity=activity or None, excerpt=_excerpt(block))


def _is_app_process(process: str, package: str) -> bool:
    """The app's main process, or one of its own (":sync") processes."""
    return process == package or process.startswith(package + ":")


def _excerpt(block: list[_Line]) -> str:
    return "\n".join(line.raw.rstrip() for line in block)


def app_frames(frames: Sequence[str], package: str) -> tuple[str, ...]:
    """The frames whose class is in the app's package (a prefix match on whole name parts)."""
    return tuple(frame for frame in frames if _in_package(frame_method(frame).rsplit(".", 1)[0], package))


def frame_method(frame: str) -> str:
    """ "com.x.SyncClient.push(SyncClient.java:88)" -> "com.x.SyncClient.push": the frame without its source line."""
    return frame.split("(", 1)[0].strip()


def _in_package(name: str, package: str) -> bool:
    # "com.example.notes" owns "com.example.notes.sync.X", not "com.example.notesync.X".
    return name == package or name.startswith(package + ".")
