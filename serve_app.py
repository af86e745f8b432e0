"""The Ray Serve application: thin HTTP handlers over RunService (validate, one call, map errors).

`build_app(settings)` is what `serve.run` takes; the launcher and the tests call it.
"""


import asyncio
import json
from datetime import datetime, timezone
from typing import Any

import ray
from fastapi import FastAPI, Header, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from ray import serve
from sse_starlette import EventSourceResponse, ServerSentEvent

from actors.placement import ON_HEAD, actor_name, placement_report
from actors.queue import QUEUE_NAME
from api.access import Access, Caller
from api.admission import Admissions, IdempotencyKeyHeader
from api.apk_manifest import is_apk
from api.database_gate import DatabaseGate
from api.dependencies import ReadyCaller
from api.errors import error_response, install_error_handlers
from api.diff_svg import render_diff_svg
from api.graph_svg import render_svg, with_links
from api.hub import EventHub
from api.limits import BodySizeLimit
from api.models import (
    JAVA_PACKAGE,
    CancelRunResponse,
    HealthResponse,
    PauseRunResponse,
    ResumeRunResponse,
    StartRunRequest,
    StartRunResponse,
)
from api.pages import mount_static, page, vendor_file, wants_html
from api.streams import run_stream
from config.logging import configure_logging, logger_for
from config.settings import Settings
from domain.application import RunService, parse_run_id
from domain.findings.projection import FindingsProjection
from domain.findings.report import junit_report
from domain.findings.run_facts import device_caps_of, run_for_report, run_for_test
from domain.findings.generated_test import NoTestScript, finding_test_script
from domain.graph_diff import diff_graphs
from domain.recorded_app import NothingPerceived, recorded_app
from domain.run import PAUSED, STATUSES, Run, run_id_from
from domain.screen_graph import ScreenGraphProjection
from storage.app_map_view import open_app_map_view
from storage.artifacts import ArtifactStore
from storage.event_recorder import AsyncEventWriter
from storage.findings_view import FindingsView, open_findings_view
from storage.graph_view import open_graph_view
from storage.postgres import event_store_env
from storage.runs_view import open_runs_view

api = FastAPI(title="Run service", version="0.1.0",
              description="Start, watch and cancel exploration runs of Android apps.")
install_error_handlers(api)
api.add_middleware(BodySizeLimit, max_bytes=64 * 1024)  # a run request is a few hundred bytes
mount_static(api)  # the pages' scripts and styles (api/pages.py)


def with_version(row: dict[str, Any]) -> dict[str, Any]:
    """A runs-table row as GET /runs lists it: the app's version as GET /run/{id} shows it."""
    code, name = row.pop("version_code", None), row.pop("version_name", None)
    return {**row, "version": {"versionCode": code, "versionName": name} if code is not None or name else None}


def run_summary(run: Run) -> dict[str, Any]:
    return {
        "runId": run.run_id, "status": run.status, "createdAt": run.created_on,
        "updatedAt": run.modified_on, "goal": run.goal, "maxSteps": run.max_steps, "policy": run.policy,
        "permissions": run.permissions, "avoid": list(run.avoid),  # kept out of the stream: shown here only
        "capabilities": dict(run.capabilities),  # the extra Appium capabilities of its session; older runs: {}
        "app": {**run.app_config, "manifest": run.manifest, "version": run.app_version},
        "memory": run.memory, "fixed": list(run.fixed),  # DESIGN.md "Memory across runs"
        "workerId": run.worker_id, "attempt": run.attempt, "cancelRequestedAt": run.cancel_requested_at,
        "pauseRequested": run.pause_requested,
        "stopReason": run.stop_reason, "lastEventSeq": run.version,
    }


@serve.deployment(max_ongoing_requests=2000, ray_actor_options={"num_cpus": 0, "resources": ON_HEAD},
                  logging_config={"enable_access_log": False})
@serve.ingress(api)
class RunApi:
    def __init__(self, settings: Settings) -> None:
        configure_logging(settings.log_level)
        self.settings = settings
        env = event_store_env(settings.database_url)
        # The event store's reads and writes retry on a broken connection (eventsourcing's recorders): no check
        # before each use, one round trip less per commit of POST /run. The views' queries do not retry.
        self.runs = RunService(env=event_store_env(settings.database_url, checked=False))
        self.view = open_runs_view(env)
        self.graph = open_graph_view(env)
        self.findings = open_findings_view(env)
        self.app_map = open_app_map_view(env)
        # Device actors by name, for the capabilities a finding's test.py starts its session with
        self.devices = {actor_name(caps, i): caps for i, caps in enumerate(settings.device_caps())}
        self.artifacts = ArtifactStore(settings.database_url)
        self.hub: EventHub | None = None
        self.access = Access(settings)
        api.state.access = self.access  # this replica's: lets a 400 name the access problems too
        self.queue = ray.get_actor(QUEUE_NAME, namespace=settings.ray_namespace)
        self.admissions = Admissions(self.runs, AsyncEventWriter(self.runs.recorder, settings.database_url))
        self.database = DatabaseGate(settings.database_url)
        api.state.database = self.database  # read by ReadyCaller (api/dependencies.py)
        self.log = logger_for("run", "api")
        if self.access.local_mode:
            self.log.warning("local mode: no API_KEYS configured, every caller is tenant 'local'")

    @api.post("/run", status_code=201, response_model=StartRunResponse)
    async def start(self, body: StartRunRequest, caller: ReadyCaller, response: Response,
                    idempotency_key: IdempotencyKeyHeader = None) -> StartRunResponse:
        """201 with a new run; 200 with the run an earlier request with this Idempotency-Key created."""
        problems, manifest = self.access.problems(body.apk_path, str(body.appium_server_url), body.policy), None
        if is_apk(body.apk_path):  # its manifest: a file read and a parse (cached), off the event loop
            manifest, wrong = await asyncio.to_thread(self.access.apk_problems, body.apk_path, body.package_name,
                                                      body.app_activity)
            problems += wrong
        if problems:
            raise RequestValidationError([{"loc": ("body", p["field"]), "msg": p["problem"], "type": "value_error"}
                                          for p in problems])
        version = None if manifest else await asyncio.to_thread(self.access.app_model_version, body.apk_path)
        command = body.to_command(caller.tenant_id, caller.project_id, manifest, version)
        admission = await self.admissions.admit(command, idempotency_key)
        if not admission.created:
            response.status_code = 200
        run_id = run_id_from(admission.run_id)
        return StartRunResponse(runId=run_id, createdAt=admission.created_at, streamUrl=f"/run/{run_id}/stream")

    @api.post("/run/{run_id}/cancel", response_model=CancelRunResponse)
    def cancel(self, run_id: str, caller: ReadyCaller) -> CancelRunResponse:
        run = self.runs.cancel_run(run_id, caller.tenant_id)
        logger_for("run", "cancel").info("Cancel requested", extra={"runId": run_id, "status": run.status})
        return CancelRunResponse(runId=run.run_id, cancelledAt=run.cancel_requested_at)

    @api.post("/run/{run_id}/pause", response_model=PauseRunResponse)
    def pause(self, run_id: str, caller: ReadyCaller) -> PauseRunResponse:
        """A queued run leaves the queue at once; a running one stops at its next node boundary."""
        run = self.runs.pause_run(run_id, caller.tenant_id)
        run_id = run.run_id
        if run.status == PAUSED:
            self.queue.drop.remote(run_id)  # a worker that took it already finds it paused and acks
        logger_for("run", "pause").info("Pause requested", extra={"runId": run_id, "status": run.status})
        return PauseRunResponse(runId=run_id)

    @api.post("/run/{run_id}/resume", response_model=ResumeRunResponse)
    def resume(self, run_id: str, caller: ReadyCaller) -> ResumeRunResponse:
        """A paused run is queued again and continues where it stopped, on any free device."""
        run = self.runs.resume_run(run_id, caller.tenant_id)
        run_id = run.run_id  # queued again: the JobQueue follows the log
        logger_for("run", "resume").info("Resumed", extra={"runId": run_id, "status": run.status})
        return ResumeRunResponse(runId=run_id)

    @api.get("/run/{run_id}")
    def get(self, run_id: str, caller: ReadyCaller) -> dict[str, Any]:
        run = self._own_run(run_id, caller)
        # A warm run on a new version: what changed since the latest run of the previous one
        drift = self._drift(run.drift_base, run.run_id, caller) if run.drift_base else None
        return {**run_summary(run), "drift": drift}

    @api.get("/runs")
    def list_runs(self, caller: ReadyCaller, status: str | None = Query(None, pattern=f"^({'|'.join(STATUSES)})$"),
                  limit: int = Query(50, ge=1, le=500), before: str | None = None) -> dict[str, Any]:
        tenant_id = caller.tenant_id
        if before is not None:
            parse_run_id(before)
        rows = [with_version(row) for row in self.view.list_runs(tenant_id=tenant_id, status=status, limit=limit,
                                                                 before=before)]
        return {"runs": rows, "next": rows[-1]["run_id"] if len(rows) == limit else None}

    @api.get("/apps/{package}/map")
    def app_map_of(self, caller: ReadyCaller, package: str = Path(..., max_length=255, pattern=JAVA_PACKAGE.pattern)
                   ) -> dict[str, Any]:
        """What every run of the app taught (DESIGN.md "Memory across runs"); 404 if the caller's tenant has none.
        Answers from the events alone: runs of a model that no longer loads are on it too."""
        self.app_map.caught_up(self.runs.name, self.runs.recorder.max_notification_id())
        found = self.app_map.app_map(caller.tenant_id, package)
        if found is None:
            raise HTTPException(404, f"no runs of {package}")
        return found

    # Above every `/runs/{...}` route, so that "diff" is never taken for a run id.
    @api.get("/runs/diff")
    def diff(self, caller: ReadyCaller, base: str = Query(...), head: str = Query(...)) -> dict[str, Any]:
        """UI drift from run `base` to run `head` (DESIGN.md, "Comparing two runs")."""
        return self._drift(base, head, caller)

    @api.get("/runs/diff.svg")
    def diff_svg(self, caller: ReadyCaller, base: str = Query(...), head: str = Query(...)) -> Response:
        return Response(render_diff_svg(self._drift(base, head, caller)), media_type="image/svg+xml")

    @api.get("/run/{run_id}/stream")
    async def stream(self, run_id: str, caller: ReadyCaller, after: int | None = Query(None, ge=0),
                     last_event_id: int | None = Header(None, ge=0)) -> Response:
        await self._hub().open(run_id, caller.tenant_id)  # 401/404 before the stream starts; one read for all viewers
        position = after if after is not None else (last_event_id or 0)
        logger_for("run", "stream").info("Stream opened", extra={"runId": run_id, "after": position})
        return EventSourceResponse(
            run_stream(self._hub(), run_id, position), headers={"Cache-Control": "no-cache"},
            ping=self.settings.stream_keepalive_seconds,
            ping_message_factory=lambda: ServerSentEvent(comment="keep-alive"))

    @api.get("/run/{run_id}/graph")
    def graph(self, run_id: str, caller: ReadyCaller) -> dict[str, Any]:
        return with_links(self._graph_of(run_id, caller))

    @api.get("/run/{run_id}/graph.svg")
    def graph_svg(self, run_id: str, caller: ReadyCaller) -> Response:
        return Response(render_svg(self._graph_of(run_id, caller)), media_type="image/svg+xml")

    @api.get("/run/{run_id}/findings")
    def findings_of(self, run_id: str, caller: ReadyCaller) -> dict[str, Any]:
        return {"findings": self._findings_of(self._own_run(run_id, caller))}

    @api.get("/run/{run_id}/findings/{finding_id}/test.py")
    def finding_test(self, run_id: str, finding_id: str, caller: ReadyCaller) -> Response:
        """A standalone pytest test replaying a crash's or ANR's path; an accessibility finding has none (404)."""
        run = self._own_run(run_id, caller)
        finding = self._finding_of(run, finding_id)
        if finding is None:
            return error_response(404, f"no finding {finding_id} in run {run_id}")
        caps = device_caps_of(run.worker_id, self.devices, self.settings.automation_name)
        try:
            script = finding_test_script(finding, run_for_test(run, caps))
        except NoTestScript as error:
            return error_response(404, str(error))
        return Response(script, media_type="text/x-python",
                        headers={"Content-Disposition": f'attachment; filename="test_finding_{finding_id}.py"'})

    @api.get("/run/{run_id}/report.xml")
    def report(self, run_id: str, caller: ReadyCaller) -> Response:
        """JUnit XML for CI: a failing testcase per crash or ANR, one per accessibility rule, the exploration."""
        run = self._own_run(run_id, caller)
        last_event = next(iter(self.runs.events.get(run.id, desc=True, limit=1)), None)  # a completed run's metrics
        return Response(junit_report(run_for_report(run, last_event), self._findings_of(run)),
                        media_type="application/xml")

    @api.get("/run/{run_id}/app-model")
    def app_model(self, run_id: str, caller: ReadyCaller) -> Response:
        """The run as a recorded app: one JSON file, page sources and screenshots inline (DESIGN.md "Real apps")."""
        run = self._own_run(run_id, caller)
        try:
            model = recorded_app(self.runs.events_after(run_id, 0), self.artifacts.get,
                                 run.app_config.get("packageName"))
        except NothingPerceived as error:
            return error_response(409, str(error))
        return Response(json.dumps(model), media_type="application/json")

    @api.get("/run/{run_id}/artifacts/{artifact_id}")
    def artifact(self, run_id: str, artifact_id: str, caller: ReadyCaller) -> Response:
        self._own_run(run_id, caller)
        found = self.artifacts.get(artifact_id)
        if found is None:
            return error_response(404, f"no artifact {artifact_id}")
        return Response(content=found[0], media_type=found[1])

    @api.get("/health", response_model=HealthResponse)
    async def health(self) -> Response | HealthResponse:
        now = datetime.now(timezone.utc)
        if await asyncio.to_thread(self.database.probe):
            devices = await asyncio.to_thread(placement_report, self.settings.udids)
            return HealthResponse(timestamp=now, status="healthy", database="connected", details=devices)
        body = HealthResponse(timestamp=now, status="unhealthy", database="disconnected")
        return Response(body.model_dump_json(), status_code=503, media_type="application/json")

    @api.get("/streams")
    def streams(self) -> dict[str, int]:
        """Streams open on this replica: each costs a queue in memory, no database connection."""
        return {"open": self.hub.open_streams() if self.hub else 0}

    @api.get("/ping")
    def ping(self) -> dict[str, bool]:
        """A no-op: the baseline the benchmark compares POST /run with."""
        return {"ok": True}

    @api.post("/ping", include_in_schema=False)
    async def ping_with_body(self, body: StartRunRequest) -> dict[str, bool]:
        """A no-op taking POST /run's body: the admission benchmark's baseline (same proxy, same parsing)."""
        return {"ok": True}

    def _drift(self, base: str, head: str, caller: Caller) -> dict[str, Any]:
        return diff_graphs(self._graph_of(base, caller), self._graph_of(head, caller))

    def _graph_of(self, run_id: str, caller: Caller) -> dict[str, Any]:
        """The run's graph with every event the run had when asked (read-your-writes: a client that saw
        `run.completed` gets the whole graph). 404 for an unknown run or another tenant's, not an empty graph."""
        self._own_run(run_id, caller)
        if not self.graph.caught_up(self.runs.name, self.runs.last_position(run_id, ScreenGraphProjection.topics)):
            self.log.warning("graph view behind the run's events; answering with what it has",
                             extra={"runId": run_id})
        return self.graph.get_graph(run_id)

    def _findings_of(self, run: Run) -> list[dict[str, Any]]:
        """The run's findings, each with its history across the app's runs (new, or known since when): the map
        too has every finding event the run had when asked (the same read-your-writes wait)."""
        position = self.runs.last_position(run.run_id, FindingsProjection.topics)
        findings = self._caught_up_findings(run, position).get_findings(run.run_id)
        if not findings:
            return findings
        if not self.app_map.caught_up(self.runs.name, position):
            self.log.warning("app map behind the run's findings; answering without their history",
                             extra={"runId": run.run_id})
            return findings
        app_run = self.app_map.run_of(run.run_id)
        history = self.app_map.finding_history(app_run) if app_run else {}
        return [{**finding, "history": history[finding["signature"]]} if finding["signature"] in history
                else finding for finding in findings]

    def _finding_of(self, run: Run, finding_id: str) -> dict[str, Any] | None:
        position = self.runs.last_position(run.run_id, FindingsProjection.topics)
        return self._caught_up_findings(run, position).get_finding(run.run_id, finding_id)

    def _caught_up_findings(self, run: Run, position: int | None) -> FindingsView:
        """The findings view once it has every finding event the run had when asked (`position`: read-your-writes,
        as for the graph): a client that saw `agent.finding.reproduced` gets the finding's reproduction."""
        if not self.findings.caught_up(self.runs.name, position):
            self.log.warning("findings view behind the run's events; answering with what it has",
                             extra={"runId": run.run_id})
        return self.findings

    def _own_run(self, run_id: str, caller: Caller) -> Run:
        return self.runs.get_run(run_id, caller.tenant_id)

    def _hub(self) -> EventHub:
        if self.hub is None:  # needs the replica's running event loop
            self.hub = EventHub(self.runs, asyncio.get_running_loop())
        return self.hub

    # Pages for people (web/). Last in the class: `/runs/{run_id:ulid}` matches only a run id,
    # and routes such as `/runs/diff` declared above it are matched first anyway.

    @api.get("/", include_in_schema=False)
    def runs_page(self) -> Response:
        return page("index.html")

    @api.get("/vendor/{package}/{name}", include_in_schema=False)
    def vendor(self, package: str, name: str) -> Response:
        return vendor_file(package, name) or error_response(404, f"no file {package}/{name}")

    @api.get("/runs/{run_id:ulid}", include_in_schema=False, response_model=dict[str, Any])
    def run_page(self, run_id: str, request: Request) -> Any:
        """The run's page for a browser (its script asks the API with the key); for any other client, the run
        as `GET /run/{id}` answers it (the same response model: the same JSON)."""
        if wants_html(request):
            return page("run.html")
        caller = self.access.caller(request)
        self.database.check()
        return self.get(run_id, caller)


def build_app(settings: Settings) -> Any:
    return RunApi.bind(settings)
