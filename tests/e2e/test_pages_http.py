"""The pages share the API's paths without changing its JSON answers."""

from __future__ import annotations

from tests.fixtures.service import read_stream, start_body

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_pages_are_html_and_the_api_stays_json(service, api):
    run_id = api.post("/run", json=start_body(service.settings.appium_url, maxSteps=2,
                                              inputs={"username": "alice", "password": "secret"})).json()["runId"]
    read_stream(api, run_id)
    for path in ("/", f"/runs/{run_id}"):
        page = api.get(path, headers=HTML)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
    assert api.get("/runs", headers=HTML).json()["runs"][0]["run_id"] == run_id  # the list stays JSON
    assert api.get(f"/runs/{run_id}").json() == api.get(f"/run/{run_id}").json()  # a client that is no browser
    assert api.get(f"/runs/{run_id.lower()[:-1]}", headers=HTML).status_code == 404  # only a run id is a page
    unknown = api.get("/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_only_the_pages_files_are_served(api):
    assert api.get("/static/run.js").headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert api.get("/vendor/cytoscape/cytoscape.min.js").status_code == 200
    for path in ("/vendor/cytoscape/package.json", "/vendor/left-pad/index.js", "/vendor/cytoscape/..%2Fpackage.json",
                 "/static/../api/pages.py"):
        answer = api.get(path)
        assert answer.status_code == 404, path
        if answer.headers["content-type"].startswith("application/json"):
            assert set(answer.json()) == {"code", "message", "details"}
