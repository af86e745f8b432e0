"""Each real `uiautomator dump` (shared/real-apps/uiautomator-dumps) served by the simulator as a one-screen
recorded app: the page source it returns has the same nodes, the screenshot is the recorded one.

The material is read from REAL_APPS_DIR (tests/real/conftest.py: default ../shared/real-apps next to the
repository) and copied into tmp_path at test time only, never into the repository.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree

SAME = ("class", "text", "resource-id", "content-desc", "package", "bounds", "checkable", "checked", "clickable",
        "enabled", "focusable", "focused", "scrollable", "long-clickable", "password", "selected", "NAF")


def nodes_of(root: ElementTree.Element) -> list[tuple[str | None, ...]]:
    """Every node below the hierarchy, in document order, by what a reader of it sees."""
    return [tuple(n.get(k) for k in SAME) for n in root.iter() if n is not root]


def test_every_real_dump_is_served_with_the_same_nodes(driver_for, tmp_path, real_apps_dir):
    dumps = sorted((real_apps_dir / "uiautomator-dumps").glob("*/*.xml"))
    assert len(dumps) >= 30, f"expected the 35 dumps under {real_apps_dir}"
    for index, dump in enumerate(dumps):
        check_served(driver_for, tmp_path / str(index), dump)


def check_served(driver_for, tmp_path: Path, dump: Path) -> None:
    screens = tmp_path / "screens"
    screens.mkdir(parents=True)
    shutil.copy(dump, screens / dump.name)
    screen = {"activity": ".Recorded", "pageSource": f"screens/{dump.name}"}
    shot = dump.with_suffix(".png")
    if shot.is_file():
        shutil.copy(shot, screens / shot.name)
        screen["screenshot"] = f"screens/{shot.name}"
    recorded = ElementTree.parse(dump).getroot()
    package = next(n.get("package") for n in recorded.iter("node"))
    model = {"format": "recorded", "package": package, "start": "s0", "screens": {"s0": screen}}
    (tmp_path / "model.json").write_text(json.dumps(model))

    d = driver_for(str(tmp_path / "model.json"))
    served = ElementTree.fromstring(d.page_source.encode())
    assert nodes_of(served) == nodes_of(recorded), dump.name
    assert [n.tag for n in served.iter()][1:] == [n.get("class") for n in recorded.iter("node")]  # tags named by class
    root_bounds = recorded.find("node").get("bounds")
    x2, y2 = map(int, root_bounds.rsplit("[", 1)[1].rstrip("]").split(","))
    assert (served.get("width"), served.get("height")) == (str(x2), str(y2))  # the root's bounds
    if shot.is_file():
        assert d.get_screenshot_as_png() == shot.read_bytes()
