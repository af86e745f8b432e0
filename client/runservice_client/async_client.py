"""The run service from Python: RunClient blocks, AsyncRunClient is the same over asyncio (its methods are
coroutines, its iterators async iterators). Only async_client.py is written by hand: client.py is made from it
by unasync (client/scripts/unasync_client.py); what differs beyond awaiting is in flavours.py.

    client = RunClient("http://127.0.0.1:8000")
    run = client.start(apk_path=..., appium_server_url=..., package_name=..., app_activity=..., max_steps=20)
    client.wait(run.id)                      # a progress bar, then the finished run

    async with AsyncRunClient("http://127.0.0.1:8000") as client:
        run = await client.start(...)
        async for event in client.events(run.id):
            print(event.seq, event.name)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any

import httpx
import tenacity
from httpx_sse import EventSource

from runservice_client import calls
from runservice_client.errors import FailingFindings, RunServiceError
from runservice_client.flavours import AsyncParallel, async_svg_source
from runservice_client.memory import AppMap
from runservice_client.models import (FINISHED_STATUSES, Findings, Run, RunEvent, fail_on_kinds, findings_of,
                                      finished_run, llm_usage)
from runservice_client.progress import RunsProgress, StepProgress


class AsyncRunClient:
    def __init__(self, base_url: str = calls.DEFAULT_URL, api_key: str | None = None,
                 timeout: float = 30, retries: int = 5) -> None:
        self.base_url, self.api_key, self.timeout, self.retries = base_url.rstrip("/"), api_key, timeout, retries
        self._parallel = AsyncParallel()
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=calls.auth_headers(api_key), timeout=timeout,
            limits=httpx.Limits(max_connections=self._parallel.size * 2))

    async def __aenter__(self) -> AsyncRunClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # Runs

    async def start(
            self, apk_path: str, appium_server_url: str, package_name: str | None = None,
            app_activity: str | None = None, max_steps: int | None = None, goal: str | None = None,
            inputs: dict[str, str] | None = None, idempotency_key: str | None = None,
            policy: str | None = None, permissions: str | None = None,
            avoid: Iterable[str] | None = None, capabilities: dict[str, Any] | None = None,
            memory: str = "cold") -> Run:
        """Starts a run. `package_name` and `app_activity` may be left out for an .apk: the service reads
        them from its manifest. The same `idempotency_key` (made up when not given) answers the same run,
        so the retries on 503 and connection errors never start a second one. `policy` chooses each
        action: "dfs" (the service's default), "random", "llm", or a plug-in installed on the service.
        `permissions` answers Android's permission dialogs: "grant" (the service's default) or "deny";
        `avoid` (at most 50) names elements never acted on: "id/<name>" (a resource id's name) or
        "text:<regex>" (a text or content-desc, in full, ignoring case). `capabilities` (at most 50) are Appium
        capabilities added to the session the run opens, e.g. {"appium:udid": "emulator-5554"}: W3C names or
        vendor-prefixed ones, each value a JSON scalar or an object of at most 1 KiB as JSON; the ones the run sets
        (platformName, appium:automationName, appium:app, appium:appPackage, appium:appActivity) are refused.
        `memory` "warm" begins from what earlier runs of the app (of the caller's tenant) found: their screens,
        and their crashes and ANRs replayed to see which are fixed; "cold" (the default, not sent) begins afresh."""
        spec = {"apk_path": apk_path, "appium_server_url": appium_server_url, "package_name": package_name,
                "app_activity": app_activity, "max_steps": max_steps, "goal": goal, "inputs": inputs,
                "policy": policy, "permissions": permissions, "avoid": avoid, "capabilities": capabilities,
                "memory": memory}
        return self._run(await self._call(calls.start(spec, idempotency_key)))

    async def start_many(self, specs: Iterable[dict[str, Any]]) -> list[Run]:
        """Starts one run per spec (start's keyword arguments), in parallel; the runs in the specs' order."""
        return await self._parallel.map(lambda spec: self.start(**spec), specs)

    async def get(self, run_id: str) -> Run:
        """The run's state; once it finished, with its `metrics` (from its terminal event)."""
        state = await self._call(calls.get(run_id))
        if state.get("status") in FINISHED_STATUSES:
            state = finished_run(state, await self._last_event(run_id, state["lastEventSeq"] - 1))
        return self._run(state)

    async def runs(
            self, status: str | None = None, limit: int | None = None,
            page_size: int = 100) -> AsyncIterator[dict[str, Any]]:
        """Runs newest first, as rows of the runs table (`pd.DataFrame(client.runs())` works),
        following the pages until `limit` rows or the last page."""
        before, left = None, limit
        while left is None or left > 0:
            page = await self._call(calls.runs_page(status, min(page_size, left or page_size), before))
            for row in page["runs"]:
                yield row
            left = None if left is None else left - len(page["runs"])
            if not (before := page.get("next")):
                return

    async def cancel(self, run_id: str) -> dict[str, Any]:
        return await self._call(calls.command(run_id, "cancel"))

    async def pause(self, run_id: str) -> dict[str, Any]:
        return await self._call(calls.command(run_id, "pause"))

    async def resume(self, run_id: str) -> dict[str, Any]:
        return await self._call(calls.command(run_id, "resume"))

    # Following runs

    async def events(self, run_id: str, after: int = 0) -> AsyncIterator[RunEvent]:
        """The run's events after `after`: its history, then live, until its terminal event. A dropped
        stream resumes after the last event seen, on a new connection."""
        position, idle_drops = after, 0
        while True:
            seen = position
            try:
                async with aclosing(self._stream(run_id, position)) as stream:
                    async for event in stream:
                        position = event.seq
                        yield event
                        if event.is_terminal:
                            return
            except httpx.TransportError:
                pass  # dropped: resume below
            else:  # closed without a terminal event: the end was before `after`, or a drop
                if await self._ended(run_id, position):
                    return
            idle_drops = 0 if position > seen else idle_drops + 1
            if idle_drops >= calls.MAX_IDLE_DROPS:
                raise RunServiceError(None, "unavailable", f"the stream of run {run_id} keeps dropping")

    async def history(self, run_id: str) -> list[RunEvent]:
        """The run's events so far, in order, without waiting for more (`events` follows a live run to its end)."""
        state = await self._call(calls.get(run_id))
        found: list[RunEvent] = []
        async with aclosing(self.events(run_id)) as events:
            async for event in events:
                found.append(event)
                if event.seq >= state["lastEventSeq"]:
                    break
        return found

    async def llm_usage(self, run_id: str) -> dict[str, Any]:
        """The run's use of the language model so far (see models.llm_usage): none for most policies."""
        return llm_usage(await self.history(run_id))

    async def wait(self, run_id: str, progress: bool = True, fail_on: str | Iterable[str] | None = None) -> Run:
        """Blocks until the run ends, with a bar of its steps; the finished run, with its metrics. `fail_on` names
        findings the run must not have, as `runservice start --fail-on` does: kinds ("crash", "anr",
        "accessibility") and "new" (only those no earlier run of the app met), e.g. "crash,new" or
        ["crash", "new"]; when the run has some (whatever its status), FailingFindings is raised with the run
        and them. An unknown name is a ValueError, before waiting."""
        kinds = fail_on_kinds(fail_on)
        with StepProgress(run_id, progress) as bar:
            async for event in self.events(run_id):
                bar.see(event)
        run = self._run(finished_run(await self._call(calls.get(run_id)), bar.terminal))
        if kinds and (failing := (await self.findings(run_id)).failing(kinds)):
            raise FailingFindings(run, failing, kinds)
        return run

    async def wait_all(self, run_ids: Iterable[str], progress: bool = True) -> list[Run]:
        """Blocks until every run ends, with one bar of runs finished; the finished runs, in order."""
        ids = list(run_ids)
        with RunsProgress(len(ids), progress) as bar:
            return await self._parallel.each(self._finish, ids, bar.finished)

    async def _finish(self, run_id: str) -> Run:
        """Waits for the run's end without replaying its history: it follows from its last event."""
        state = await self._call(calls.get(run_id))
        after = state["lastEventSeq"] - 1 if state.get("status") in FINISHED_STATUSES else state["lastEventSeq"]
        terminal = await self._last_event(run_id, after)
        return self._run(finished_run(await self._call(calls.get(run_id)), terminal))

    async def _ended(self, run_id: str, position: int) -> bool:
        state = await self._call(calls.get(run_id))
        return state.get("status") in FINISHED_STATUSES and position >= state["lastEventSeq"]

    async def _last_event(self, run_id: str, after: int) -> RunEvent | None:
        events = [event async for event in self.events(run_id, after)]  # to the end: the last is the terminal one
        return events[-1] if events else None

    # Findings

    async def findings(self, run_id: str) -> Findings:
        """What broke in the run so far: crashes, ANRs and accessibility problems, each with its evidence
        and, once the run replayed it, its reproduction (`Finding.reproduced`: "2 of 2")."""
        return findings_of(await self._call(calls.findings(run_id)))

    async def finding_test(self, run_id: str, finding_id: str) -> str:
        """The text of a crash's or ANR's test.py: a pytest test that replays its path with
        Appium-Python-Client and fails while the bug is there. An accessibility finding has none (404)."""
        return await self._call(calls.finding_test(run_id, finding_id))

    async def report(self, run_id: str) -> str:
        """The run as JUnit XML for CI: a failing testcase per crash or ANR, one per accessibility rule. The text
        declares its encoding, so lxml (and junitparser) parse `report(...).encode()`; ElementTree takes either."""
        return await self._call(calls.report(run_id))

    # Graphs and files

    async def graph(self, run_id: str) -> dict[str, Any]:
        return await self._call(calls.graph(run_id))

    async def graph_svg(self, run_id: str) -> str:
        return await self._call(calls.graph_svg(run_id))

    async def artifact(self, run_id: str, artifact_id: str) -> bytes:
        return await self._call(calls.artifact(run_id, artifact_id))

    async def app_model(self, run_id: str) -> dict[str, Any]:
        """The run as a recorded app (one model.json, page sources and screenshots inline) for the simulator."""
        return await self._call(calls.app_model(run_id))

    # Memory: what the runs of an app found, version by version

    async def app_map(self, package: str) -> AppMap:
        """What the runs of the app (of the caller's tenant) found, version by version: its versions, screens,
        actions with their outcomes per version, and findings with the versions they were met in. An app without
        such runs is a RunServiceError with status 404."""
        return AppMap(await self._call(calls.app_map(package)))

    async def diff(self, base: str, head: str) -> dict[str, Any]:
        """How the screen graph of run `head` differs from that of run `base`."""
        return await self._call(calls.diff(base, head))

    async def diff_svg(self, base: str, head: str) -> str:
        return await self._call(calls.diff(base, head, svg=True))

    # Sending

    def _run(self, data: dict[str, Any]) -> Run:
        return Run(data, async_svg_source(self))

    async def _call(self, call: calls.Call) -> Any:
        return calls.decode(call, await self._send(call))

    async def _stream(self, run_id: str, after: int) -> AsyncIterator[RunEvent]:
        response = await self._send(calls.stream(run_id, after))
        try:
            async for sse in EventSource(response).aiter_sse():
                if sse.data:  # httpx-sse yields the keep-alive comments as empty messages
                    yield RunEvent.from_sse(sse)
        finally:
            await response.aclose()

    async def _send(self, call: calls.Call) -> httpx.Response:
        streaming = call.answer == "stream"
        timeout = calls.stream_timeout(self.timeout) if streaming else httpx.USE_CLIENT_DEFAULT
        request = self._http.build_request(call.method, call.path, params=call.params, json=call.json,
                                           headers=call.headers, timeout=timeout)
        try:
            return await tenacity.AsyncRetrying(**calls.retry_options(self.retries))(
                self._send_once, request, streaming)
        except httpx.TransportError as error:
            raise RunServiceError.unreachable(self.base_url, error) from None

    async def _send_once(self, request: httpx.Request, streaming: bool) -> httpx.Response:
        response = await self._http.send(request, stream=streaming)
        if response.status_code >= 400:
            if streaming:
                await response.aread()
                await response.aclose()
            raise RunServiceError.from_response(response)
        return response
