"""The pages in a real browser: the runs list, one run live and replayed, steering, API keys, policies, findings."""

from __future__ import annotations

import httpx
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import wait
from tests.browser.proxy import DroppableProxy
from tests.fixtures.appium import sample_app
from tests.fixtures.service import read_stream, start_body

NOTES_INPUTS = {"username": "alice", "password": "secret"}


def start(service, api: httpx.Client, app: str = "notes", **fields) -> str:
    body = start_body(service.settings.appium_url, app, **({"inputs": NOTES_INPUTS} if app == "notes" else {}), **fields)
    answer = api.post("/run", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["runId"]


def text(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def page_state(driver) -> dict:
    return driver.execute_script("return {...window.runPage.state, nodes: window.runPage.graph?.cy.nodes().length ?? 0}")


def test_the_list_shows_a_started_run_and_follows_it_live(service, api, browser, shot):
    run_id = start(service, api, "shop", maxSteps=1000)
    row = f'tr[data-run-id="{run_id}"]'
    try:
        browser.get(f"{service.api_url}/")
        wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "running"
             and int(d.find_element(By.CSS_SELECTOR, f"{row} td:nth-child(7)").text) >= 1, "the run's row, live")
        shot("started")
    finally:
        api.post(f"/run/{run_id}/cancel")
    # the row changes without a reload
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "canceled",
         "the row to show the run canceled")
    shot("canceled")
    cells = browser.execute_script(  # at once: the row is redrawn every few seconds
        "return [...document.querySelectorAll(`tr[data-run-id='${arguments[0]}'] td`)].map(td => td.innerText)", run_id)
    assert cells[:5] == [run_id, "canceled", "user cancelled", "com.example.shop", "dfs"]  # none asked: dfs
    assert cells[5].endswith(" / 1000") and int(cells[6]) >= 1
    link = browser.execute_script("return document.querySelector(`tr[data-run-id='${arguments[0]}'] a`).href", run_id)
    assert link == f"{service.api_url}/runs/{run_id}"
    # the status filter asks GET /runs?status=...
    status = Select(browser.find_element(By.ID, "status-filter"))
    status.select_by_visible_text("completed")
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, row), "the canceled run filtered out")
    shown = browser.execute_script("return [...document.querySelectorAll('tbody tr')].map(tr => tr.dataset.status)")
    assert set(shown) <= {"completed"}
    status.select_by_visible_text("canceled")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row), "the canceled run listed again")
    assert "status=canceled" in browser.current_url


def open_run(browser, base_url: str, run_id: str) -> None:
    browser.get(f"{base_url}/runs/{run_id}")
    wait(browser, lambda d: d.execute_script("return window.runPage?.state.events > 0"), "the first events")


def all_timeline_seqs(browser) -> list[int]:
    """The seq of every timeline entry, in seq order, with every step opened (a closed step holds no rows)."""
    wait(browser, lambda d: d.execute_script(  # a step builds its rows when its toggle event comes
        "const steps = [...document.querySelectorAll('#timeline details')];"
        "steps.forEach(s => { s.open = true; });"
        "return steps.every(s => s.querySelectorAll('li').length === Number(s.dataset.count))"), "every step's rows")
    seqs = browser.execute_script("return [...document.querySelectorAll('#timeline li[data-seq]')].map(li => Number(li.dataset.seq))")
    return sorted(seqs)


def test_a_run_page_shows_events_live_and_the_graph_growing(service, api, browser, shot):
    run_id = start(service, api, "shop", maxSteps=1000)
    try:
        open_run(browser, service.api_url, run_id)
        wait(browser, lambda d: text(d, "#status") == "running", "the run to show running")
        first = page_state(browser)
        wait(browser, lambda d: page_state(d)["nodes"] > max(first["nodes"], 1), "the graph to grow")
        grown = page_state(browser)
        assert grown["events"] > first["events"] and grown["step"] >= first["step"]
        assert not grown["ended"]  # seen while the run was live, not replayed afterwards
        # Each step swaps in a new screenshot, and a swapped-in image has no width until it is decoded.
        wait(browser, lambda d: d.execute_script(
            "const i = document.getElementById('screenshot');"
            "return !i.hidden && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0"), "the latest screenshot")
        shot("live")
        wait(browser, hover_shows_the_first_screens_thumbnail, "the screen's thumbnail")
        shot("hover")
    finally:
        api.post(f"/run/{run_id}/cancel")


def hover_shows_the_first_screens_thumbnail(browser) -> bool:
    """Hovers the graph's first screen where it is drawn now: the live graph's layout may move it
    between a look at its position and the mouse's arrival, so a missed hover is tried again."""
    if browser.execute_script("return document.getElementById('preview').hidden"):
        x, y = browser.execute_script("const p = runPage.graph.cy.nodes()[0].renderedPosition(); return [p.x, p.y]")
        graph = browser.find_element(By.ID, "graph")
        corner = (2 - graph.size["width"] // 2, 2 - graph.size["height"] // 2)  # off every screen: a fresh mouseover
        ActionChains(browser).move_to_element_with_offset(graph, *corner).move_to_element_with_offset(
            graph, int(x - graph.size["width"] / 2), int(y - graph.size["height"] / 2)).perform()
    return browser.execute_script(
        "const p = document.getElementById('preview'); const i = p.querySelector('img');"
        "return !p.hidden && i.complete && i.naturalWidth > 0")


def test_cancel_from_the_page_ends_the_run(service, api, browser, shot):
    run_id = start(service, api, "shop", maxSteps=1000)
    open_run(browser, service.api_url, run_id)
    wait(browser, lambda d: text(d, "#status") == "running", "the run to show running")
    browser.find_element(By.ID, "cancel").click()
    wait(browser, lambda d: "Cancel requested" in text(d, "#action-message"), "the cancel's answer")
    wait(browser, lambda d: text(d, "#status") == "canceled", "the run to end canceled")
    assert text(browser, "#stop-reason") == "user cancelled"
    assert all(not b.is_enabled() for b in browser.find_elements(By.CSS_SELECTOR, ".actions button"))
    shot("canceled")
    assert api.get(f"/run/{run_id}").json()["status"] == "canceled"


def test_a_reload_mid_run_and_a_dropped_stream_resume_without_duplicates(service, api, browser):
    run_id = start(service, api, "shop", maxSteps=1000)
    proxy = DroppableProxy(service.api_url)
    try:
        open_run(browser, proxy.url, run_id)
        wait(browser, lambda d: page_state(d)["events"] >= 40, "some events")
        # Paused, the run cannot end (the shop is explored in about 50 steps) while the page reconnects.
        assert api.post(f"/run/{run_id}/pause").status_code == 200
        wait(browser, lambda d: text(d, "#status") == "paused", "the run to pause")
        browser.refresh()
        wait(browser, lambda d: text(d, "#connection") == "live" and text(d, "#status") == "paused",
             "the stream after the reload")
        proxy.drop()  # the reader reconnects with Last-Event-ID and goes on where it was
        wait(browser, lambda d: text(d, "#connection") == "reconnecting…", "the page to notice the drop")
        wait(browser, lambda d: text(d, "#connection") == "live", "the stream after the drop")
        before = page_state(browser)["events"]
        assert api.post(f"/run/{run_id}/resume").status_code == 200
        wait(browser, lambda d: page_state(d)["events"] > before + 20, "events after the reconnect")
    finally:
        api.post(f"/run/{run_id}/cancel")
    wait(browser, lambda d: page_state(d)["ended"], "the run's end")
    proxy.close()
    last = api.get(f"/run/{run_id}").json()["lastEventSeq"]
    assert page_state(browser)["events"] == last
    assert all_timeline_seqs(browser) == list(range(1, last + 1))


def test_a_finished_run_replays_as_a_report(service, api, browser, shot):
    run_id = start(service, api, "notes", maxSteps=12)
    events = read_stream(api, run_id)  # until the end
    screens = {e["data"]["screenId"] for e in events if e["event"] == "graph.screen.discovered"}
    transitions = {(e["data"]["fromScreen"], e["data"]["toScreen"], e["data"]["action"]["action_id"])
                   for e in events if e["event"] == "graph.transition.discovered"}
    open_run(browser, service.api_url, run_id)
    wait(browser, lambda d: page_state(d)["ended"] and page_state(d)["events"] == len(events), "the replay")
    wait(browser, lambda d: d.find_element(By.ID, "screenshot").get_attribute("src"), "the last screenshot")
    state = page_state(browser)
    assert (state["status"], state["stopReason"], state["step"]) == ("completed", "max_steps", 12)
    assert state["nodes"] == len(screens | {to for _, to, _ in transitions})
    assert browser.execute_script("return runPage.graph.cy.edges().length") == len(transitions)
    assert "ended" in text(browser, "#connection")
    assert text(browser, "#policy") == "policy: dfs" and not browser.find_element(By.ID, "llm-fact").is_displayed()
    top = browser.find_element(By.CSS_SELECTOR, "#timeline details")  # the Stop node's, after reproducing
    last_step = max(e["data"].get("stepOrdinal", 0) for e in events)
    assert top.get_attribute("data-step") == str(last_step) and "completed · max steps" in top.text
    shot("report")
    # a refused action is a message on the page, not a broken page
    browser.execute_script("document.getElementById('cancel').disabled = false")
    browser.find_element(By.ID, "cancel").click()
    wait(browser, lambda d: "409" in text(d, "#action-message"), "the 409 as a message")
    assert "refused" in text(browser, "#action-message") and text(browser, "#status") == "completed"
    assert all_timeline_seqs(browser) == [e["id"] for e in events]


def test_pause_and_resume_from_the_page(service, api, browser, shot):
    run_id = start(service, api, "shop", maxSteps=1000)
    try:
        open_run(browser, service.api_url, run_id)
        wait(browser, lambda d: text(d, "#status") == "running", "the run to show running")
        browser.find_element(By.ID, "pause").click()
        wait(browser, lambda d: "Pause requested" in text(d, "#action-message"), "the pause's answer")
        wait(browser, lambda d: text(d, "#status") == "paused", "the run to pause")
        paused_at = page_state(browser)["step"]
        assert browser.find_element(By.ID, "resume").is_enabled() and not browser.find_element(By.ID, "pause").is_enabled()
        shot("paused")
        browser.find_element(By.ID, "resume").click()
        wait(browser, lambda d: "Resumed" in text(d, "#action-message"), "the resume's answer")
        wait(browser, lambda d: text(d, "#status") == "running" and page_state(d)["step"] > paused_at,
             "the run to go on after its pause")
    finally:
        api.post(f"/run/{run_id}/cancel")
    wait(browser, lambda d: page_state(d)["ended"], "the run's end")
    assert {"run.paused", "run.resumed"} <= set(all_timeline_names(browser))


def all_timeline_names(browser) -> list[str]:
    all_timeline_seqs(browser)  # opens every step
    return browser.execute_script("return [...document.querySelectorAll('#timeline li .name')].map(n => n.textContent)")


def submit_key(browser, key: str) -> None:
    field = browser.find_element(By.NAME, "key")
    field.clear()
    field.send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#key-dialog button[type=submit]").click()


def test_with_api_keys_the_pages_ask_for_one_and_show_only_the_tenants_runs(service, keyed_api_url, browser, shot):
    body = start_body(service.settings.appium_url, "notes", maxSteps=5, inputs=NOTES_INPUTS)
    with httpx.Client(base_url=keyed_api_url, timeout=30) as keyed:
        ours, theirs = (keyed.post("/run", json=body, headers={"Authorization": f"Bearer {key}"}).json()["runId"]
                        for key in ("acme-key", "globex-key"))
    browser.get(f"{keyed_api_url}/runs/{ours}")
    dialog = wait(browser, EC.visibility_of_element_located((By.ID, "key-dialog")), "the page to ask for a key")
    shot("asked")
    submit_key(browser, "not-a-key")
    wait(browser, EC.visibility_of_element_located((By.CSS_SELECTOR, ".key-refused")), "the wrong key refused")
    submit_key(browser, "acme-key")
    wait(browser, lambda d: not dialog.is_displayed() and d.execute_script("return runPage.state.events > 0"),
         "the run's events with the key")
    wait(browser, lambda d: d.find_element(By.ID, "screenshot").get_attribute("src"), "a screenshot with the key")
    shot("run")
    browser.get(f"{keyed_api_url}/runs/{theirs}")  # the key is kept: no second question
    wait(browser, EC.visibility_of_element_located((By.ID, "not-found")), "another tenant's run as not found")
    assert not browser.find_element(By.ID, "key-dialog").is_displayed()
    browser.get(f"{keyed_api_url}/")
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-run-id="{ours}"]')), "our run listed")
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-run-id="{theirs}"]')
    shot("list")


PURPOSES = {"rank": "rank actions", "choose": "choose action", "goal": "goal check"}


def test_an_llm_run_page_shows_its_policy_and_each_model_call(service, api, browser, shot, llm_proxy):
    run_id = start(service, api, "settings", maxSteps=3, policy="llm")
    open_run(browser, service.api_url, run_id)  # live or, if the run is quick, replayed: the same page
    events = read_stream(api, run_id)  # until the end
    calls = {e["id"]: e["data"] for e in events if e["event"] == "agent.llm.called"}
    assert calls and events[-1]["event"] == "run.completed", events[-1]
    wait(browser, lambda d: page_state(d)["ended"] and page_state(d)["events"] == len(events), "the whole run")

    assert text(browser, "#policy") == "policy: llm"
    sent = [c for c in calls.values() if not c["cached"] and c["reason"] != "budget"]
    tokens = sum(c["promptTokens"] + c["completionTokens"] for c in calls.values())
    assert text(browser, "#llm-requests") == str(len(sent)) and f"{tokens} tokens" in text(browser, "#llm-detail")
    all_timeline_seqs(browser)  # opens every step
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#timeline li')].filter(li => li.querySelector('.name').textContent"
        " === 'agent.llm.called').map(li => [Number(li.dataset.seq), li.querySelector('.detail').textContent,"
        " li.classList.contains('fallback')])")
    assert sorted(seq for seq, _, _ in rows) == sorted(calls)
    for seq, detail, marked in rows:
        call = calls[seq]
        assert detail.startswith(PURPOSES[call["purpose"]]), detail
        outcome = "chosen" if call["outcome"] == "chosen" else f"fallback: {call['reason'].replace('_', ' ')}"
        assert outcome in detail and marked == (call["outcome"] == "fallback"), detail
        cost = "cached" if call["cached"] else f"{call['promptTokens']} + {call['completionTokens']} tokens"
        assert cost in detail and (call["cached"] or detail.count(" ms") == 1), detail
    steps = {c["stepOrdinal"] for c in calls.values()}
    tagged = browser.execute_script(
        "return [...document.querySelectorAll('#timeline details')].filter(s => s.querySelector('.tag.llm'))"
        ".map(s => Number(s.dataset.step))")
    assert set(tagged) == steps  # each step that asked the model says so in its summary line
    browser.execute_script("document.querySelector(`#timeline li[data-seq='${arguments[0]}']`).scrollIntoView()", min(calls))
    shot("llm")

    browser.get(f"{service.api_url}/")
    row = f'tr[data-run-id="{run_id}"]'
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "completed",
         "the llm run in the list")
    assert text(browser, f"{row} td:nth-child(5)") == "llm"


NPE = "java.lang.NullPointerException"


def crash_card(driver, exception: str = NPE):
    """The Findings panel's card of the crash with this exception, once it shows."""
    for card in driver.find_elements(By.CSS_SELECTOR, "#findings-card details.finding[data-kind='crash']"):
        if card.find_elements(By.CSS_SELECTOR, ".exception code") and text(card, ".exception code") == exception:
            return card
    return None


def test_the_run_page_shows_the_findings_live_and_the_list_counts_them(service, api, browser, shot):
    """The notes app's "Sync now" crashes it (apps/README.md): the crash shows while the run goes on, then its
    reproduction, a screenshot and a test.py that is the API's; the list shows the run's count."""
    run_id = start(service, api, "notes", maxSteps=60)  # the depth-first crawl taps "Sync now" at step 42
    open_run(browser, service.api_url, run_id)
    wait(browser, crash_card, "the crash in the Findings panel")
    assert not page_state(browser)["ended"]  # shown from the live stream: its reproduction is still to come
    shot("crash-live")
    wait(browser, lambda d: "reproduced 2 of 2" in text(crash_card(d), "summary"), "the crash's reproduction")
    wait(browser, lambda d: page_state(d)["ended"], "the run's end")

    found = api.get(f"/run/{run_id}/findings").json()["findings"]
    crash = next(f for f in found if f["kind"] == "crash" and f["details"]["exception"] == NPE)
    card = crash_card(browser)
    assert card.get_attribute("data-finding-id") == crash["findingId"] and card.get_attribute("open") is not None
    assert crash["title"] in text(card, "summary") and f"{crash['occurrences']}×" in text(card, "summary")
    assert crash["details"]["message"] in text(card, ".exception")
    own = [li.text for li in card.find_elements(By.CSS_SELECTOR, "ol.frames li.own")]
    assert own and own[0] == f"at {crash['details']['frames'][0]}" and all("com.example.notes." in f for f in own)
    steps = [li.text for li in card.find_elements(By.CSS_SELECTOR, "ol.repro-steps li")]
    assert len(steps) == len(crash["reproduction"]["steps"]) and steps[-1].startswith('tap "Sync now"')
    wait(browser, lambda d: d.execute_script(
        "const i = arguments[0].querySelector('.finding-shot img'); return i && i.complete && i.naturalWidth > 0", card),
        "the crash's screenshot")
    # The test.py link is the API's file: Python that compiles.
    link = card.find_element(By.CSS_SELECTOR, "a.test-link").get_attribute("href")
    assert link == f"{service.api_url}/run/{run_id}/findings/{crash['findingId']}/test.py"
    script = httpx.get(link, timeout=30)
    assert script.status_code == 200 and script.text == api.get(f"/run/{run_id}/findings/{crash['findingId']}/test.py").text
    compile(script.text, "test_finding.py", "exec")
    report = browser.find_element(By.CSS_SELECTOR, "#findings-card a.report-link").get_attribute("href")
    assert httpx.get(report, timeout=30).text.startswith("<?xml")
    # The page's findings are the API's, counted in the summary; an accessibility finding has no test link.
    shown = browser.execute_script("const cards = [...document.querySelectorAll('#findings-card details.finding')];"
                                   "cards.forEach(d => { d.open = true; });"  # a card's body is built when it opens
                                   "return cards.map(d => [d.dataset.findingId, d.dataset.kind]);")
    wait(browser, lambda d: d.execute_script("return [...document.querySelectorAll('#findings-card details.finding')]"
                                             ".every(d => d.querySelector('.finding-links'))"), "every card's body")
    links = browser.execute_script("return [...document.querySelectorAll('#findings-card details.finding')]"
                                   ".map(d => !!d.querySelector('a.test-link'))")
    assert [(fid, kind) for fid, kind in shown] == [(f["findingId"], f["kind"]) for f in found]
    assert links == [f["kind"] in ("crash", "anr") and bool(f["reproduction"]["steps"]) for f in found]
    assert text(browser, "#findings-count") == str(len(found))
    # The unlabelled delete button: its bounds are boxed on the screenshot, inside the picture.
    unlabelled = next(f for f in found if f["kind"] == "accessibility")
    box = wait(browser, lambda d: d.execute_script(
        "const card = document.querySelector(`details.finding[data-finding-id='${arguments[0]}']`);"
        "const box = card.querySelector('.finding-box'), img = card.querySelector('.finding-shot img');"
        "if (!box || !img.naturalWidth) return null;"
        "const [b, i] = [box.getBoundingClientRect(), img.getBoundingClientRect()];"
        "return [b.left - i.left, b.top - i.top, b.right - i.left, b.bottom - i.top, i.width, i.height];",
        unlabelled["findingId"]), "the unlabelled button boxed")
    left, top, right, bottom, width, height = box
    assert 0 <= left < right <= width + 2 and 0 <= top < bottom <= height + 2, box
    x1, y1, x2, y2 = unlabelled["details"]["bounds"]  # in the device's pixels: the box keeps their proportions
    assert abs((right - left) / (bottom - top) - (x2 - x1) / (y2 - y1)) < 0.15, box
    browser.execute_script("document.getElementById('findings-card').scrollIntoView()")
    shot("findings")

    browser.refresh()  # a finished run replays: the same panel
    wait(browser, lambda d: page_state(d)["ended"] and crash_card(d) is not None, "the replayed findings")
    assert "reproduced 2 of 2" in text(crash_card(browser), "summary")

    browser.get(f"{service.api_url}/")
    row = f'tr[data-run-id="{run_id}"]'
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row)
         and text(d, f"{row} td:nth-child(8)") == str(len(found)), "the run's findings counted in the list")
    assert browser.find_element(By.CSS_SELECTOR, "#runs thead th:nth-child(8)").text.lower() == "findings"
    shot("list")


SNAP = ("com.example.snap", ".HomeActivity")  # apps/snap.json: permission dialogs, a link into Chrome, a login wall


def click_screen(browser, screen_id: str) -> bool:
    """Clicks a graph screen where it is drawn now (a click pins its preview); true once its preview shows."""
    preview = "const p = document.getElementById('preview'); return !p.hidden && p.dataset.screenId === arguments[0]"
    if not browser.execute_script(preview, screen_id):
        x, y = browser.execute_script("const p = runPage.graph.cy.getElementById(arguments[0]).renderedPosition();"
                                      "return [p.x, p.y]", screen_id)
        graph = browser.find_element(By.ID, "graph")
        ActionChains(browser).move_to_element_with_offset(
            graph, int(x - graph.size["width"] / 2), int(y - graph.size["height"] / 2)).click().perform()
    return browser.execute_script(preview, screen_id)


def run_to_its_end(service, api, app: str, package_activity: tuple[str, str], **fields) -> tuple[str, list[dict]]:
    """A run of a sample app started through the API and its events read to the end: it completed."""
    body = {"apkPath": sample_app(app), "appiumServerUrl": service.settings.appium_url,
            "packageName": package_activity[0], "appActivity": package_activity[1], **fields}
    answer = api.post("/run", json=body)
    assert answer.status_code == 201, answer.text
    run_id = answer.json()["runId"]
    events = read_stream(api, run_id)  # until the end
    assert events[-1]["event"] == "run.completed", events[-1]
    return run_id, events


def timeline_entries(browser, selector: str) -> dict[int, list[str]]:
    """The timeline's entries that `selector` names, by seq: [classes, event name, first tag, detail text]."""
    rows = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll(arguments[0])].map(li => [li.dataset.seq,"
        " [li.className, li.querySelector('.name').textContent, li.querySelector('.detail .tag').textContent,"
        "  li.querySelector('.detail').textContent]]))", selector)
    return {int(seq): row for seq, row in rows.items()}


def steps_tagged(browser, tag: str) -> set[int]:
    """The steps whose summary line carries the tag."""
    return set(browser.execute_script(
        "return [...document.querySelectorAll('#timeline details')]"
        ".filter(s => s.querySelector(`summary .tag.${arguments[0]}`)).map(s => Number(s.dataset.step))", tag))


def test_a_snap_run_page_shows_system_dialogs_app_exits_and_labels(service, api, browser, shot):
    # No inputs: the agent does not guess at the login wall, so its screen is labelled login and the run login_required.
    run_id, events = run_to_its_end(service, api, "snap", SNAP, maxSteps=80)
    terminal = events[-1]
    dialogs = {e["id"]: e["data"] for e in events if e["event"] == "agent.system.dialog"}
    exits = {e["id"]: e["data"] for e in events if e["event"] == "agent.app.left"}
    discovered = {e["data"]["screenId"]: e["data"].get("labels", []) for e in events if e["event"] == "graph.screen.discovered"}
    login = {screen for screen, labels in discovered.items() if "login" in labels}
    run_labels, metrics = terminal["data"]["labels"], terminal["data"]["metrics"]
    assert dialogs and exits and login, (len(dialogs), len(exits), discovered)
    assert {"login_required", "left_app", "system_dialogs"} <= set(run_labels)
    left_from = {e["data"]["fromScreen"]: e["data"]["leftTo"] for e in events
                 if e["event"] == "graph.transition.discovered" and e["data"]["toScreen"] is None}
    assert left_from

    open_run(browser, service.api_url, run_id)
    wait(browser, lambda d: page_state(d)["ended"] and page_state(d)["events"] == len(events), "the replay")

    # the run's labels and counts, with its facts
    shown = browser.execute_script("return [...document.querySelectorAll('#run-labels .tag')].map(t => t.dataset.label)")
    assert shown == run_labels and "login required" in text(browser, "#run-labels")
    assert browser.find_element(By.ID, "run-labels-fact").is_displayed()
    assert text(browser, "#app-left") == str(metrics["appLeft"]) == str(len(exits))
    assert text(browser, "#system-dialogs") == str(metrics["systemDialogs"]) == str(len(dialogs))

    # system dialogs and app exits: their own entries in the timeline, tagged, with what they said
    all_timeline_seqs(browser)  # opens every step
    rows = timeline_entries(browser, "#timeline li.met")
    assert sorted(rows) == sorted(dialogs | exits)
    for seq, dialog in dialogs.items():
        _, name, tag, detail = rows[seq]
        assert (name, tag) == ("agent.system.dialog", "system dialog") and dialog["kind"] in detail, detail
        assert dialog["message"] in detail and f"answered {dialog['answer']}" in detail, detail
    for seq, left in exits.items():
        _, name, tag, detail = rows[seq]
        assert (name, tag) == ("agent.app.left", "left app"), detail
        assert f"to {left['package']}" in detail and f"by {left['actionId']}" in detail, detail
    # the steps' summary lines say so too
    assert steps_tagged(browser, "system-dialog") == {d["stepOrdinal"] for d in dialogs.values()}
    assert steps_tagged(browser, "app-left") == {e["stepOrdinal"] for e in exits.values()}

    # the graph's screens carry their labels; leaving the app is no edge and no screen
    nodes = browser.execute_script(
        "return Object.fromEntries(runPage.graph.cy.nodes().map(n => [n.id(), [n.data('labels'), n.data('label'), n.data('exits')]]))")
    assert "null" not in nodes and set(discovered) <= set(nodes)
    for screen, labels in discovered.items():
        drawn, label, _ = nodes[screen]
        assert drawn == labels and all(f"‹{name}›" in label for name in labels) and ("‹" in label) == bool(labels), label
    for screen, package in left_from.items():
        assert any(package in exit_ for exit_ in nodes[screen][2]), nodes[screen]
    inside = {(e["data"]["fromScreen"], e["data"]["toScreen"], e["data"]["action"]["action_id"]) for e in events
              if e["event"] == "graph.transition.discovered" and e["data"]["toScreen"] is not None}
    assert browser.execute_script("return runPage.graph.cy.edges().length") == len(inside)
    assert text(browser, "#transitions") == str(metrics["transitions"]) == str(len(inside))
    home, package = next(iter(left_from.items()))  # the screen that was left says where to, in its preview
    wait(browser, lambda d: click_screen(d, home), "the left screen's preview")
    assert package in text(browser, "#preview .preview-exit")
    screen = sorted(login)[0]
    wait(browser, lambda d: click_screen(d, screen), "the login screen's preview")
    assert browser.execute_script("return [...document.querySelectorAll('#preview .screen-label')].map(t => t.textContent)"
                                  ) == discovered[screen]
    shot("snap")
    for seq in (min(dialogs), min(exits)):
        browser.execute_script("document.querySelector(`#timeline li[data-seq='${arguments[0]}']`).scrollIntoView()", seq)
        shot(f"timeline-{seq}")


NEWS = ("com.example.news", ".SplashActivity")  # apps/news.json: a splash and a loading feed that go on by themselves


def test_a_news_run_page_shows_device_recoveries_and_draws_changes_by_time_apart(service, api, browser, shot):
    # The simulated UiAutomator2 server dies after 45 requests: the agent replaces it and follows its route back.
    run_id, events = run_to_its_end(service, api, "news", NEWS, maxSteps=30,
                                    capabilities={"appium:simFaults": {"serverCrashAfter": 45}})
    terminal = events[-1]
    metrics = terminal["data"]["metrics"]
    recoveries = {e["id"]: e["data"] for e in events if e["event"] == "agent.device.recovered"}
    by_time = {e["id"]: e["data"] for e in events
               if e["event"] == "graph.transition.discovered" and e["data"].get("by") == "time"}
    # news's timed screens are loading screens, waited out within a step: a run may have no change by time, and
    # then the checks below hold for the recoveries alone (every row, tag and edge is still accounted for)
    assert recoveries, len(recoveries)
    assert metrics["recoveries"] == len(recoveries) and metrics["waitSeconds"] > 0, metrics
    assert all(t["action"]["kind"] == "wait" and t["toScreen"] for t in by_time.values()), by_time

    open_run(browser, service.api_url, run_id)
    wait(browser, lambda d: page_state(d)["ended"] and page_state(d)["events"] == len(events), "the replay")

    # the two counts, with the run's facts
    for fact in ("recoveries-fact", "wait-seconds-fact"):
        assert browser.find_element(By.ID, fact).is_displayed(), fact
    assert text(browser, "#recoveries") == str(metrics["recoveries"])
    assert float(text(browser, "#wait-seconds")) == metrics["waitSeconds"]

    # recoveries and changes by themselves: their own entries in the timeline, tagged, with what they said
    all_timeline_seqs(browser)  # opens every step
    rows = timeline_entries(browser, "#timeline li.device-recovered, #timeline li.by-time")
    assert sorted(rows) == sorted(recoveries | by_time)
    for seq, recovered in recoveries.items():
        classes, name, tag, detail = rows[seq]
        assert (name, tag) == ("agent.device.recovered", "device recovered") and "met" not in classes.split(), classes
        assert recovered["cause"].replace("_", " ") in detail and f"{recovered['seconds']:.1f} s" in detail, detail
        route = recovered["routeLength"]
        assert (f"route of {route} step" if route else "no route") in detail, detail
    for seq, transition in by_time.items():
        classes, name, tag, detail = rows[seq]
        assert (name, tag) == ("graph.transition.discovered", "changed by itself"), detail
        assert f"{transition['fromScreen']} → {transition['toScreen']}" in detail and "waited" in detail, detail
    # the steps' summary lines say so too
    assert steps_tagged(browser, "device-recovered") == {r["stepOrdinal"] for r in recoveries.values()}
    assert steps_tagged(browser, "by-time") == {t["stepOrdinal"] for t in by_time.values()}

    # the graph draws a change by itself as a dashed edge labelled "wait"; an action's edge stays solid
    edges = browser.execute_script(
        "return runPage.graph.cy.edges().map(e => [e.source().id(), e.target().id(), e.hasClass('by-time'),"
        " e.data('label'), e.style('line-style'), e.style('label')])")
    dashed = {(source, target) for source, target, by_itself, *_ in edges if by_itself}
    assert dashed == {(t["fromScreen"], t["toScreen"]) for t in by_time.values()}
    for _, _, by_itself, label, line, shown in edges:
        assert (line == "dashed") == by_itself, (label, line)
        if by_itself:
            assert label == shown == "wait", (label, shown)
    inside = {e["id"] for e in events if e["event"] == "graph.transition.discovered" and e["data"]["toScreen"] is not None}
    assert len(edges) == len(inside) and text(browser, "#transitions") == str(metrics["transitions"])
    browser.execute_script("document.getElementById('graph').scrollIntoView()")
    shot("news")
    seq = min(recoveries)
    browser.execute_script("document.querySelector(`#timeline li[data-seq='${arguments[0]}']`).scrollIntoView()", seq)
    shot(f"timeline-{seq}")
