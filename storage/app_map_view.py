"""The app map's tables (DESIGN.md "Memory across runs"): runs, screens, actions and findings of every app,
by tenant, package and version, kept by the AppMapProjection (domain/app_map.py).

A page of facts and its tracking record commit in one transaction; a notification already tracked is skipped,
so a redelivered page changes nothing. A run's facts find its app and version in `app_runs`, which its
Requested event (always first in the log) filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from domain.app_map import FINDING_OUTCOMES, AppMapProjection, MapFact, Recall, recalled_history
from storage.tracked_view import TrackedView, waited_for

CREATE_APP_MAP = """
CREATE TABLE IF NOT EXISTS app_runs (
    run_id text PRIMARY KEY, tenant_id text NOT NULL, package text NOT NULL, version text NOT NULL,
    version_code bigint, version_name text, memory text NOT NULL, position bigint NOT NULL,
    status text NOT NULL DEFAULT 'queued', last_screen text, partial boolean NOT NULL DEFAULT false);
CREATE INDEX IF NOT EXISTS app_runs_by_app ON app_runs (tenant_id, package, position);
CREATE TABLE IF NOT EXISTS app_screens (
    tenant_id text NOT NULL, package text NOT NULL, version text NOT NULL, screen_id text NOT NULL,
    activity text NOT NULL, screen_package text NOT NULL, elements text[] NOT NULL, offered text[],
    first_run text NOT NULL, last_run text NOT NULL, first_position bigint NOT NULL,
    PRIMARY KEY (tenant_id, package, version, screen_id));
CREATE TABLE IF NOT EXISTS app_actions (
    tenant_id text NOT NULL, package text NOT NULL, version text NOT NULL, screen_id text NOT NULL,
    action_id text NOT NULL, action_kind text NOT NULL, action_label text NOT NULL,
    outcomes text[] NOT NULL DEFAULT '{}', first_position bigint NOT NULL,
    PRIMARY KEY (tenant_id, package, version, screen_id, action_id));
CREATE TABLE IF NOT EXISTS app_findings (
    run_id text NOT NULL, finding_id text NOT NULL, tenant_id text NOT NULL, package text NOT NULL,
    version text NOT NULL, position bigint NOT NULL, signature text NOT NULL, kind text NOT NULL,
    title text NOT NULL, screen_id text NOT NULL, activity text NOT NULL, action_id text, steps jsonb,
    PRIMARY KEY (run_id, finding_id));
CREATE INDEX IF NOT EXISTS app_findings_by_signature ON app_findings (tenant_id, package, signature, position);
"""
APP_TABLES = ("app_runs", "app_screens", "app_actions", "app_findings")
RUN_COLUMNS = "run_id, tenant_id, package, version, version_code, version_name, memory, position, status, partial"


@dataclass(frozen=True)
class AppRun:
    run_id: str
    tenant_id: str
    package: str
    version: str
    version_code: int | None
    version_name: str | None
    memory: str
    position: int
    status: str
    partial: bool = False  # a warm run on its own version: it explored only what the map did not know


class AppMapView(TrackedView):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(SQL(CREATE_APP_MAP))

    def apply(self, facts: Sequence[tuple[int, MapFact]], tracking: Tracking) -> None:
        """A page of the log's map facts in one transaction, then its position."""
        self.apply_page(facts, tracking, _apply)

    # Queries

    def run_of(self, run_id: str) -> AppRun | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT {RUN_COLUMNS} FROM app_runs WHERE run_id = %s", (run_id,))
            row = curs.fetchone()
        return AppRun(**row) if row else None

    def runs_of(self, tenant_id: str, package: str, before: int | None = None) -> list[AppRun]:
        """The app's runs in log order (those requested before position `before`, if given)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT {RUN_COLUMNS} FROM app_runs WHERE tenant_id = %s AND package = %s "
                         "AND position < %s ORDER BY position", (tenant_id, package, before or 2**62))
            return [AppRun(**row) for row in curs.fetchall()]

    def recall(self, run: AppRun) -> Recall:
        """What a warm run of `run`'s app starts from: its own version's map if an earlier run had it, else the
        previous version's (the newest below its versionCode, else the last one run before it), whose latest
        completed run that explored the whole version (not from its own version's map) is the drift's base."""
        earlier = self.runs_of(run.tenant_id, run.package, before=run.position)
        if not earlier:
            return Recall()
        same = any(r.version == run.version for r in earlier)
        version = run.version if same else previous_version(run, earlier)
        base = None if same else next((r.run_id for r in reversed(earlier) if r.version == version
                                       and r.status == "completed" and not r.partial), None)
        with self.datastore.transaction(commit=False) as curs:
            key = (run.tenant_id, run.package, version)
            curs.execute("SELECT screen_id, screen_package, offered FROM app_screens "
                         "WHERE tenant_id = %s AND package = %s AND version = %s ORDER BY first_position", key)
            screens = curs.fetchall()
            curs.execute("SELECT screen_id, action_id, outcomes FROM app_actions "
                         "WHERE tenant_id = %s AND package = %s AND version = %s ORDER BY first_position", key)
            actions = curs.fetchall()
        return Recall(runs=len(earlier), version=version, same_version=same, base_run_id=base,
                      history=recalled_history(screens, actions))

    def older_findings(self, run: AppRun) -> list[dict[str, Any]]:
        """The crashes and ANRs that earlier runs of other (older) versions met, one per signature with its
        latest reproduction steps, and the version and run it was last met in."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT DISTINCT ON (signature) signature, kind, title, activity, action_id, steps, version, run_id "
                "FROM app_findings WHERE tenant_id = %s AND package = %s AND position < %s AND version <> %s "
                "AND kind = ANY(%s) AND steps IS NOT NULL ORDER BY signature, position DESC",
                (run.tenant_id, run.package, run.position, run.version, list(FINDING_OUTCOMES)))
            return curs.fetchall()

    def finding_history(self, run: AppRun) -> dict[str, dict[str, Any]]:
        """For each signature this run met: known (the first version and run that met it earlier), else new."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT mine.signature, first.version, first.run_id FROM app_findings mine "
                "LEFT JOIN LATERAL (SELECT version, run_id FROM app_findings older "
                "  WHERE older.tenant_id = mine.tenant_id AND older.package = mine.package "
                "  AND older.signature = mine.signature AND older.position < %s "
                "  ORDER BY older.position LIMIT 1) first ON true "
                "WHERE mine.run_id = %s", (run.position, run.run_id))
            rows = curs.fetchall()
        return {row["signature"]: ({"status": "known", "firstVersion": row["version"], "firstRunId": row["run_id"]}
                                   if row["run_id"] else {"status": "new"}) for row in rows}

    def app_map(self, tenant_id: str, package: str) -> dict[str, Any] | None:
        """GET /apps/{package}/map: None when the tenant has no run of the app."""
        runs = self.runs_of(tenant_id, package)
        if not runs:
            return None
        key = (tenant_id, package)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT * FROM app_screens WHERE tenant_id = %s AND package = %s "
                         "ORDER BY first_position, version", key)
            screens = curs.fetchall()
            curs.execute("SELECT * FROM app_actions WHERE tenant_id = %s AND package = %s "
                         "ORDER BY first_position, version", key)
            actions = curs.fetchall()
            curs.execute("SELECT signature, kind, title, version, run_id FROM app_findings "
                         "WHERE tenant_id = %s AND package = %s ORDER BY position, finding_id", key)
            findings = curs.fetchall()
        return {"package": package, "versions": _versions(runs), "screens": _screens(screens),
                "actions": _actions(actions), "findings": _findings(findings)}

    def drop_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DROP TABLE IF EXISTS {}, {}").format(
                SQL(", ").join(map(Identifier, APP_TABLES)), Identifier(self.tracking_table_name)))

    def all_rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table in a fixed order: what a rebuild must reproduce."""
        with self.datastore.transaction(commit=False) as curs:
            out = {}
            for table in APP_TABLES:
                curs.execute(SQL("SELECT * FROM {} ORDER BY 1, 2, 3, 4").format(Identifier(table)))
                out[table] = curs.fetchall()
            return out


def previous_version(run: AppRun, earlier: list[AppRun]) -> str:
    """The version before `run`'s: the highest versionCode below its own, else the last one run before it."""
    lower = [r for r in earlier if run.version_code is not None and r.version_code is not None
             and r.version_code < run.version_code]
    if lower:
        return max(lower, key=lambda r: (r.version_code, r.position)).version
    return earlier[-1].version


def _apply(curs: Any, position: int, fact: MapFact) -> None:
    if fact.kind == "run":
        curs.execute("INSERT INTO app_runs (run_id, tenant_id, package, version, version_code, version_name, memory, "
                     "position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_id) DO NOTHING",
                     (fact.run_id, fact.data["tenant_id"], fact.data["package"], fact.data["version"],
                      fact.data["version_code"], fact.data["version_name"], fact.data["memory"], position))
        return
    curs.execute("SELECT tenant_id, package, version, last_screen FROM app_runs WHERE run_id = %s", (fact.run_id,))
    run = curs.fetchone()
    if run is None:  # a run requested before the map's table existed in this shape: replaying rebuilds it
        return
    app = (run["tenant_id"], run["package"], run["version"])
    data = fact.data
    if fact.kind == "screen":
        curs.execute(
            "INSERT INTO app_screens (tenant_id, package, version, screen_id, activity, screen_package, elements, "
            "first_run, last_run, first_position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (tenant_id, package, version, screen_id) DO UPDATE SET last_run = EXCLUDED.last_run, "
            "elements = ARRAY(SELECT DISTINCT unnest(app_screens.elements || EXCLUDED.elements) ORDER BY 1)",
            (*app, data["screen_id"], data["activity"], data["screen_package"], data["elements"], fact.run_id,
             fact.run_id, position))
        curs.execute("UPDATE app_runs SET last_screen = %s WHERE run_id = %s", (data["screen_id"], fact.run_id))
    elif fact.kind == "offered" and run["last_screen"] is not None:
        curs.execute("UPDATE app_screens SET offered = %s WHERE tenant_id = %s AND package = %s AND version = %s "
                     "AND screen_id = %s", (data["action_ids"], *app, run["last_screen"]))
    elif fact.kind in ("tried", "outcome"):
        _action_outcome(curs, app, position, data, data.get("outcome"))
    elif fact.kind == "finding":
        curs.execute(
            "INSERT INTO app_findings (run_id, finding_id, tenant_id, package, version, position, signature, kind, "
            "title, screen_id, activity, action_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (run_id, finding_id) DO NOTHING",
            (fact.run_id, data["finding_id"], *app, position, data["signature"], data["kind"], data["title"],
             data["screen_id"], data["activity"], data["action_id"]))
        if data["kind"] in FINDING_OUTCOMES and data["action_id"]:
            curs.execute("UPDATE app_actions SET outcomes = ARRAY(SELECT DISTINCT unnest(outcomes || %s) ORDER BY 1) "
                         "WHERE tenant_id = %s AND package = %s AND version = %s AND screen_id = %s "
                         "AND action_id = %s", ([data["kind"]], *app, data["screen_id"], data["action_id"]))
    elif fact.kind == "reproduction":
        curs.execute("UPDATE app_findings SET steps = %s WHERE run_id = %s AND finding_id = %s",
                     (Jsonb(data["steps"]), fact.run_id, data["finding_id"]))
    elif fact.kind == "recalled":
        curs.execute("UPDATE app_runs SET partial = %s WHERE run_id = %s", (data["partial"], fact.run_id))
    elif fact.kind == "ended":
        curs.execute("UPDATE app_runs SET status = %s WHERE run_id = %s", (data["status"], fact.run_id))


def _action_outcome(curs: Any, app: tuple[str, str, str], position: int, data: dict[str, Any],
                    outcome: str | None) -> None:
    """An action tried (no outcome yet) or the outcome it had; outcomes of every run of the version together."""
    curs.execute(
        "INSERT INTO app_actions (tenant_id, package, version, screen_id, action_id, action_kind, action_label, "
        "outcomes, first_position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (tenant_id, package, version, screen_id, action_id) DO UPDATE SET "
        "outcomes = ARRAY(SELECT DISTINCT unnest(app_actions.outcomes || EXCLUDED.outcomes) ORDER BY 1)",
        (*app, data["screen_id"], data["action_id"], data["action_kind"], data["action_label"],
         [outcome] if outcome else [], position))


def _versions(runs: list[AppRun]) -> list[dict[str, Any]]:
    by_version: dict[str, dict[str, Any]] = {}
    for r in runs:
        row = by_version.setdefault(r.version, {"version": r.version, "versionCode": r.version_code,
                                                "versionName": r.version_name, "runs": 0, "firstRunId": r.run_id})
        row["runs"] += 1
        row["lastRunId"] = r.run_id
    return sorted(by_version.values(), key=lambda v: (v["versionCode"] is None, v["versionCode"] or 0))


def _screens(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        screen = by_id.setdefault(row["screen_id"], {
            "screenId": row["screen_id"], "activity": row["activity"], "package": row["screen_package"],
            "elements": row["elements"], "versions": [], "firstRunId": row["first_run"]})
        screen["versions"].append(row["version"])
        screen["lastRunId"] = row["last_run"]
    return list(by_id.values())


def _actions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        action = by_key.setdefault((row["screen_id"], row["action_id"]), {
            "screenId": row["screen_id"], "actionId": row["action_id"], "kind": row["action_kind"],
            "label": row["action_label"], "outcomes": {}})
        action["outcomes"][row["version"]] = row["outcomes"]
    return list(by_key.values())


def _findings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_signature: dict[str, dict[str, Any]] = {}
    for row in rows:
        finding = by_signature.setdefault(row["signature"], {
            "signature": row["signature"], "kind": row["kind"], "title": row["title"], "versions": [], "runs": 0,
            "firstRunId": row["run_id"], "firstVersion": row["version"]})
        if row["version"] not in finding["versions"]:
            finding["versions"].append(row["version"])
        finding["runs"] += 1
        finding["lastRunId"], finding["lastVersion"] = row["run_id"], row["version"]
    return list(by_signature.values())


def open_app_map_view(env: dict[str, str]) -> AppMapView:
    """The app map's view on its own connection pool (the projection's name picks its tracking table)."""
    factory = InfrastructureFactory.construct(env=Environment(AppMapProjection.name, env))
    return factory.tracking_recorder(AppMapView)


class AppMemoryReader:
    """The app map as a warm run's agent reads it (agent/memory.py's AppMemory). The map learns of a run from
    its request a moment after the queue hands it out (one runner keeps both: actors/projector.py), so a read
    first waits up to `wait_seconds` for the run's row; a run the map never got to recalls nothing."""

    def __init__(self, view: AppMapView, wait_seconds: float = 10.0) -> None:
        self.view, self.wait_seconds = view, wait_seconds

    def recall(self, run_id: str) -> Recall:
        run = self._run(run_id)
        return Recall() if run is None else self.view.recall(run)

    def older_findings(self, run_id: str) -> list[dict[str, Any]]:
        run = self._run(run_id)
        return [] if run is None else self.view.older_findings(run)

    def _run(self, run_id: str) -> AppRun | None:
        return waited_for(lambda: self.view.run_of(run_id), lambda run: run is not None, self.wait_seconds, None)
