"""DroidBot's output folder read as a recorded app (APP_MODEL.md "Recorded real apps"): the one module that
knows DroidBot's files (`utg.js`, `states/state_*.json` with `states/screen_*.jpg`, `events/event_*.json`),
and the one conversion of DroidBot's view trees into page source (the importer's, and the tests' that
read DroidBot's states as screens: `parse_screen(state.page_source, ...)`).

    imported = read_droidbot(Path("droidbot-out"))
    imported.write(Path("habitica"))        # habitica/model.json, habitica/screens/s0.xml, s0.jpg, ...
    state = state_from_json(Path("droidbot-out/states/state_2020-08-29_220101.json").read_bytes())
    state.page_source                       # UiAutomator2's <hierarchy>; BrokenFile when it is no state

States that share a `state_str_content_free` are one screen, shown as the first of them (by time);
the events recorded from any of them are its transitions. States of the permission controller (system
dialogs over the app) and of other apps (a browser, an account chooser) are screens marked with their
`package`, not the app's: the simulator serves them as a phone shows them. The launcher's and the system
UI's are no screen (the simulator draws its own launcher). A screen's page source is UiAutomator2's
`<hierarchy>` built from its view list, without the views the user cannot see (as UiAutomator2 leaves
them out); its screenshot is copied. What cannot be read (a missing or broken
state, screenshot or event file; a state whose views are no tree) or is no transition (HOME, intents,
kill-app, a touch on an invisible view) is skipped with a warning, and nothing else with it.
Stdlib only: the client never depends on the service's stack.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar
from xml.etree import ElementTree

# DroidBot's input kinds as the recorded format's; any other is no transition
UI_KINDS = {"touch": "tap", "long_touch": "long_press", "set_text": "type", "scroll": "scroll"}
NOT_TRANSITIONS = {"intent": "an intent", "kill_app": "a kill-app event", "exit": "an exit event",
                   "manual": "a manual event", "spawn": "a spawn event"}
IMAGE_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}
EXAMPLES = 3  # files a summarised warning names
# The system's dialogs over the app (DESIGN.md "What real apps do to an agent"): screens marked with their package
PERMISSION_PACKAGES = frozenset({"com.android.permissioncontroller", "com.google.android.permissioncontroller"})
# The system's own screens: no screen of a recorded app (back from the app's first screen shows the launcher)
LAUNCHER_PACKAGES = frozenset({"com.android.launcher", "com.android.launcher3", "com.google.android.apps.nexuslauncher",
                               "com.sec.android.app.launcher", "com.miui.home", "com.huawei.android.launcher"})
SYSTEM_PACKAGES = frozenset({"android", "com.android.systemui"})
T = TypeVar("T")


class NotDroidBotOutput(ValueError):
    """The folder is not what DroidBot writes: nothing can be imported from it."""


class BrokenFile(ValueError):
    """A file that is not what DroidBot writes there (empty, truncated, no views): the message says what."""


class ViewTreeError(BrokenFile):
    """A state's views that are no tree: none, no root, a view reached twice or from no root, nested deeper
    than Android draws."""


@dataclass(frozen=True)
class State:
    tag: str  # when DroidBot saw it: "2020-08-29_220159", sorts by time
    state_str: str
    content_free: str
    package: str
    activity: str  # short when in the package: ".ui.MainActivity"
    views: list[dict[str, Any]]
    page_source: str  # the views as UiAutomator2 page source


@dataclass
class Imported:
    model: dict[str, Any]  # model.json
    files: dict[str, bytes]  # the screens' page sources and screenshots, by path relative to the model
    warnings: list[str]
    states: int  # DroidBot states read
    events: int  # event files read

    def write(self, out: Path) -> Path:
        """DIR/model.json and its screens' files; returns the model's path."""
        for relative, content in self.files.items():
            (out / relative).parent.mkdir(parents=True, exist_ok=True)
            (out / relative).write_bytes(content)
        out.mkdir(parents=True, exist_ok=True)
        (out / "model.json").write_text(json.dumps(self.model, indent=1, ensure_ascii=False) + "\n")
        return out / "model.json"


@dataclass
class Warnings:
    """One line per broken file; repeated reasons for skipping events summed up in one line each."""
    lines: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def file(self, where: str, problem: str) -> None:
        self.lines.append(f"{where}: {problem}")

    def event(self, where: str, reason: str) -> None:
        self.skipped[reason].append(where)

    def all(self) -> list[str]:
        summed = [f"{files[0]}: {reason}: skipped" if len(files) == 1 else
                  f"{len(files)} events skipped, {reason} ({', '.join(files[:EXAMPLES])}"
                  + (f" and {len(files) - EXAMPLES} more)" if len(files) > EXAMPLES else ")")
                  for reason, files in self.skipped.items()]
        return self.lines + summed


def read_droidbot(folder: Path) -> Imported:
    """The recorded app in a DroidBot output folder. NotDroidBotOutput when it has no readable utg.js."""
    warnings = Warnings()
    utg = read_utg(folder)
    states = read_states(folder, warnings)
    warn_missing_states(utg, states, warnings)
    package = utg.get("app_package") or _most_common(state.package for state in states)
    app_states = app_states_of(states, package, warnings)
    if not app_states:
        raise NotDroidBotOutput(f"{folder}: no readable state of {package or 'the app'}")
    shown = [state for state in states if state.package == package or is_foreign(state.package)]
    events = read_events(folder, warnings)
    screens, names = group_screens(shown)
    warn_foreign_screens(shown, names, package, warnings)
    model = {"format": "recorded", "package": package,
             "start": names[start_state(app_states, events, package).state_str], "screens": {},
             "transitions": transitions(events, names, {s.state_str: s for s in shown}, warnings)}
    files: dict[str, bytes] = {}
    for name, first in screens.items():
        model["screens"][name] = {"activity": first.activity, "pageSource": f"screens/{name}.xml"} \
            if first.package == package else {  # a system dialog or another app: its package, its full activity
                "activity": _full_activity(first.activity, first.package), "package": first.package,
                "pageSource": f"screens/{name}.xml"}
        files[f"screens/{name}.xml"] = first.page_source.encode("utf-8")
        if shot := read_screenshot(folder, first, utg, warnings):
            model["screens"][name]["screenshot"] = f"screens/{name}{shot[1]}"
            files[f"screens/{name}{shot[1]}"] = shot[0]
    return Imported(model, files, warnings.all(), len(states), len(events))


def warn_missing_states(utg: dict[str, Any], states: list[State], warnings: Warnings) -> None:
    """utg.js may name states the folder lacks (DroidBot's first one is often left out: it shows the launcher)."""
    found = {state.state_str for state in states}
    for node in utg.get("nodes") or []:
        if isinstance(node, dict) and node.get("state_str") and node["state_str"] not in found:
            warnings.file(f"state {node['state_str']}", f"named by utg.js ({node.get('package', '?')}"
                          f"{node.get('activity', '')}) but the folder has no state file for it: skipped")


def app_states_of(states: list[State], package: str, warnings: Warnings) -> list[State]:
    """The app's own states. The launcher's and the system UI's are no screen at all (left out, with a
    warning); the permission controller's and other apps' are screens, but not the app's."""
    mine = [state for state in states if state.package == package]
    left_out = [state for state in states if state.package != package and not is_foreign(state.package)]
    if left_out:
        warnings.file("states", f"{len(left_out)} of the launcher or the system UI "
                      f"({', '.join(sorted({state.package or '?' for state in left_out}))}) are no screen: left out")
    return mine


def is_foreign(package: str) -> bool:
    """A package whose states are screens of a recorded app without being the app's: a system dialog over it
    (the permission controller) or another app it opened. Not the launcher nor the system UI."""
    return bool(package) and package not in LAUNCHER_PACKAGES and not package.endswith(".launcher") \
        and package not in SYSTEM_PACKAGES


def warn_foreign_screens(states: list[State], names: dict[str, str], package: str, warnings: Warnings) -> None:
    """How many states were system dialogs over the app and how many other apps', and the screens they became."""
    dialogs = [state for state in states if state.package in PERMISSION_PACKAGES]
    others = [state for state in states if state.package != package and state.package not in PERMISSION_PACKAGES]
    for found, what in ((dialogs, "system dialogs (the permission controller's)"), (others, "other apps'")):
        if found:
            screens = sorted({names[state.state_str] for state in found}, key=lambda name: int(name[1:]))
            warnings.file("states", f"{len(found)} are {what} ({', '.join(sorted({s.package for s in found}))}), "
                          f"not the app's: screen{'s' if len(screens) > 1 else ''} {', '.join(screens)}, "
                          "marked with their package")


def read_utg(folder: Path) -> dict[str, Any]:
    """utg.js is `var utg = {...}`: a script for DroidBot's page, JSON after the assignment."""
    path = folder / "utg.js"
    if not folder.is_dir():
        raise NotDroidBotOutput(f"{folder}: no such folder")
    if not path.is_file():
        raise NotDroidBotOutput(f"{folder}: no utg.js, so not a DroidBot output folder")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        utg = json.loads(text[text.index("{"):text.rindex("}") + 1])
    except ValueError as error:  # no braces, or no JSON between them
        raise NotDroidBotOutput(f"{path}: not DroidBot's UI transition graph ({error})") from None
    if not isinstance(utg, dict):
        raise NotDroidBotOutput(f"{path}: not DroidBot's UI transition graph")
    return utg


def read_states(folder: Path, warnings: Warnings) -> list[State]:
    """The folder's readable states by time; each one that is not (BrokenFile) is skipped with a warning."""
    states = []
    for path in sorted((folder / "states").glob("state_*.json")):
        tag = path.stem.removeprefix("state_")
        if state := _read_file(path, folder, warnings, lambda content: state_from_json(content, tag)):
            states.append(state)
    return sorted(states, key=lambda state: state.tag)


def state_from_json(content: str | bytes, tag: str = "") -> State:
    """A state file's content as a State, its view tree as page source. BrokenFile when the file is no state
    (empty, truncated or no JSON object, no views or state_str), ViewTreeError when its views are no tree.
    `tag` is the file's (`state_<tag>.json`), for a state that does not say when it was seen."""
    data = json_object(content)
    views, state_str = data.get("views"), data.get("state_str")
    if not isinstance(views, list) or not views or not isinstance(state_str, str):
        raise BrokenFile("no views or state_str")
    source = page_source(views)
    package, _, activity = str(data.get("foreground_activity") or "").partition("/")
    package = package or _most_common(view.get("package") for view in views)
    return State(str(data.get("tag") or tag), state_str, str(data.get("state_str_content_free") or state_str),
                 package, _short_activity(activity, package), views, source)


def json_object(content: str | bytes) -> dict[str, Any]:
    """A file's JSON object; BrokenFile (empty, not JSON, not an object) when it holds none."""
    try:
        text = content.decode("utf-8") if isinstance(content, bytes) else content
    except UnicodeDecodeError as error:
        raise BrokenFile(f"not JSON ({error})") from None
    if not text.strip():
        raise BrokenFile("empty")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise BrokenFile(f"not JSON ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise BrokenFile("not a JSON object")
    return data


def read_events(folder: Path, warnings: Warnings) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for path in sorted((folder / "events").glob("event_*.json")):
        data = _read_file(path, folder, warnings, json_object)
        if data is not None and isinstance(data.get("event"), dict):
            events.append((_where(path, folder), data))
        elif data is not None:
            warnings.file(_where(path, folder), "no event in it: skipped")
    return sorted(events, key=lambda item: str(item[1].get("tag") or item[0]))


def group_screens(states: list[State]) -> tuple[dict[str, State], dict[str, str]]:
    """Screens by package and content-free state (named s0, s1, ... as first seen), each shown as its first
    state; and each state_str's screen."""
    screens: dict[str, State] = {}
    by_content: dict[tuple[str, str], str] = {}
    names: dict[str, str] = {}
    for state in states:
        key = (state.package, state.content_free)
        if key not in by_content:
            by_content[key] = f"s{len(screens)}"
            screens[by_content[key]] = state
        names[state.state_str] = by_content[key]
    return screens, names


def start_state(states: list[State], events: list[tuple[str, dict[str, Any]]], package: str) -> State:
    """The first state of the app after its first launch (DroidBot's `am start` of the package)."""
    launches = [data for _, data in events
                if data["event"].get("event_type") == "intent" and "start" in str(data["event"].get("intent"))
                and package in str(data["event"].get("intent"))]
    by_str = {state.state_str: state for state in states}
    if launches and launches[0].get("stop_state") in by_str:
        return by_str[launches[0]["stop_state"]]
    after = str(launches[0].get("tag") or "") if launches else ""
    return next((state for state in states if state.tag >= after), states[0])


def transitions(events: list[tuple[str, dict[str, Any]]], names: dict[str, str], states: dict[str, State],
                warnings: Warnings) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for where, data in events:
        action = recorded_action(data["event"], states.get(data.get("start_state")), where, warnings)
        if action is None:
            continue
        source, target = names.get(data.get("start_state")), names.get(data.get("stop_state"))
        if source is None or target is None:
            side = "from" if source is None else "to"
            warnings.event(where, f"{side} a state the folder does not have or that is not the app's")
            continue
        transition = {"from": source, "action": action, "to": target}
        if transition not in found:
            found.append(transition)
    return found


def recorded_action(event: dict[str, Any], state: State | None, where: str,
                    warnings: Warnings) -> dict[str, Any] | None:
    """The event as the recorded format's action, or None (and a warning) when it is no transition."""
    kind = str(event.get("event_type"))
    if kind == "key":
        if event.get("name") == "BACK":
            return {"kind": "back"}
        warnings.event(where, f"{event.get('name')} key: not a transition")
        return None
    if kind not in UI_KINDS:
        warnings.event(where, f"{NOT_TRANSITIONS.get(kind, f'a {kind} event')}: not a transition")
        return None
    view = event.get("view")
    if isinstance(view, dict) and not view.get("visible", True):
        warnings.event(where, f"a {kind.replace('_', ' ')} on an invisible view")
        return None
    target = _target(view, event, state)
    if target is None:
        warnings.event(where, f"a {kind.replace('_', ' ')} with neither a view nor a point")
        return None
    action = {"kind": UI_KINDS[kind], **target}
    if kind == "scroll":  # DroidBot's UP swipes the finger down: the content above comes in, scrollGesture's "up"
        action["direction"] = str(event.get("direction") or "DOWN").lower()
    return action


def _target(view: Any, event: dict[str, Any], state: State | None) -> dict[str, Any] | None:
    """By resource-id (its position among the state's views with that id when not the first), else at the
    centre of the view's bounds, else at the event's point."""
    if isinstance(view, dict):
        resource_id = view.get("resource_id")
        if resource_id:
            nth = _nth(resource_id, view, state)
            return {"element": {"resource-id": resource_id, **({"nth": nth} if nth else {})}}
        try:
            (x1, y1), (x2, y2) = view["bounds"]
            return {"at": [(int(x1) + int(x2)) // 2, (int(y1) + int(y2)) // 2]}
        except (KeyError, TypeError, ValueError):
            pass
    if isinstance(event.get("x"), (int, float)) and isinstance(event.get("y"), (int, float)):
        return {"at": [int(event["x"]), int(event["y"])]}
    return None


def _nth(resource_id: str, view: dict[str, Any], state: State | None) -> int:
    """Document order, as the page source has the views (and as `nth` counts them)."""
    if state is None:
        return 0
    same = [i for i in document_order(state.views) if state.views[i].get("resource_id") == resource_id]
    temp_id = view.get("temp_id")
    return same.index(temp_id) if temp_id in same else 0


def read_screenshot(folder: Path, state: State, utg: dict[str, Any],
                    warnings: Warnings) -> tuple[bytes, str] | None:
    """The state's screenshot and its suffix, or None (and a warning) when it is missing or no image."""
    named = next((node.get("image") for node in utg.get("nodes") or []
                  if isinstance(node, dict) and node.get("state_str") == state.state_str), None)
    candidates = [folder / "states" / f"screen_{state.tag}.jpg", folder / "states" / f"screen_{state.tag}.png"]
    if isinstance(named, str) and ".." not in Path(named).parts and not Path(named).is_absolute():
        candidates.append(folder / named)
    path = next((path for path in candidates if path.is_file()), None)
    if path is None:
        warnings.file(f"state {state.tag}", "no screenshot: the model draws one from the page source")
        return None
    content = path.read_bytes()
    suffix = next((suffix for magic, suffix in IMAGE_TYPES.items() if content.startswith(magic)), None)
    if suffix is None:
        warnings.file(_where(path, folder), "not a JPEG or PNG image: skipped, the model draws one")
        return None
    return content, suffix


def _read_file(path: Path, folder: Path, warnings: Warnings, read: Callable[[bytes], T]) -> T | None:
    """What `read` makes of the file, or None (and a warning) when it cannot be read or is broken."""
    try:
        return read(path.read_bytes())
    except OSError as error:
        warnings.file(_where(path, folder), f"unreadable ({error.strerror or error}): skipped")
    except BrokenFile as error:
        warnings.file(_where(path, folder), f"{error}: skipped")
    return None


def _where(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder))


def _full_activity(activity: str, package: str) -> str:
    return package + activity if activity.startswith(".") else activity


def _short_activity(activity: str, package: str) -> str:
    return activity[len(package):] if package and activity.startswith(package + ".") else activity


def _most_common(values: Any) -> str:
    counted = Counter(value for value in values if value)
    return counted.most_common(1)[0][0] if counted else ""


# The view list as UiAutomator2 page source

XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
XML_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")  # a class such as "Foo$Bar" is no tag name: tagged as a View
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # XML 1.0 cannot hold these
FLAGS = (("checkable", "checkable"), ("checked", "checked"), ("clickable", "clickable"), ("enabled", "enabled"),
         ("focusable", "focusable"), ("focused", "focused"), ("long-clickable", "long_clickable"),
         ("password", "is_password"), ("scrollable", "scrollable"), ("selected", "selected"))
# Views nested deeper are no screen Android draws (in their <hierarchy>, more levels than the service reads)
MAX_DEPTH = 255


def page_source(views: list[dict[str, Any]]) -> str:
    """DroidBot's flat view list (`parent`/`children` indices) as a UiAutomator2 `<hierarchy>`: a tag per
    class, UiAutomator2's attributes. Views not visible to the user are left out with what they hold, as
    UiAutomator2 leaves them out (DroidBot's `visible` is the same accessibility flag). ViewTreeError when
    the views are no tree (as no device gives): a broken state file, which the importer skips."""
    tree = _tree(views)
    roots = [index for index, parent, _ in tree if parent is None]
    width = max(_box(views[i])[2] for i in roots)
    height = max(_box(views[i])[3] for i in roots)
    hierarchy = ElementTree.Element("hierarchy", {"index": "0", "class": "hierarchy", "rotation": "0",
                                                  "width": str(width), "height": str(height)})
    nodes: dict[int, ElementTree.Element] = {}
    for index, parent, position in tree:
        above = hierarchy if parent is None else nodes.get(parent)
        if above is not None and _visible(views[index]):  # not under a view left out
            nodes[index] = _node(views[index], position, above)
    ElementTree.indent(hierarchy)
    return XML_DECLARATION + ElementTree.tostring(hierarchy, encoding="unicode")


def document_order(views: list[dict[str, Any]]) -> list[int]:
    """The indices of the views the page source has, in its order (depth first, children in order)."""
    kept: list[int] = []
    shown: set[int] = set()
    for index, parent, _ in _tree(views):
        if (parent is None or parent in shown) and _visible(views[index]):
            kept.append(index)
            shown.add(index)
    return kept


def _tree(views: list[dict[str, Any]]) -> list[tuple[int, int | None, int]]:
    """Every view, visible or not, depth first from the roots (views without a parent: DroidBot's -1), as
    (index, its parent's or None, its position among its siblings). A child index the list does not have is
    passed over (what a list cut short leaves: every view it holds is still placed); views that cannot all
    be placed in one tree (no root, a view reached twice or from no root, too deep) are ViewTreeError."""
    if not isinstance(views, list) or not views:
        raise ViewTreeError("a broken view tree (no views)")
    for index, view in enumerate(views):
        if not isinstance(view, dict):
            raise ViewTreeError(f"a broken view tree (view {index} is no JSON object)")
    roots = [index for index, view in enumerate(views) if not _is_int(view.get("parent")) or view["parent"] < 0]
    if not roots:
        raise ViewTreeError("a broken view tree (no root view: each names a parent)")
    order: list[tuple[int, int | None, int]] = []
    seen: set[int] = set()
    stack = [(index, None, position, 1) for position, index in reversed(list(enumerate(roots)))]
    while stack:  # not recursive: a long chain of views cannot exhaust Python's stack
        index, parent, position, depth = stack.pop()
        if index in seen:
            raise ViewTreeError(f"a broken view tree (view {index} is reached twice)")
        if depth > MAX_DEPTH:
            raise ViewTreeError(f"a broken view tree (views nested deeper than {MAX_DEPTH})")
        seen.add(index)
        order.append((index, parent, position))
        children = views[index].get("children")
        children = [child for child in children if _is_int(child) and 0 <= child < len(views)] \
            if isinstance(children, list) else []  # a child past the end of a list cut short: nothing to show
        stack.extend((child, index, at, depth + 1) for at, child in reversed(list(enumerate(children))))
    if len(seen) < len(views):
        lost = min(set(range(len(views))) - seen)
        raise ViewTreeError(f"a broken view tree (view {lost} is reached from no root)")
    return order


def _node(view: dict[str, Any], position: int, parent: ElementTree.Element) -> ElementTree.Element:
    cls = _text(view.get("class")) or "android.view.View"
    attributes = {"index": str(position), "package": _text(view.get("package")), "class": cls,
                  "text": _text(view.get("text")), "resource-id": _text(view.get("resource_id"))}
    attributes.update((name, _flag(view.get(key), key == "enabled")) for name, key in FLAGS)
    x1, y1, x2, y2 = _box(view)
    attributes.update({"bounds": f"[{x1},{y1}][{x2},{y2}]", "displayed": "true",
                       "content-desc": _text(view.get("content_description"))})
    return ElementTree.SubElement(parent, cls if XML_NAME.match(cls) else "android.view.View", attributes)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _box(view: dict[str, Any]) -> tuple[int, int, int, int]:
    try:
        (x1, y1), (x2, y2) = view["bounds"]
        return int(x1), int(y1), int(x2), int(y2)
    except (KeyError, TypeError, ValueError):
        return 0, 0, 0, 0


def _visible(view: dict[str, Any]) -> bool:
    return view.get("visible", True) is not False


def _text(value: Any) -> str:
    return "" if value is None else NOT_XML.sub("", str(value))


def _flag(value: Any, default: bool) -> str:
    """Android's default (enabled; nothing else) when DroidBot wrote no value."""
    return "true" if value is True or (value is None and default) else "false"
