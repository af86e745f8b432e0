"""Runs that remember (DESIGN.md "Memory across runs") on the pages, in a real browser: a warm run of the next
version shows its version, how it started, its findings new and known, what it found fixed and what changed; a
warm run of the same version shows what it knew from memory; the runs list shows each run's version and memory.

The three runs are the session's (tests/fixtures/memory.py), which tests/e2e/test_memory.py checks through the API:
copies of apps/settings.json (version 34, "14.0") and apps/settings-v2.json (version 35, "15.0") under a package
of their own, explored cold, then warm, then the next version warm. Version 35 fixes the bug report crash, keeps
the Clear cache ANR and adds a Battery screen whose "Turn on now" crashes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from selenium.webdriver.common.by import By

from tests.browser.conftest import wait
from tests.browser.test_pages import open_run, page_state, text
from tests.e2e.test_memory import BATTERY
from tests.fixtures.memory import run_to_end, settings_versions

ANR_ACTIVITY = ".applications.AppInfoActivity"


def open_replay(browser, service, run: dict[str, Any]) -> None:
    """A finished run's page, with every one of its events applied."""
    open_run(browser, service.api_url, run["id"])
    wait(browser, lambda d: page_state(d)["ended"] and page_state(d)["events"] == len(run["events"]), "the replay")


def recalled(run: dict[str, Any]) -> dict[str, Any]:
    [data] = [e["data"] for e in run["events"] if e["event"] == "agent.memory.recalled"]
    return data


def test_the_next_versions_page_shows_what_changed_since_the_cold_run(service, api, browser, shot, three_runs):
    cold, nxt = three_runs["cold"]["id"], three_runs["next"]["id"]
    open_replay(browser, service, three_runs["next"])
    added = '#drift-counts li.drift-count[data-key="activitiesAdded"]'
    wait(browser, lambda d: d.find_element(By.ID, "drift-card").is_displayed()
         and d.find_elements(By.CSS_SELECTOR, added), "the drift card")
    assert browser.find_element(By.CSS_SELECTOR, added).get_attribute("data-count") == "1"
    assert text(browser, added) == "1 activity added"
    listed = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#drift-lists .activities-added li code")]
    assert listed == [BATTERY]
    # the counts are the API's drift's, each list's length
    drift = api.get(f"/run/{nxt}").json()["drift"]
    counts = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#drift-counts li.drift-count')]"
        ".map(li => [li.dataset.key, Number(li.dataset.count)]))")
    assert counts == {key: len(value) for key, value in drift.items() if isinstance(value, list)}, (counts, drift)

    # the picture is GET /runs/diff.svg of the cold run and this one, and it loads
    src = browser.find_element(By.ID, "drift-svg").get_attribute("data-src")
    url = urlsplit(src)
    assert url.path.endswith("/runs/diff.svg") and parse_qs(url.query) == {"base": [cold], "head": [nxt]}, src
    wait(browser, lambda d: d.execute_script(
        "const i = document.getElementById('drift-svg'); return !i.hidden && i.complete && i.naturalWidth > 0"),
        "the drift picture")

    # the base is the cold run, named by its version once the page has asked
    base = browser.find_element(By.ID, "drift-base")
    assert base.get_attribute("href") == f"{service.api_url}/runs/{cold}" and base.get_attribute("data-run-id") == cold
    wait(browser, lambda d: text(d, "#drift-base") == "version 14.0", "the base named by its version")
    browser.execute_script("document.getElementById('drift-card').scrollIntoView()")
    shot("drift")


def test_the_next_versions_findings_say_new_and_known(service, api, browser, shot, three_runs):
    cold, nxt = three_runs["cold"]["id"], three_runs["next"]
    findings = api.get(f"/run/{nxt['id']}/findings").json()["findings"]
    [crash] = [f for f in findings if (f["kind"], f["activity"]) == ("crash", BATTERY)]
    [anr] = [f for f in findings if (f["kind"], f["activity"]) == ("anr", ANR_ACTIVITY)]
    open_replay(browser, service, nxt)

    def badge(finding_id: str) -> str:
        return f'#findings-card details.finding[data-finding-id="{finding_id}"] summary .history'

    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, badge(crash["findingId"]))
         and d.find_elements(By.CSS_SELECTOR, badge(anr["findingId"])), "the two findings' history")
    new = browser.find_element(By.CSS_SELECTOR, badge(crash["findingId"]))
    # its text is "new" (app.css shows it in capitals)
    assert (new.tag_name, new.get_attribute("data-history"), new.get_attribute("textContent")) == ("span", "new", "new")
    assert "history-new" in new.get_attribute("class").split()
    known = browser.find_element(By.CSS_SELECTOR, badge(anr["findingId"]))
    assert (known.tag_name, known.get_attribute("data-history"), known.get_attribute("textContent")) == (
        "a", "known", "known since version 34")
    assert "history-known" in known.get_attribute("class").split()
    assert known.get_attribute("href") == f"{service.api_url}/runs/{cold}"
    # every finding with a history in the API has its badge, and only those (the replay may still be adding
    # the last findings' cards: they come with the history asked for before them)
    expected = {f["findingId"]: (f.get("history") or {}).get("status") for f in findings}

    def shown(driver: Any) -> dict[str, str | None]:
        return driver.execute_script(
            "return Object.fromEntries([...document.querySelectorAll('#findings-card details.finding')].map(d =>"
            " [d.dataset.findingId, d.querySelector('summary .history')?.dataset.history ?? null]))")

    wait(browser, lambda d: shown(d) == expected, f"every finding's badge as the API says: {expected}")
    browser.execute_script("arguments[0].scrollIntoView()", known)
    shot("findings")


def test_the_next_versions_page_lists_the_crash_it_found_fixed(service, api, browser, shot, three_runs):
    nxt = three_runs["next"]
    [fixed] = api.get(f"/run/{nxt['id']}").json()["fixed"]
    open_replay(browser, service, nxt)
    wait(browser, lambda d: d.find_element(By.ID, "fixed-card").is_displayed(), "the fixed card")
    items = browser.find_elements(By.CSS_SELECTOR, "#fixed li.fixed")
    assert len(items) == 1
    [item] = items
    assert (item.get_attribute("data-signature"), item.get_attribute("data-kind")) == (fixed["signature"], "crash")
    assert fixed["lastVersion"] == "34"
    assert text(item, ".fixed-title") == fixed["title"] and "bug" in fixed["title"].lower()
    assert text(item, ".tag.finding-kind") == "crash" and "last seen in version 34" in item.text
    last = item.find_element(By.CSS_SELECTOR, "a.fixed-last")
    assert last.get_attribute("href") == f"{service.api_url}/runs/{fixed['lastRunId']}"
    assert fixed["lastRunId"] in (three_runs["cold"]["id"], three_runs["warm"]["id"])
    browser.execute_script("document.getElementById('fixed-card').scrollIntoView()")
    shot("fixed")


def test_the_header_shows_the_version_the_memory_and_what_was_known(service, browser, shot, three_runs):
    # the next version: 15.0, warm, recalling both runs of 34
    nxt = three_runs["next"]
    open_replay(browser, service, nxt)
    version = browser.find_element(By.CSS_SELECTOR, "#app-version")
    assert version.is_displayed() and version.text == "version 15.0"
    assert version.find_element(By.CSS_SELECTOR, ".app-version").get_attribute("data-version-code") == "35"
    memory = browser.find_element(By.ID, "memory")
    assert memory.is_displayed() and (memory.get_attribute("data-memory"), memory.text) == ("warm", "memory: warm")
    said = recalled(nxt)
    assert (said["runs"], said["sameVersion"], said["previousVersion"]) == (2, False, "34"), said
    detail = browser.find_element(By.ID, "memory-detail")
    assert detail.is_displayed() and detail.text == f"recalled 2 runs, {said['screens']} screens · since version 34"
    shot("next")

    # the warm run of 34: what it knew without visiting, as run.completed says
    warm = three_runs["warm"]
    known = warm["end"]["metrics"]["knownFromMemory"]
    assert known > 0, warm["end"]["metrics"]
    open_replay(browser, service, warm)
    assert browser.find_element(By.ID, "known-from-memory-fact").is_displayed()
    assert text(browser, "#known-from-memory") == str(known)
    assert text(browser, "#app-version") == "version 14.0"
    assert browser.find_element(By.ID, "memory").get_attribute("data-memory") == "warm"
    assert text(browser, "#memory-detail").endswith("· same version")
    shot("warm")

    # the cold run: memory cold, nothing known from memory, nothing recalled
    open_replay(browser, service, three_runs["cold"])
    assert browser.find_element(By.ID, "memory").get_attribute("data-memory") == "cold"
    assert text(browser, "#app-version") == "version 14.0"
    assert not browser.find_element(By.ID, "known-from-memory-fact").is_displayed()
    assert not browser.find_element(By.ID, "memory-detail").is_displayed()
    assert not browser.find_element(By.ID, "drift-card").is_displayed()
    assert not browser.find_element(By.ID, "fixed-card").is_displayed()


def test_the_runs_list_shows_each_runs_version_and_the_warm_ones(service, api, appium_server, browser, shot,
                                                                 user_apps_dir):
    # Two short runs of their own (another package: the session's settings map stays as the API's tests expect
    # it), so that they are on the list's first page whatever ran before
    app = settings_versions(user_apps_dir, "memorylist")
    cold, _ = run_to_end(api, appium_server, app, "v1", maxSteps=2)
    warm, _ = run_to_end(api, appium_server, app, "v2", maxSteps=2, memory="warm")
    expected = {cold: ("14.0", "34", False), warm: ("15.0", "35", True)}
    browser.get(f"{service.api_url}/")
    wait(browser, lambda d: all(d.find_elements(By.CSS_SELECTOR, f'tr[data-run-id="{run_id}"]') for run_id in expected),
         "the two runs listed")
    assert browser.find_element(By.CSS_SELECTOR, "#runs thead th:nth-child(10)").text.lower() == "version"
    cells = browser.execute_script(  # at once: the list is redrawn every few seconds
        "return Object.fromEntries(arguments[0].map(id => {"
        " const cell = document.querySelector(`tr[data-run-id='${id}'] td:nth-child(10)`);"
        " const version = cell.querySelector('.run-version .app-version');"
        " const warm = !!cell.querySelector('.run-version .tag.memory-warm');"
        " return [id, [version?.textContent, version?.dataset.versionCode, warm]];"
        "}))", list(expected))
    assert cells == {run_id: list(row) for run_id, row in expected.items()}, cells
    shot("list")
