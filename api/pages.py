"""Pages for people: the static files in web/ and the browser libraries npm installed beside them.

The pages hold no data: their scripts call the public API like any client, with the
caller's key, so serving them needs no key and no private route.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.convertors import Convertor, register_url_convertor

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
# Only the files the pages load, by package: the rest of node_modules is not served.
VENDOR = {
    "cytoscape": "cytoscape/dist",
    "cytoscape-dagre": "cytoscape-dagre/dist",
    "eventsource": "eventsource/dist",
    "eventsource-parser": "eventsource-parser/dist",
}
# Pages are revalidated on every load (ETag): a new deployment shows at once.
NO_STALE_PAGES = {"Cache-Control": "no-cache"}


class UlidConvertor(Convertor):
    """A path segment that looks like a run id, so `/runs/{id}` never captures `/runs/diff`."""
    regex = "[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("ulid", UlidConvertor())


def mount_static(api: FastAPI) -> None:
    api.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")


def page(name: str) -> FileResponse:
    return FileResponse(WEB_DIR / "pages" / name, media_type="text/html", headers=NO_STALE_PAGES)


def vendor_file(package: str, name: str) -> FileResponse | None:
    """A file of an allowed package's dist folder; None for anything else (no `..`: `name` has no slash)."""
    folder = VENDOR.get(package)
    path = WEB_DIR / "node_modules" / folder / name if folder else None
    if path is None or name.startswith(".") or not path.is_file():
        return None
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


def wants_html(request: Request) -> bool:
    """A browser asks for text/html first; curl and clients ask for */* or JSON."""
    return "text/html" in request.headers.get("accept", "")
