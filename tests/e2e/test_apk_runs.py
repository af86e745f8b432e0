"""Runs that name a real APK (DESIGN.md "Real apps", APKs), over HTTP and the CLI: the package and the
launchable activity come from its manifest, what contradicts the manifest is a 400, and the simulator
refuses the APK (it runs app models), so the run fails app_launch_failed with its message."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.service import read_stream, start, start_body

REPO = Path(__file__).resolve().parents[2]
API_DEMOS = REPO / "apps" / "node_modules" / "android-apidemos" / "apks" / "ApiDemos-debug.apk"
PACKAGE, LAUNCHABLE = "io.appium.android.apis", "io.appium.android.apis.ApiDemos"
RUNSERVICE = str(Path(sys.executable).parent / "runservice")


@pytest.fixture(scope="module")
def apk_api(service: Any, user_apps_dir: Path) -> tuple[str, Path]:
    """The API and a folder under one of its app roots (tests/fixtures/service.py) for the apps these tests
    write (never into the repository)."""
    assert API_DEMOS.is_file(), f"{API_DEMOS} is missing: `make setup` installs it (scripts/setup-apks.sh)"
    folder = user_apps_dir / "apks"
    folder.mkdir(exist_ok=True)
    return service.api_url, folder


@pytest.fixture
def client(apk_api: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=apk_api[0], timeout=60) as http:
        yield http


def apk_body(appium_url: str, **fields: Any) -> dict[str, Any]:
    return {"apkPath": str(API_DEMOS), "appiumServerUrl": appium_url, "maxSteps": 3, **fields}


def problems_of(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 400, answer.text
    return {p["field"]: p["problem"] for p in answer.json()["details"]}


def test_an_apk_run_takes_its_app_from_the_manifest_and_the_simulator_refuses_it(client, appium_server):
    run_id = start(client, apk_body(appium_server))

    app = client.get(f"/run/{run_id}").json()["app"]
    assert (app["packageName"], app["appActivity"]) == (PACKAGE, LAUNCHABLE)
    assert app["manifest"] == {"package": PACKAGE, "launchableActivity": LAUNCHABLE,
                               "versionCode": 25, "versionName": "5.0.0"}
    last = read_stream(client, run_id)[-1]
    assert (last["event"], last["data"]["stopReason"]) == ("run.failed", "app_launch_failed"), last
    assert "The simulator runs app models, not APKs" in last["data"]["error"]
    assert str(API_DEMOS) in last["data"]["error"]


def test_an_apk_run_may_name_its_package_and_an_activity_of_it(client, appium_server):
    run_id = start(client, apk_body(appium_server, packageName=PACKAGE, appActivity=".view.Buttons1"))

    app = client.get(f"/run/{run_id}").json()["app"]
    assert (app["packageName"], app["appActivity"], app["manifest"]["package"]) == (PACKAGE, ".view.Buttons1", PACKAGE)


def test_a_wrong_package_is_a_400_that_names_the_apks(client, appium_server):
    problems = problems_of(client.post("/run", json=apk_body(appium_server, packageName="com.example.notes")))

    assert list(problems) == ["packageName"]
    assert f"must be the APK's package {PACKAGE}" in problems["packageName"]


def test_a_wrong_activity_is_a_400_that_names_the_launchable_one(client, appium_server):
    problems = problems_of(client.post("/run", json=apk_body(appium_server, appActivity=".ConsentActivity")))

    assert list(problems) == ["appActivity"]
    assert f"its launchable activity is {LAUNCHABLE}" in problems["appActivity"]


def test_the_manifests_problems_join_the_other_invalid_fields_in_one_400(client, appium_server):
    body = apk_body(appium_server, packageName="com.example.notes", appActivity=".Nope", maxSteps=0)

    problems = problems_of(client.post("/run", json=body))

    assert set(problems) == {"maxSteps", "packageName", "appActivity"}
    assert PACKAGE in problems["packageName"] and LAUNCHABLE in problems["appActivity"]


def test_a_truncated_apk_is_a_400(client, apk_api, appium_server):
    cut = apk_api[1] / "ApiDemos-cut.apk"
    cut.write_bytes(API_DEMOS.read_bytes()[:100_000])

    problems = problems_of(client.post("/run", json=apk_body(appium_server, apkPath=str(cut))))

    assert list(problems) == ["apkPath"]
    assert "is not an APK" in problems["apkPath"] and str(cut) in problems["apkPath"]


def test_an_app_model_still_needs_its_package_and_activity(client, appium_server):
    body = {k: v for k, v in start_body(appium_server).items() if k not in ("packageName", "appActivity")}

    problems = problems_of(client.post("/run", json=body))

    assert set(problems) == {"packageName", "appActivity"} and "Field required" in problems["packageName"]


def test_the_cli_starts_an_apk_run_without_package_or_activity(apk_api, client, appium_server):
    done = subprocess.run([RUNSERVICE, "--url", apk_api[0], "start", "--apk", str(API_DEMOS), "--appium",
                           appium_server, "--max-steps", "2"], capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    app = client.get(f"/run/{done.stdout.strip()}").json()["app"]
    assert (app["packageName"], app["appActivity"]) == (PACKAGE, LAUNCHABLE)
    refused = subprocess.run([RUNSERVICE, "--url", apk_api[0], "start", "--apk", str(API_DEMOS), "--appium",
                              appium_server, "--package", "com.example.notes"], capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode != 0 and PACKAGE in refused.stderr
