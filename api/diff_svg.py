"""UI drift between two runs as a picture: an SVG string, in pure Python.

Three columns of screen boxes: removed (only in the base run, red), changed
(amber, with the elements added `+` and removed `-`) and added (only in the
head run, green); below them, the transitions removed and added, one line
each. All text comes from the apps under test, so every piece of it is escaped.
"""

from __future__ import annotations

from typing import Any

from api.graph_svg import _attr, _short, _text

COLUMN_W, GAP, MARGIN, LINE = 320, 24, 24, 16
MAX_ELEMENT_LINES = 12
STYLES = {
    "removed": 'fill="#fdecea" stroke="#c62828"',
    "changed": 'fill="#fff4e0" stroke="#ef8f00"',
    "added": 'fill="#e8f5e9" stroke="#2e7d32"',
}


def render_diff_svg(drift: dict[str, Any]) -> str:
    columns = [("removed", drift["screensRemoved"]), ("changed", drift["screensChanged"]),
               ("added", drift["screensAdded"])]
    parts: list[str] = []
    bottom = MARGIN + 2 * LINE
    lowest = bottom + LINE
    for i, (kind, screens) in enumerate(columns):
        x = MARGIN + i * (COLUMN_W + GAP)
        parts.append(f'<text x="{x}" y="{bottom}" font-weight="bold">{_text(f"Screens {kind} ({len(screens)})")}</text>')
        y = bottom + LINE // 2
        for screen in screens:
            box, y = _screen_box(kind, screen, x, y)
            parts.append(box)
        lowest = max(lowest, y)
    y = lowest + 2 * LINE
    for kind, key, sign in (("removed", "transitionsRemoved", "-"), ("added", "transitionsAdded", "+")):
        parts.append(f'<text x="{MARGIN}" y="{y}" font-weight="bold">'
                     f'{_text(f"Transitions {kind} ({len(drift[key])})")}</text>')
        for t in drift[key]:
            y += LINE
            line = f"{sign} {t['fromActivity'] or t['fromScreen']} --{t['actionLabel'] or t['actionId']}--> " \
                   f"{t['toActivity'] or t['toScreen']}"
            parts.append(f'<text x="{MARGIN + 12}" y="{y}" class="transition-{kind}">{_text(line)}</text>')
        y += 2 * LINE
    activities = (f"Activities added: {', '.join(drift['activitiesAdded']) or '-'}; "
                  f"removed: {', '.join(drift['activitiesRemoved']) or '-'}")
    parts.append(f'<text x="{MARGIN}" y="{y}">{_text(activities)}</text>')
    width, height = MARGIN * 2 + 3 * COLUMN_W + 2 * GAP, y + MARGIN
    title = f"UI drift from run {drift['base']} to run {drift['head']}"
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
            f"<title>{_text(title)}</title>"
            f'<text x="{MARGIN}" y="{MARGIN}" font-size="14" font-weight="bold">{_text(title)}</text>')
    return "\n".join([head, *parts, "</svg>"])


def _screen_box(kind: str, screen: dict[str, Any], x: int, y: int) -> tuple[str, int]:
    """A box for one screen and the y below it."""
    sid = screen.get("screenId") or f"{screen['baseScreenId']} → {screen['headScreenId']}"
    if kind == "changed":
        lines = [f"+ {e}" for e in screen["elementsAdded"]] + [f"- {e}" for e in screen["elementsRemoved"]]
    else:
        lines = list(screen["elements"])
    if len(lines) > MAX_ELEMENT_LINES:
        lines = lines[:MAX_ELEMENT_LINES - 1] + [f"... {len(lines) - MAX_ELEMENT_LINES + 1} more"]
    height = (len(lines) + 2) * LINE + LINE // 2
    texts = [f'<text x="{x + 8}" y="{y + LINE + 2}" font-weight="bold">{_text(_short(screen["activity"]))}</text>',
             f'<text x="{x + 8}" y="{y + 2 * LINE + 2}" fill="#555">{_text(sid)}</text>']
    texts += [f'<text x="{x + 8}" y="{y + (k + 3) * LINE + 2}">{_text(_short(line) if len(line) > 48 else line)}</text>'
              for k, line in enumerate(lines)]
    box = (f'<g class="screen-{kind}" data-activity={_attr(screen["activity"])}>'
           f'<rect x="{x}" y="{y}" width="{COLUMN_W}" height="{height}" rx="6" {STYLES[kind]}/>'
           + "".join(texts) + "</g>")
    return box, y + height + GAP // 2
