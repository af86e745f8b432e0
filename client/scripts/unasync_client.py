"""Makes runservice_client/client.py (RunClient, blocking) from async_client.py (AsyncRunClient) with unasync,
as httpx and httpcore make their sync code: `python client/scripts/unasync_client.py` writes it, `--check`
only says whether it is up to date (tests/client/test_package.py checks so). Needs `pip install unasync`:
a tool of the repository, not of the client, which depends on HTTP libraries only."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import unasync

PACKAGE = Path(__file__).resolve().parent.parent / "runservice_client"
SOURCE, TARGET = PACKAGE / "async_client.py", PACKAGE / "client.py"
HEADER = "# Made from async_client.py by client/scripts/unasync_client.py (unasync): edit that file, not this one.\n"
# Beyond unasync's own (__aenter__, AsyncIterator, ...; a name AsyncX becomes SyncX: flavours.AsyncParallel).
REPLACEMENTS = {
    "AsyncRunClient": "RunClient",
    "AsyncClient": "Client",  # httpx
    "AsyncRetrying": "Retrying",  # tenacity
    "aiter_sse": "iter_sse",  # httpx-sse
    "aclosing": "closing",
    "aclose": "close",
    "aread": "read",
    "async_svg_source": "svg_source",  # flavours
}


def generate() -> str:
    """client.py's text: async_client.py through unasync, under a line that says so."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / SOURCE.name
        shutil.copyfile(SOURCE, source)
        unasync.unasync_files([str(source)], [unasync.Rule(SOURCE.name, TARGET.name, REPLACEMENTS)])
        return HEADER + (Path(folder) / TARGET.name).read_text(encoding="utf-8")


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" in argv:
        fresh = TARGET.read_text(encoding="utf-8") == text
        print(f"{TARGET.name} is {'up to date' if fresh else 'stale: run ' + Path(__file__).name}")
        return 0 if fresh else 1
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
