"""Request and response bodies of the HTTP contract (DESIGN.md), camelCase on the wire."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, StrictInt, ValidationError,
                      ValidationInfo, field_validator, model_validator)
from pydantic_core import InitErrorDetails, PydanticCustomError

from api.apk_manifest import ApkManifest, is_apk
from domain.application import RunRequest
from domain.exploration.avoid import MAX_PATTERNS, parse_pattern
from domain.sessions import RUN_OWN_CAPABILITIES

STATUS_CODES = {400: "invalid_argument", 401: "unauthenticated", 404: "not_found", 405: "method_not_allowed",
                409: "failed_precondition", 413: "invalid_argument", 415: "invalid_argument",
                500: "internal", 503: "unavailable"}
JAVA_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
NonEmpty = Annotated[str, Field(min_length=1, max_length=4096)]
# `id/<name>` or `text:<regex>` (domain/exploration/avoid.py); a bad one is named by its index and in words
AvoidPatternText = Annotated[str, AfterValidator(lambda pattern: parse_pattern(pattern).source)]
# Extra Appium capabilities for the run's session (DESIGN.md "Time and faults"): W3C names or vendor-prefixed
# ones, each value a JSON scalar or an object of at most 1 KiB as JSON, so 50 of the largest still fit in a
# request's 64 KiB (serve_app.py's BodySizeLimit).
MAX_CAPABILITIES = 50
MAX_CAPABILITY_BYTES = 1024
MAX_CAPABILITY_NAME = 200
W3C_CAPABILITIES = frozenset(
    {"browserName", "browserVersion", "platformName", "acceptInsecureCerts", "pageLoadStrategy", "proxy",
     "setWindowRect", "timeouts", "strictFileInteractability", "unhandledPromptBehavior", "webSocketUrl"})
VENDOR_CAPABILITY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:[^\s:]+$")  # `vendor:name`, e.g. appium:udid
RUN_SET_SHOWN = sorted(RUN_OWN_CAPABILITIES, key=str.lower)  # in a 400's words, always in this order
W3C_SHOWN = sorted(W3C_CAPABILITIES.difference(RUN_OWN_CAPABILITIES))  # the ones a run may add
APPIUM_OPTIONS = "appium:options"  # Appium reads the capabilities in this object as `appium:`-prefixed ones


class StartRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    apk_path: NonEmpty = Field(alias="apkPath")
    appium_server_url: AnyHttpUrl = Field(alias="appiumServerUrl")
    # Optional for an .apk (its manifest has them), required otherwise: see `app_named_unless_apk`
    package_name: str | None = Field(None, alias="packageName", max_length=255)
    app_activity: NonEmpty | None = Field(None, alias="appActivity")
    max_steps: StrictInt = Field(50, alias="maxSteps", ge=1, le=1000)
    goal: str | None = Field(None, max_length=2000)
    inputs: dict[Annotated[str, Field(min_length=1, max_length=200)], Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, max_length=100)
    policy: str = Field("dfs", min_length=1, max_length=100)  # which ones are installed: api/access.py
    # How the agent answers Android's permission dialogs, and the elements it never acts on (DESIGN.md
    # "What real apps do to an agent")
    permissions: Literal["grant", "deny"] = "grant"
    avoid: list[AvoidPatternText] = Field(default_factory=list, max_length=MAX_PATTERNS)
    # Added to the session the run opens (DESIGN.md "Time and faults"): see `capabilities_problems`
    capabilities: dict[str, Any] = Field(default_factory=dict, json_schema_extra={"maxProperties": MAX_CAPABILITIES})
    # cold: the run knows nothing of earlier runs; warm: it starts from the app's map (DESIGN.md "Memory across runs")
    memory: Literal["cold", "warm"] = "cold"

    @model_validator(mode="before")
    @classmethod
    def app_named_unless_apk(cls, data: Any) -> Any:
        """A package or activity left out is null here, which the fields' own validators refuse unless apkPath
        is an .apk (a default is not validated, and its error would name package_name, not packageName).
        A body that names both, as every app model's does, is not copied."""
        if isinstance(data, dict) and ("packageName" not in data or "appActivity" not in data):
            return {"packageName": None, "appActivity": None, **data}
        return data

    @field_validator("package_name")
    @classmethod
    def java_package(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return _none_for_an_apk(info)
        if not JAVA_PACKAGE.match(value):
            raise ValueError("must be a Java package name such as com.example.app")
        return value

    @field_validator("apk_path", "app_activity")
    @classmethod
    def not_blank(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return _none_for_an_apk(info)
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("capabilities")
    @classmethod
    def appium_capabilities(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Every bad key and value, each named as `capabilities.<key>` (`capabilities.appium:options.<key>`)."""
        if len(value) > MAX_CAPABILITIES:
            raise PydanticCustomError("too_long", f"at most {MAX_CAPABILITIES} capabilities, not {len(value)}")
        problems = capabilities_problems(value)
        if problems:
            raise ValidationError.from_exception_data("capabilities", [
                InitErrorDetails(type=PydanticCustomError("value_error", problem), loc=loc, input=value.get(loc[0]))
                for loc, problem in problems])
        return value

    def to_command(self, tenant_id: str, project_id: str, manifest: ApkManifest | None = None,
                   app_version: dict[str, Any] | None = None) -> RunRequest:
        """An .apk's run takes what the request leaves out from its manifest (checked: ApkManifest.problems);
        `app_version` is the app model's, when the run names one."""
        return RunRequest(
            apk_path=self.apk_path, appium_server_url=str(self.appium_server_url).rstrip("/"),
            package_name=self.package_name or manifest.package,
            app_activity=self.app_activity or manifest.launchable_activity, max_steps=self.max_steps,
            goal=self.goal, inputs=self.inputs, tenant_id=tenant_id, project_id=project_id, policy=self.policy,
            manifest=manifest and manifest.facts(), permissions=self.permissions, avoid=tuple(self.avoid),
            capabilities=dict(self.capabilities), memory=self.memory,
            app_version=manifest.version() if manifest else app_version,
        )


def capabilities_problems(capabilities: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """(location, problem) for each capability a run may not add: one the run sets itself (its app's and its
    driver's, in `appium:options` too), a name neither W3C's nor vendor-prefixed, a value neither a JSON scalar
    nor an object (null, a list, NaN), or one larger than MAX_CAPABILITY_BYTES as JSON."""
    problems: list[tuple[tuple[str, ...], str]] = []
    for name, value in capabilities.items():
        if problem := _name_problem(name):
            problems.append(((name,), problem))
        elif problem := _value_problem(value):
            problems.append(((name,), problem))
        elif name == APPIUM_OPTIONS and isinstance(value, dict):
            problems += [((name, option), _set_by_the_run(run_set)) for option in value
                         if (run_set := _run_set_name(option))]
    return problems


def _run_set_name(option: str) -> str | None:
    """The capability an `appium:options` entry names when the run sets it (`app`, `appium:app`: appium:app)."""
    bare = option.removeprefix("appium:")
    found = [name for name in RUN_OWN_CAPABILITIES if name.removeprefix("appium:") == bare]
    return found[0] if found else None


def _set_by_the_run(name: str) -> str:
    return f"{name} is set by the run itself ({', '.join(RUN_SET_SHOWN)}): leave it out"


def _name_problem(name: str) -> str | None:
    if name in RUN_OWN_CAPABILITIES:
        return _set_by_the_run(name)
    if len(name) > MAX_CAPABILITY_NAME:
        return f"a capability name has at most {MAX_CAPABILITY_NAME} characters"
    if name not in W3C_CAPABILITIES and not VENDOR_CAPABILITY.match(name):
        return f"{name!r} is neither a W3C capability ({', '.join(W3C_SHOWN)}) nor vendor-prefixed, as appium:udid"
    return None


def _value_problem(value: Any) -> str | None:
    if value is None or not isinstance(value, (str, bool, int, float, dict)):
        return "must be a JSON string, number, boolean or object"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except ValueError:  # a NaN or infinity inside an object
        return "must be JSON: no NaN or Infinity"
    size = len(text.encode("utf-8", "surrogatepass"))  # a lone surrogate from a JSON escape counts, as 3 bytes
    if size > MAX_CAPABILITY_BYTES:
        return f"is {size} bytes as JSON; at most {MAX_CAPABILITY_BYTES}"
    return None


def _none_for_an_apk(info: ValidationInfo) -> None:
    """Only an .apk may leave its package and activity out: its manifest has them."""
    if not is_apk(info.data.get("apk_path", "")):
        raise PydanticCustomError("missing", "Field required (optional only when apkPath is an .apk)")
    return None


class StartRunResponse(BaseModel):
    runId: str
    status: str = "PENDING"
    createdAt: datetime
    streamUrl: str


class CancelRunResponse(BaseModel):
    runId: str
    status: str = "CANCELLED"
    cancelledAt: datetime


class PauseRunResponse(BaseModel):
    runId: str
    status: str = "PAUSED"


class ResumeRunResponse(BaseModel):
    runId: str
    status: str = "PENDING"


class HealthResponse(BaseModel):
    timestamp: datetime
    status: str
    database: str
    details: dict[str, Any] | None = None  # devices: how many, and which wait for a node that offers them


class ErrorBody(BaseModel):
    code: str
    message: str
    details: object = None


def error_body(status: int, message: str, details: Any = None) -> dict[str, Any]:
    """Every failure's JSON (api/errors.py answers it with `status`)."""
    return {"code": STATUS_CODES.get(status, "internal" if status >= 500 else "invalid_argument"),
            "message": message, "details": details}


def refused_body(errors: Sequence[Mapping[str, Any]], access_problems: Iterable[Mapping[str, str]] = ()
                 ) -> dict[str, Any]:
    """The 400 answering a request FastAPI refuses (`errors`: its RequestValidationError's), naming every
    invalid field: the schema's, then the access problems of the fields it does not name. Pure: the unit
    tests validate bodies against StartRunRequest with it, without Serve."""
    problems = [{"field": _field(e["loc"]), "problem": e["msg"]} for e in errors]
    if any(e["type"] == "json_invalid" for e in errors):
        return error_body(400, "request body is not valid JSON", problems)
    flagged = {p["field"] for p in problems}
    problems += [dict(p) for p in access_problems if p["field"] not in flagged]
    names = ", ".join(dict.fromkeys(p["field"] for p in problems))
    return error_body(400, f"invalid fields: {names}", problems)


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"
