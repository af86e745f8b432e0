"""`POST /run` bodies refused with 400, validated as the API does, without Serve.

FastAPI validates the JSON body against StartRunRequest (validate_python, from_attributes, errors without
urls, each loc under "body"); api/errors.py answers the errors with `refused_body`, adding the access
problems (api/access.py: app roots, registered servers, policies) of the fields the schema does not name.
`answer` does the same with settings built here. tests/e2e/test_http_api.py keeps a case through Serve.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.access import Access
from api.models import StartRunRequest, refused_body
from config.settings import Settings
from domain.application import RunRequest
from domain.idempotency import body_digest

REPO = Path(__file__).resolve().parents[2]
APPIUM = "http://127.0.0.1:4723"


@pytest.fixture(scope="module")
def access() -> Access:
    return Access(Settings(app_roots=(REPO / "apps",), appium_servers=(APPIUM,), api_keys=""))


def start_body(**fields: Any) -> dict[str, Any]:
    """As tests/fixtures/service.py's: the notes sample app on the registered server."""
    body = {"apkPath": str(REPO / "apps" / "notes.json"), "appiumServerUrl": APPIUM,
            "packageName": "com.example.notes", "appActivity": ".ConsentActivity", "maxSteps": 5}
    return {**body, **fields}


def schema_errors(body: Any) -> list[dict[str, Any]]:
    """The errors of FastAPI's RequestValidationError for this JSON body (fastapi/_compat/v2.py, `validate`)."""
    try:
        StartRunRequest.model_validate(body, from_attributes=True)
    except ValidationError as error:
        return [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
    return []


def answer(body: Any, access: Access) -> dict[str, Any] | None:
    """The JSON of the 400 `POST /run` answers, or None for a body it takes. A body the schema takes is refused
    by the handler with its access problems (serve_app.RunApi.start), one it refuses by api/errors.py with the
    schema's errors and then the access problems (`_access_problems`: when the three fields are strings)."""
    if not isinstance(body, dict):
        return refused_body(schema_errors(body))
    named = (body.get("apkPath"), body.get("appiumServerUrl"), body.get("policy", "dfs"))
    found = access.problems(*named) if all(isinstance(value, str) for value in named) else []
    errors = schema_errors(body)
    return refused_body(errors, found) if errors or found else None


def without(field: str) -> Callable[[dict], dict]:
    return lambda body: {k: v for k, v in body.items() if k != field}


def with_(**fields: Any) -> Callable[[dict], dict]:
    return lambda body: {**body, **fields}


# Moved from tests/e2e/test_http_api.py (which keeps two of them through Serve)
INVALID_BODIES: dict[str, tuple[Callable[[dict], dict], list[str]]] = {
    **{f"missing {f}": (without(f), [f]) for f in ("apkPath", "appiumServerUrl", "packageName", "appActivity")},
    "empty apkPath": (with_(apkPath=""), ["apkPath"]),
    "blank apkPath": (with_(apkPath="   "), ["apkPath"]),
    "empty appActivity": (with_(appActivity=""), ["appActivity"]),
    "ftp appiumServerUrl": (with_(appiumServerUrl="ftp://127.0.0.1:4723"), ["appiumServerUrl"]),
    "appiumServerUrl not a url": (with_(appiumServerUrl="appium on my desk"), ["appiumServerUrl"]),
    "appiumServerUrl not a string": (with_(appiumServerUrl=4723), ["appiumServerUrl"]),
    "packageName one word": (with_(packageName="notes"), ["packageName"]),
    "packageName empty part": (with_(packageName="com..example"), ["packageName"]),
    "packageName digit first": (with_(packageName="1com.example"), ["packageName"]),
    "packageName with a space": (with_(packageName="com.example notes"), ["packageName"]),
    "maxSteps 0": (with_(maxSteps=0), ["maxSteps"]),
    "maxSteps 1001": (with_(maxSteps=1001), ["maxSteps"]),
    "maxSteps negative": (with_(maxSteps=-5), ["maxSteps"]),
    "maxSteps string": (with_(maxSteps="5"), ["maxSteps"]),
    "maxSteps true": (with_(maxSteps=True), ["maxSteps"]),
    "maxSteps float": (with_(maxSteps=5.5), ["maxSteps"]),
    "maxSteps null": (with_(maxSteps=None), ["maxSteps"]),
    "goal 2001 chars": (with_(goal="g" * 2001), ["goal"]),
    "goal not a string": (with_(goal=["open", "settings"]), ["goal"]),
    "inputs number value": (with_(inputs={"username": 5}), ["inputs"]),
    "inputs null value": (with_(inputs={"username": "alice", "password": None}), ["inputs"]),
    "inputs nested value": (with_(inputs={"username": {"first": "alice"}}), ["inputs"]),
    "inputs a list": (with_(inputs=["alice", "secret"]), ["inputs"]),
    "permissions ask": (with_(permissions="ask"), ["permissions"]),
    "permissions upper case": (with_(permissions="DENY"), ["permissions"]),
    "permissions null": (with_(permissions=None), ["permissions"]),
    "permissions a bool": (with_(permissions=False), ["permissions"]),
    "avoid bad regex": (with_(avoid=["id/sign_out", "text:["]), ["avoid"]),
    "avoid empty regex": (with_(avoid=["text:"]), ["avoid"]),
    "avoid bare name": (with_(avoid=["sign_out"]), ["avoid"]),
    "avoid id without a name": (with_(avoid=["id/"]), ["avoid"]),
    "avoid a number": (with_(avoid=[5]), ["avoid"]),
    "avoid null item": (with_(avoid=[None]), ["avoid"]),
    "avoid a string": (with_(avoid="id/sign_out"), ["avoid"]),
    "avoid an object": (with_(avoid={"id": "sign_out"}), ["avoid"]),
    "avoid null": (with_(avoid=None), ["avoid"]),
    "avoid 51 patterns": (with_(avoid=[f"id/item_{i}" for i in range(51)]), ["avoid"]),
    "unknown field": (with_(device="pixel-7"), ["device"]),
    "snake_case field": (lambda b: {**without("maxSteps")(b), "max_steps": 5}, ["max_steps"]),
    "apkPath outside the app roots": (with_(apkPath="/etc/passwd"), ["apkPath"]),
    "apkPath relative": (with_(apkPath="apps/notes.json"), ["apkPath"]),
    "apkPath escaping the app roots": (with_(apkPath=str(REPO / "apps" / ".." / "pyproject.toml")), ["apkPath"]),
    "appiumServerUrl not registered": (with_(appiumServerUrl="http://127.0.0.1:9"), ["appiumServerUrl"]),
    "unregistered server and maxSteps 0": (with_(appiumServerUrl="http://127.0.0.1:9", maxSteps=0),
                                           ["appiumServerUrl", "maxSteps"]),
    "several at once": (lambda b: {**without("appActivity")(b), "apkPath": "", "packageName": "bad",
                                   "maxSteps": 0, "goal": "g" * 2001, "inputs": {"a": 1}, "colour": "red"},
                        ["apkPath", "appActivity", "packageName", "maxSteps", "goal", "inputs", "colour"]),
}


@pytest.mark.parametrize("case", INVALID_BODIES, ids=list(INVALID_BODIES))
def test_an_invalid_body_is_refused_naming_every_invalid_field(access, case):
    make, fields = INVALID_BODIES[case]

    body = answer(make(start_body()), access)

    assert body is not None and set(body) == {"code", "message", "details"}
    assert body["code"] == "invalid_argument"
    named = [d["field"].split(".")[0] for d in body["details"]]
    assert set(named) == set(fields), body["details"]
    assert body["message"] == "invalid fields: " + ", ".join(dict.fromkeys(d["field"] for d in body["details"]))
    for field in fields:
        assert field in body["message"], (field, body["message"])
    assert all(set(d) == {"field", "problem"} and d["problem"] for d in body["details"]), body["details"]


def test_an_access_problem_is_named_once_with_the_schemas_problem():
    """A field that both the schema and the access rules refuse is named by the schema only."""
    errors = schema_errors(start_body(apkPath="   "))
    access_problems = [{"field": "apkPath", "problem": "under the roots"},
                       {"field": "appiumServerUrl", "problem": "registered"}]

    body = refused_body(errors, access_problems)

    assert body["message"] == "invalid fields: apkPath, appiumServerUrl"
    assert body["details"] == [{"field": "apkPath", "problem": "Value error, must not be blank"},
                               {"field": "appiumServerUrl", "problem": "registered"}]


@pytest.mark.parametrize(("body", "problem"), [
    (start_body(packageName="notes"), "Value error, must be a Java package name such as com.example.app"),
    (without("packageName")(start_body()), "Field required (optional only when apkPath is an .apk)"),
    (start_body(maxSteps=1001), "Input should be less than or equal to 1000"),
    (start_body(maxSteps="5"), "Input should be a valid integer"),
    (start_body(device="pixel-7"), "Extra inputs are not permitted"),
], ids=["packageName", "packageName missing", "maxSteps", "maxSteps string", "unknown field"])
def test_a_problem_is_said_in_words(access, body, problem):
    assert [d["problem"] for d in answer(body, access)["details"]] == [problem]


def test_the_details_name_an_inputs_entry_by_its_key(access):
    details = answer(start_body(inputs={"username": "alice", "password": None}), access)["details"]
    assert [d["field"] for d in details] == ["inputs.password"]


@pytest.mark.parametrize("payload", [[], ["apkPath"], "a run please", 42, True],
                         ids=["empty list", "list", "string", "number", "true"])
def test_a_body_that_is_not_an_object_names_the_body(access, payload):
    body = answer(payload, access)
    assert body["message"] == "invalid fields: body" and [d["field"] for d in body["details"]] == ["body"]


def test_invalid_json_is_said_so():
    """FastAPI's error for a body it cannot parse (fastapi/routing.py): the access rules are not asked."""
    errors = [{"type": "json_invalid", "loc": ("body", 31), "msg": "JSON decode error", "input": {},
               "ctx": {"error": "Expecting value"}}]

    body = refused_body(errors, [{"field": "apkPath", "problem": "under the roots"}])

    assert body == {"code": "invalid_argument", "message": "request body is not valid JSON",
                    "details": [{"field": "31", "problem": "JSON decode error"}]}


@pytest.mark.parametrize("body", [
    start_body(maxSteps=1, goal="g" * 2000),
    start_body(maxSteps=1000, inputs={"username": "alice", "password": "secret"}),
    without("maxSteps")(start_body()),
    {**without("packageName")(without("appActivity")(start_body())), "apkPath": str(REPO / "apps" / "demo.apk")},
], ids=["maxSteps 1 and a 2000-char goal", "maxSteps 1000 and inputs", "no maxSteps", "an apk names no app"])
def test_the_limits_themselves_are_accepted(access, body):
    assert answer(body, access) is None
    assert StartRunRequest.model_validate(body).max_steps == body.get("maxSteps", 50)


# What real apps do to an agent (DESIGN.md): the permissions answer and the patterns of what not to touch

@pytest.mark.parametrize(("avoid", "details"), [
    (["id/sign_out", "text:["], [{"field": "avoid.1", "problem": "Value error, avoid pattern 'text:[' is not a valid "
                                                                  "regex: unterminated character set at position 0"}]),
    (["text:(delete"], [{"field": "avoid.0", "problem": "Value error, avoid pattern 'text:(delete' is not a valid "
                                                        "regex: missing ), unterminated subpattern at position 0"}]),
    (["sign_out"], [{"field": "avoid.0",
                     "problem": "Value error, avoid pattern 'sign_out' is neither id/<name> nor text:<regex>"}]),
    (["id/sign out"], [{"field": "avoid.0", "problem": "Value error, avoid pattern 'id/sign out': id/<name> needs a "
                                                       "resource name (letters, digits, '_' or '.'), as in id/sign_out"}]),
    (["id/a", 7, "text:ok", "nope"], [{"field": "avoid.1", "problem": "Input should be a valid string"},
                                      {"field": "avoid.3", "problem": "Value error, avoid pattern 'nope' is neither "
                                                                      "id/<name> nor text:<regex>"}]),
    ([f"id/item_{i}" for i in range(51)],
     [{"field": "avoid", "problem": "List should have at most 50 items after validation, not 51"}]),
    ("id/sign_out", [{"field": "avoid", "problem": "Input should be a valid list"}]),
], ids=["bad regex", "unbalanced regex", "another form", "id with a space", "a number and another form", "51",
        "a string"])
def test_a_bad_avoid_pattern_is_named_with_its_index_and_in_words(access, avoid, details):
    body = answer(start_body(avoid=avoid), access)

    assert body["details"] == details
    assert body["message"] == "invalid fields: " + ", ".join(d["field"] for d in details)


@pytest.mark.parametrize("permissions", ["ask", "DENY", None, ""], ids=repr)
def test_permissions_is_grant_or_deny(access, permissions):
    body = answer(start_body(permissions=permissions), access)

    assert body["details"] == [{"field": "permissions", "problem": "Input should be 'grant' or 'deny'"}]


def test_a_bad_avoid_pattern_is_named_with_the_other_invalid_fields(access):
    body = answer(start_body(permissions="ask", avoid=["text:*"], maxSteps=0), access)

    assert [d["field"] for d in body["details"]] == ["maxSteps", "permissions", "avoid.0"]
    assert "'text:*'" in body["details"][2]["problem"] and "nothing to repeat" in body["details"][2]["problem"]


def test_permissions_and_avoid_reach_the_run_request(access):
    body = start_body(permissions="deny", avoid=["id/sign_out", "text:delete (account|everything)", "id/buy.now"])

    assert answer(body, access) is None
    command = StartRunRequest.model_validate(body).to_command("acme", "default")

    assert command.permissions == "deny"
    assert command.avoid == ("id/sign_out", "text:delete (account|everything)", "id/buy.now")


def test_left_out_they_are_grant_and_nothing_avoided_as_the_domain_defaults():
    command = StartRunRequest.model_validate(start_body()).to_command("acme", "default")

    defaults = {f.name: f.default for f in fields(RunRequest)}
    assert (command.permissions, command.avoid) == ("grant", ()) == (defaults["permissions"], defaults["avoid"])
    # so a key used before these fields existed keeps its digest: the defaults are left out of it
    said = StartRunRequest.model_validate(start_body(permissions="grant", avoid=[])).to_command("acme", "default")
    assert body_digest(said) == body_digest(command)
    denied = StartRunRequest.model_validate(start_body(permissions="deny")).to_command("acme", "default")
    assert body_digest(denied) != body_digest(command)


def test_50_avoid_patterns_are_accepted(access):
    patterns = [f"id/item_{i}" for i in range(25)] + [f"text:item {i}.*" for i in range(25)]

    assert answer(start_body(avoid=patterns), access) is None
    assert StartRunRequest.model_validate(start_body(avoid=patterns)).avoid == patterns


# Time and faults (DESIGN.md): the extra Appium capabilities of the run's session

RUN_SET = ("platformName", "appium:automationName", "appium:app", "appium:appPackage", "appium:appActivity")
SETS = "appium:app, appium:appActivity, appium:appPackage, appium:automationName, platformName"
CAPABILITIES = {"appium:udid": "emulator-5554", "appium:newCommandTimeout": 600, "appium:simSeed": 3,
                "appium:simFaults": {"serverCrashAfter": 150, "rules": [{"after": 3, "kind": "anr"}]},
                "appium:autoGrantPermissions": False, "appium:simDensity": 2.75, "browserName": "",
                "acceptInsecureCerts": True, "timeouts": {"implicit": 0}, "goog:chromeOptions": {"args": ["--a"]}}


def test_capabilities_w3c_or_vendor_prefixed_reach_the_run_request(access):
    body = start_body(capabilities=CAPABILITIES)

    assert answer(body, access) is None
    command = StartRunRequest.model_validate(body).to_command("acme", "default")

    assert command.capabilities == CAPABILITIES
    left_out = StartRunRequest.model_validate(start_body()).to_command("acme", "default")
    assert left_out.capabilities == {} == {f.name: f for f in fields(RunRequest)}["capabilities"].default_factory()


def test_50_capabilities_of_1_kib_each_are_accepted_and_fit_in_a_request(access):
    value = "x" * (1024 - 2)  # its JSON, with the quotes: 1024 bytes
    capabilities = {f"appium:cap{i}": value for i in range(50)}
    body = start_body(capabilities=capabilities)

    assert answer(body, access) is None
    assert StartRunRequest.model_validate(body).capabilities == capabilities
    assert len(json.dumps(body).encode()) < 64 * 1024  # the API's body limit (serve_app.py)


def test_51_capabilities_are_one_problem_naming_the_field(access):
    body = answer(start_body(capabilities={f"appium:cap{i}": i for i in range(51)}), access)

    assert body["details"] == [{"field": "capabilities", "problem": "at most 50 capabilities, not 51"}]
    assert body["message"] == "invalid fields: capabilities"


@pytest.mark.parametrize("name", ["udid", "automationName", "app", "chromeOptions", ":udid", "appium:", "appium:a b",
                                  "appium:a:b", "BrowserName", "1vendor:name", " appium:udid"])
def test_a_name_neither_w3c_nor_vendor_prefixed_is_named(access, name):
    body = answer(start_body(capabilities={"appium:udid": "emulator-5554", name: "x"}), access)

    [detail] = body["details"]
    assert detail["field"] == f"capabilities.{name}"
    assert detail["problem"].startswith(f"{name!r} is neither a W3C capability (acceptInsecureCerts, browserName, ")
    assert detail["problem"].endswith(" nor vendor-prefixed, as appium:udid")
    assert body["message"] == f"invalid fields: capabilities.{name}"


@pytest.mark.parametrize("name", RUN_SET)
def test_each_capability_the_run_sets_is_a_400_that_names_it(access, name):
    body = answer(start_body(capabilities={"appium:simSeed": 3, name: "mine"}), access)

    assert body["code"] == "invalid_argument"
    assert body["details"] == [{"field": f"capabilities.{name}",
                                "problem": f"{name} is set by the run itself ({SETS}): leave it out"}]
    assert body["message"] == f"invalid fields: capabilities.{name}"


def test_every_capability_the_run_sets_is_named_with_the_other_invalid_fields(access):
    capabilities = {name: "mine" for name in RUN_SET} | {"appium:udid": "ok", "udid": "no prefix"}

    body = answer(start_body(capabilities=capabilities, maxSteps=0), access)

    assert [d["field"] for d in body["details"]] == [
        "maxSteps", *(f"capabilities.{name}" for name in RUN_SET), "capabilities.udid"]


@pytest.mark.parametrize(("option", "named"), [("app", "appium:app"), ("appium:appPackage", "appium:appPackage"),
                                               ("automationName", "appium:automationName"),
                                               ("platformName", "platformName"), ("appActivity", "appium:appActivity")])
def test_appium_options_may_not_set_them_either(access, option, named):
    """Appium reads `appium:options`' entries as appium: capabilities: one there would override the run's."""
    body = answer(start_body(capabilities={"appium:options": {"udid": "emulator-5554", option: "mine"}}), access)

    assert body["details"] == [{"field": f"capabilities.appium:options.{option}",
                                "problem": f"{named} is set by the run itself ({SETS}): leave it out"}]
    assert answer(start_body(capabilities={"appium:options": {"udid": "emulator-5554"}}), access) is None


@pytest.mark.parametrize(("value", "problem"), [
    ("x" * 1023, "is 1025 bytes as JSON; at most 1024"),
    ({"rules": [{"text": "é" * 600}]}, "is 1223 bytes as JSON; at most 1024"),  # bytes (é is 2), not characters
    ("\ud800" * 342, "is 1028 bytes as JSON; at most 1024"),  # lone surrogates (JSON escapes), 3 bytes each
    (None, "must be a JSON string, number, boolean or object"),
    (["--a", "--b"], "must be a JSON string, number, boolean or object"),
    (float("nan"), "must be a finite number"),
    ({"after": float("inf")}, "must be JSON: no NaN or Infinity"),
], ids=["a long string", "a large object", "lone surrogates", "null", "a list", "NaN", "an infinity inside"])
def test_a_value_too_large_or_not_a_scalar_nor_an_object_is_named(access, value, problem):
    body = answer(start_body(capabilities={"appium:simSeed": 3, "appium:simFaults": value}), access)

    assert body["details"] == [{"field": "capabilities.appium:simFaults", "problem": problem}]


@pytest.mark.parametrize("capabilities", [["appium:udid", "emulator-5554"], "appium:udid=emulator-5554", 3, None],
                         ids=["a list", "a string", "a number", "null"])
def test_capabilities_not_an_object_is_named(access, capabilities):
    body = answer(start_body(capabilities=capabilities), access)

    assert body["details"] == [{"field": "capabilities", "problem": "Input should be a valid dictionary"}]


def test_a_name_with_braces_is_said_as_it_is(access):
    """The problems are message templates: a name's braces must not be taken for placeholders."""
    body = answer(start_body(capabilities={"{name}": 1, "appium:simFaults": [1]}), access)

    assert body["details"][0] == {"field": "capabilities.{name}", "problem": body["details"][0]["problem"]}
    assert body["details"][0]["problem"].startswith("'{name}' is neither a W3C capability")


def test_capabilities_count_in_an_idempotent_start_only_when_given():
    """A key used before `capabilities` existed keeps its digest; other capabilities are another body."""
    def digest(**fields: Any) -> str:
        return body_digest(StartRunRequest.model_validate(start_body(**fields)).to_command("acme", "default"))

    assert digest() == digest(capabilities={})
    assert digest(capabilities={"appium:simSeed": 3}) == digest(capabilities={"appium:simSeed": 3})
    assert digest(capabilities={"appium:simSeed": 3}) != digest(capabilities={"appium:simSeed": 4}) != digest()
