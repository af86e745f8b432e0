"""A run's screen graph as a picture: an SVG string, in pure Python.

Layered layout: each screen sits in the column of its breadth-first depth from
the first screen seen, in the order it was first seen. A transition may lead to
a screen the run never perceived (the budget ran out right after the action):
that screen is drawn as a dashed box. All text comes from the app under test,
so every piece of it is escaped.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from xml.sax.saxutils import escape

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 220, 58, 90, 44, 30  # the margin leaves room for self-loops
MAX_LABEL = 30
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ARROW = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
         'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>')


def artifact_url(run_id: str, artifact_id: str) -> str:
    return f"/run/{run_id}/artifacts/{artifact_id}"


def with_links(graph: dict[str, Any]) -> dict[str, Any]:
    """The graph with each screen's latest screenshot as a URL a client can fetch."""
    def link(screen: dict[str, Any]) -> dict[str, Any]:
        shot = screen.get("screenshotArtifactId")
        return {**screen, "screenshotUrl": artifact_url(graph["runId"], shot) if shot else None}
    return {**graph, "screens": [link(s) for s in graph["screens"]]}


def layout(graph: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """(column, row) of every screen, the unperceived ones that transitions name included."""
    order, edges = _nodes(graph)
    depth: dict[str, int] = {}
    for root in order:  # screens unreachable from the first start their own BFS, in column 0
        if root not in depth:
            _bfs(root, edges, depth)
    next_row: dict[int, int] = {}
    cells: dict[str, tuple[int, int]] = {}
    for sid in sorted(order, key=lambda s: (depth[s], order[s])):
        cells[sid] = (depth[sid], next_row.get(depth[sid], 0))
        next_row[depth[sid]] = cells[sid][1] + 1
    return cells


def _nodes(graph: dict[str, Any]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Screens in first-seen order (the position of each) and who leads where."""
    order = {s["screenId"]: i for i, s in enumerate(graph["screens"])}
    edges: dict[str, list[str]] = {}
    for t in graph["transitions"]:
        edges.setdefault(t["fromScreen"], []).append(t["toScreen"])
        for sid in (t["fromScreen"], t["toScreen"]):
            order.setdefault(sid, len(order))
    return order, edges


def _bfs(root: str, edges: dict[str, list[str]], depth: dict[str, int]) -> None:
    depth[root] = 0
    queue = deque([root])
    while queue:
        sid = queue.popleft()
        for nxt in edges.get(sid, []):
            if nxt not in depth:
                depth[nxt] = depth[sid] + 1
                queue.append(nxt)


def render_svg(graph: dict[str, Any]) -> str:
    cells = layout(graph)
    screens = {s["screenId"]: s for s in graph["screens"]}
    width = MARGIN * 2 + (max((c for c, _ in cells.values()), default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = MARGIN * 2 + (max((r for _, r in cells.values()), default=0) + 1) * (BOX_H + GAP_Y) - GAP_Y
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f"<title>{_text('Screen graph of run ' + graph['runId'])}</title>", ARROW]
    parts += [_edge(t, cells, i) for i, t in enumerate(graph["transitions"])]
    parts += [_box(sid, screens.get(sid), _origin(cell), graph["runId"]) for sid, cell in cells.items()]
    return "\n".join(parts + ["</svg>"])


def _origin(cell: tuple[int, int]) -> tuple[int, int]:
    return MARGIN + cell[0] * (BOX_W + GAP_X), MARGIN + cell[1] * (BOX_H + GAP_Y)


def _box(sid: str, screen: dict[str, Any] | None, at: tuple[int, int], run_id: str) -> str:
    x, y = at
    activity = screen["activity"] if screen else "(not perceived)"
    caption = f"{sid[:7]} · {screen['visits']} visits" if screen else sid[:7]
    style = 'fill="#eef4ff" stroke="#36c"' if screen else 'fill="#fff" stroke="#999" stroke-dasharray="4 3"'
    body = (f'<g class="screen" data-screen-id={_attr(sid)}><title>{_text(f"{activity} ({sid})")}</title>'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" {style}/>'
            f'<text x="{x + 8}" y="{y + 22}" font-weight="bold">{_text(_short(activity))}</text>'
            f'<text x="{x + 8}" y="{y + 42}">{_text(caption)}</text></g>')
    shot = screen.get("screenshotArtifactId") if screen else None
    return f"<a href={_attr(artifact_url(run_id, shot))}>{body}</a>" if shot else body


def _edge(t: dict[str, Any], cells: dict[str, tuple[int, int]], index: int) -> str:
    src, dst = _origin(cells[t["fromScreen"]]), _origin(cells[t["toScreen"]])
    label = f"{t['actionLabel'] or t['actionId']} (step {t['firstSeenStep']})"
    ends = f"data-from={_attr(t['fromScreen'])} data-to={_attr(t['toScreen'])}"
    back = dst[0] <= src[0]  # against the layering: dashed, so loops in the app stand out
    stroke = 'stroke="#c60" stroke-dasharray="5 3"' if back else 'stroke="#555"'
    return (f'<g class="transition" {ends}><title>{_text(label)}</title>'
            f'<path d="{_path(src, dst, index)}" fill="none" {stroke} marker-end="url(#arrow)"/></g>')


def _path(src: tuple[int, int], dst: tuple[int, int], index: int) -> str:
    (sx, sy), (tx, ty) = src, dst
    spread = 4 * (index % 4)  # parallel edges fan out instead of drawing over each other
    if src == dst:  # a self-loop: a small arc on the box's top edge
        a, b = sx + BOX_W - 44, sx + BOX_W - 12
        return f"M {a} {sy} C {a} {sy - 22}, {b} {sy - 22}, {b} {sy}"
    if tx > sx:  # forward: right side to left side
        x1, y1, x2, y2, bend = sx + BOX_W, sy + BOX_H // 2, tx, ty + BOX_H // 2, 40 + spread
        return f"M {x1} {y1} C {x1 + bend} {y1}, {x2 - bend} {y2}, {x2} {y2}"
    # Backward or within a column: through the gaps between rows, not across the boxes.
    x1, x2, dip = sx + BOX_W * 2 // 3, tx + BOX_W // 3, GAP_Y - 8 + spread
    if ty < sy:
        y1, y2, d1, d2 = sy, ty + BOX_H, -dip, dip
    else:
        y1, y2 = sy + BOX_H, (ty if ty > sy else ty + BOX_H)
        d1, d2 = dip, (-dip if ty > sy else dip)
    return f"M {x1} {y1} C {x1} {y1 + d1}, {x2} {y2 + d2}, {x2} {y2}"


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _text(value: str) -> str:
    return escape(_xml_chars(value))


def _attr(value: str) -> str:
    # Parsers turn raw tabs and newlines in attributes into spaces: keep them as character references.
    return '"' + escape(_xml_chars(value), {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}) + '"'


def _xml_chars(value: str) -> str:
    """Control characters are not allowed in XML 1.0, even escaped: an app's text may hold them."""
    return CONTROL_CHARS.sub("\uFFFD", value)
