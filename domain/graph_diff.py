"""UI drift: what changed between the screen graphs of two runs (typically two versions of one app).

Screens are matched first by id (the same activity and structure), then, per
activity, by how much of their outline they share (Jaccard similarity of the
outline lines, at least MIN_SIMILARITY; the only unmatched screen of an
activity on each side is its counterpart whatever it shows). So a screen that
gained a button reads as *changed*, with the button among its elements added,
not as one screen removed and another added. Transitions are compared through
the matching: (from screen, action id, to screen) with head screens named by
their base counterparts. Every list is sorted, so the same two graphs always
give the same answer.

The graphs are what `GET /run/{id}/graph` answers (camelCase screen and
transition rows); screens carry their outline lines in `elements`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MIN_SIMILARITY = 0.5
Graph = Mapping[str, Any]


@dataclass(frozen=True)
class _Screen:
    screen_id: str
    activity: str
    elements: frozenset[str]


def diff_graphs(base: Graph, head: Graph) -> dict[str, Any]:
    """The drift from `base` to `head`: screens, transitions and activities added, removed, changed."""
    old, new = _screens(base), _screens(head)
    match = match_screens(old, new)  # head screen id -> base screen id
    matched_old = set(match.values())
    old_activities = {s.activity for s in old.values()}
    new_activities = {s.activity for s in new.values()}
    return {
        "base": base.get("runId"),
        "head": head.get("runId"),
        "screensAdded": _listed(s for sid, s in new.items() if sid not in match),
        "screensRemoved": _listed(s for sid, s in old.items() if sid not in matched_old),
        "screensChanged": _changed(old, new, match),
        **_transitions(base, head, old, new, match),
        "activitiesAdded": sorted(new_activities - old_activities),
        "activitiesRemoved": sorted(old_activities - new_activities),
    }


def match_screens(old: Mapping[str, _Screen], new: Mapping[str, _Screen]) -> dict[str, str]:
    """Head screen id -> the base screen id it is a version of."""
    match = {sid: sid for sid in new if sid in old}
    for activity in sorted({s.activity for s in new.values()}):
        olds = sorted(sid for sid, s in old.items() if s.activity == activity and sid not in match.values())
        news = sorted(sid for sid, s in new.items() if s.activity == activity and sid not in match)
        if len(olds) == 1 and len(news) == 1:
            match[news[0]] = olds[0]
            continue
        pairs = sorted((-_similarity(old[o], new[n]), o, n) for o in olds for n in news)
        taken: set[str] = set()
        for negative, o, n in pairs:
            if -negative >= MIN_SIMILARITY and o not in taken and n not in match:
                match[n] = o
                taken.add(o)
    return match


def _similarity(a: _Screen, b: _Screen) -> float:
    union = a.elements | b.elements
    return len(a.elements & b.elements) / len(union) if union else 1.0


def _screens(graph: Graph) -> dict[str, _Screen]:
    return {row["screenId"]: _Screen(row["screenId"], row.get("activity", ""), frozenset(row.get("elements") or ()))
            for row in graph.get("screens", ())}


def _listed(screens: Iterable[_Screen]) -> list[dict[str, Any]]:
    rows = [{"screenId": s.screen_id, "activity": s.activity, "elements": sorted(s.elements)} for s in screens]
    return sorted(rows, key=lambda r: (r["activity"], r["screenId"]))


def _changed(old: Mapping[str, _Screen], new: Mapping[str, _Screen], match: Mapping[str, str]) -> list[dict[str, Any]]:
    changed = []
    for new_id, old_id in match.items():
        before, after = old[old_id], new[new_id]
        if before.elements != after.elements:
            changed.append({"baseScreenId": old_id, "headScreenId": new_id, "activity": after.activity,
                            "elementsAdded": sorted(after.elements - before.elements),
                            "elementsRemoved": sorted(before.elements - after.elements)})
    return sorted(changed, key=lambda r: (r["activity"], r["baseScreenId"], r["headScreenId"]))


def _transitions(base: Graph, head: Graph, old: Mapping[str, _Screen], new: Mapping[str, _Screen],
                 match: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    def old_key(row: Mapping[str, Any]) -> tuple[str, str, str]:
        return row["fromScreen"], row["actionId"], row["toScreen"]

    def new_key(row: Mapping[str, Any]) -> tuple[str, str, str]:
        # A head screen without a counterpart gets a name no base screen has; screens outside
        # the graph (the launcher after a crash) are the same screen on both sides.
        def name(sid: str) -> str:
            return match.get(sid, f"head:{sid}") if sid in new else sid
        return name(row["fromScreen"]), row["actionId"], name(row["toScreen"])

    olds = {old_key(row): row for row in base.get("transitions", ())}
    news = {new_key(row): row for row in head.get("transitions", ())}
    return {
        "transitionsAdded": _transition_rows((news[k] for k in news.keys() - olds.keys()), new),
        "transitionsRemoved": _transition_rows((olds[k] for k in olds.keys() - news.keys()), old),
    }


def _transition_rows(rows: Iterable[Mapping[str, Any]], screens: Mapping[str, _Screen]) -> list[dict[str, Any]]:
    def activity(sid: str) -> str:
        return screens[sid].activity if sid in screens else ""

    out = [{"fromScreen": r["fromScreen"], "fromActivity": activity(r["fromScreen"]), "actionId": r["actionId"],
            "actionLabel": r.get("actionLabel", ""), "toScreen": r["toScreen"], "toActivity": activity(r["toScreen"])}
           for r in rows]
    return sorted(out, key=lambda r: (r["fromActivity"], r["actionId"], r["toActivity"], r["fromScreen"], r["toScreen"]))
