"""GET /runs/diff and /runs/diff.svg: the UI drift between two versions of the shop, each explored for real.

apps/shop-v2.json differs from apps/shop.json by exactly: an activity added (.GiftCardsActivity, from a new
"Gift cards" entry of the account screen), one removed (.WishlistActivity and its entry), a button renamed
(the cart's "Checkout" is "Proceed to checkout") and a route changed (posting a review leads home instead of
back to the product).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from ulid import ULID

from tests.fixtures.service import read_stream, start_body

GIFTS, WISHLIST = ".GiftCardsActivity", ".WishlistActivity"


@pytest.fixture(scope="module")
def two_versions(service: Any, appium_server: str) -> tuple[str, str]:
    """Both versions explored to the end (at once, on two devices); their graphs projected."""
    with httpx.Client(base_url=service.api_url, timeout=30) as client:
        runs = [client.post("/run", json=start_body(appium_server, app=app, maxSteps=400)).json()["runId"]
                for app in ("shop", "shop-v2")]
        for run_id in runs:
            end = read_stream(client, run_id)[-1]
            assert end["data"].get("stopReason") == "explored", end
            steps = end["data"]["metrics"]["steps"]
            assert _projected(client, run_id, steps), f"the graph of {run_id} lacks the end of its stream"
        return runs[0], runs[1]


def _projected(client: httpx.Client, run_id: str, steps: int) -> bool:
    """The graph, asked for once after the stream ended, has the run's last perception (read-your-writes)."""
    screens = client.get(f"/run/{run_id}/graph").json()["screens"]
    return bool(screens) and max(s["lastSeenStep"] for s in screens) >= steps - 1


def transitions(rows: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(t["fromActivity"], t["actionId"], t["toActivity"]) for t in rows}


def test_the_diff_names_exactly_the_changes_between_the_versions(api, two_versions):
    base, head = two_versions
    answer = api.get("/runs/diff", params={"base": base, "head": head})
    assert answer.status_code == 200, answer.text
    drift = answer.json()
    assert (drift["base"], drift["head"]) == (base, head)
    assert (drift["activitiesAdded"], drift["activitiesRemoved"]) == ([GIFTS], [WISHLIST])
    assert [s["activity"] for s in drift["screensAdded"]] == [GIFTS]
    assert [s["activity"] for s in drift["screensRemoved"]] == [WISHLIST]
    changed = {c["activity"]: (c["elementsAdded"], c["elementsRemoved"]) for c in drift["screensChanged"]}
    assert changed == {
        ".AccountActivity": (['TextView#gift_cards "Gift cards"'], ['TextView#wishlist "Wishlist"']),
        ".CartActivity": (['Button#checkout "Proceed to checkout"'], ['Button#checkout "Checkout"']),
    }
    route_before = (".ReviewsActivity", "tap:id/post_review", ".ProductActivity")
    route_after = (".ReviewsActivity", "tap:id/post_review", ".ShopHomeActivity")
    removed, added = transitions(drift["transitionsRemoved"]), transitions(drift["transitionsAdded"])
    assert route_before in removed and route_after in added
    # Every other transition that changed goes to or from the screen that came or went.
    assert all(WISHLIST in t for t in removed - {route_before}) and len(removed) > 1
    assert all(GIFTS in t for t in added - {route_after}) and len(added) > 1
    assert (".AccountActivity", "tap:id/gift_cards", GIFTS) in added
    assert (".AccountActivity", "tap:id/wishlist", WISHLIST) in removed


def test_the_diff_is_the_same_every_time_and_empty_against_itself(api, two_versions):
    base, head = two_versions
    first = api.get("/runs/diff", params={"base": base, "head": head}).json()
    assert api.get("/runs/diff", params={"base": base, "head": head}).json() == first
    same = api.get("/runs/diff", params={"base": base, "head": base}).json()
    assert all(same[key] == [] for key in same if key not in ("base", "head"))


def test_the_diff_as_a_picture(api, two_versions):
    base, head = two_versions
    answer = api.get("/runs/diff.svg", params={"base": base, "head": head})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(answer.text)
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert GIFTS in texts and WISHLIST in texts and '+ Button#checkout "Proceed to checkout"' in texts


def test_an_unknown_run_or_a_missing_parameter_is_refused(api, two_versions):
    base, _ = two_versions
    for path in ("/runs/diff", "/runs/diff.svg"):
        unknown = api.get(path, params={"base": base, "head": str(ULID())})
        assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
        missing = api.get(path, params={"base": base})
        assert missing.status_code == 400 and missing.json()["code"] == "invalid_argument"
        assert "head" in missing.text


def test_another_tenants_runs_cannot_be_compared(keyed_api_url, appium_server):
    with httpx.Client(base_url=keyed_api_url, headers={"Authorization": "Bearer acme-key"}, timeout=30) as acme, \
            httpx.Client(base_url=keyed_api_url, headers={"Authorization": "Bearer globex-key"}, timeout=30) as globex:
        mine = acme.post("/run", json=start_body(appium_server, app="shop", maxSteps=2)).json()["runId"]
        theirs = globex.post("/run", json=start_body(appium_server, app="shop", maxSteps=2)).json()["runId"]
        for run_id in (mine, theirs):
            read_stream(acme if run_id == mine else globex, run_id)
        assert acme.get("/runs/diff", params={"base": mine, "head": mine}).status_code == 200
        for base, head in ((mine, theirs), (theirs, mine)):
            answer = acme.get("/runs/diff", params={"base": base, "head": head})
            assert answer.status_code == 404 and answer.json()["code"] == "not_found"
            assert acme.get("/runs/diff.svg", params={"base": base, "head": head}).status_code == 404
