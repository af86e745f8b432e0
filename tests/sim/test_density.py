"""The screen's density (deviceScreenDensity, appium:simDensity) and touch targets of at least 48 dp."""

from __future__ import annotations

import json

import pytest
from selenium.common.exceptions import SessionNotCreatedException

from tests.fixtures.appium import sample_app
from tests.sim.helpers import bounds_of, by_id, source_tree, tiny_model, write_model


def dp(px: int, density: int) -> float:
    return px * 160 / density


def touchable_nodes(d):
    """The nodes an agent can touch (clickable, long-clickable or checkable), with their heights and widths in px."""
    out = []
    for n in source_tree(d).iter():
        if "true" in (n.get("clickable"), n.get("long-clickable"), n.get("checkable")):
            x1, y1, x2, y2 = bounds_of(n.get("bounds"))
            out.append((n.get("resource-id", "").split("/")[-1], y2 - y1, x2 - x1))
    return out


def crowded_model():
    """More clickables than fit at their natural height: the layout squeezes what it may."""
    elements = [{"id": f"row_{i}", "class": "android.widget.TextView", "text": f"Row {i}", "clickable": True,
                 "onClick": [{"goto": "b"}]} for i in range(12)]
    elements += [{"id": f"note_{i}", "class": "android.widget.TextView", "text": "A note " * 12} for i in range(4)]
    elements += [{"id": "icon", "class": "android.widget.ImageButton", "desc": "Add", "onClick": [{"goto": "b"}]},
                 {"id": "tiny", "class": "android.widget.ImageButton", "desc": "Close", "bounds": "[1000,90][1040,130]"}]
    return tiny_model(a={"activity": ".A", "elements": elements})


def test_the_capabilities_say_the_density_420_by_default(driver_for):
    d = driver_for("notes")
    assert d.capabilities["deviceScreenDensity"] == 420
    assert d.capabilities["deviceScreenSize"] == "1080x2400"


@pytest.mark.parametrize("density", [160, 420, 640])
def test_laid_out_clickables_are_at_least_48_dp_tall_and_wide(driver_for, tmp_path, density):
    d = driver_for(write_model(tmp_path, crowded_model()), simDensity=density)
    assert d.capabilities["deviceScreenDensity"] == density
    nodes = {rid: (h, w) for rid, h, w in touchable_nodes(d)}
    assert len(nodes) == 14
    for rid, (h, w) in nodes.items():
        if rid != "tiny":
            assert dp(h, density) >= 48 and dp(w, density) >= 48, (rid, h, w)
    assert nodes["tiny"] == (40, 40)  # explicit bounds: a smaller target is the model's own
    texts = [bounds_of(by_id(d, f"note_{i}").get_attribute("bounds")) for i in range(4)]
    assert all(b[3] - b[1] < 96 for b in texts) or density == 160  # what cannot be touched was squeezed instead


def test_126_px_at_420_dpi(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, crowded_model()))
    heights = {rid: h for rid, h, _ in touchable_nodes(d)}
    assert min(h for rid, h in heights.items() if rid != "tiny") == 126


def test_squeezed_elements_still_do_not_overlap(driver_for, tmp_path):
    d = driver_for(write_model(tmp_path, crowded_model()))
    boxes = sorted(bounds_of(n.get("bounds")) for n in source_tree(d).iter()
                   if n.get("resource-id", "").startswith("com.example.tiny:id/") and not n.get("resource-id").endswith("/tiny"))
    for upper, lower in zip(boxes, boxes[1:]):
        assert upper[3] <= lower[1]
    assert boxes[-1][3] <= 2400 - 126  # above the navigation bar


@pytest.mark.parametrize("name", ["notes", "settings", "shop", "recipes"])
def test_sample_apps_start_screens_keep_their_targets_48_dp_but_the_seeded_small_ones(driver_for, name):
    model = json.loads(open(sample_app(name)).read())
    explicit = {e["id"] for s in model["screens"].values() for e in s.get("elements", []) if "bounds" in e}
    d = driver_for(name)
    for rid, h, w in touchable_nodes(d):
        if rid not in explicit:
            assert dp(h, 420) >= 48 and dp(w, 420) >= 48, (rid, h, w)


@pytest.mark.parametrize("density", [0, "high", 2000])
def test_a_wrong_density_is_refused(driver_for, density):
    with pytest.raises(SessionNotCreatedException) as err:
        driver_for("notes", simDensity=density)
    assert "simDensity" in err.value.msg
