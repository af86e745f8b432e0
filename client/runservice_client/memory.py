"""What the service remembers of an app across its runs: app versions, a finding's history (met before or new),
and the app's map (GET /apps/{package}/map). Answers of a service from before memory lack these keys: each
reader here takes that as "nothing remembered"."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from typing import Any

NEW, KNOWN = "new", "known"


def version_label(version: dict[str, Any] | None) -> str | None:
    """An app version ({"versionCode": 13, "versionName": "3.3.0"}) as a person reads it: "3.3.0 (13)", or
    whichever of the two is known; None when the version is not known."""
    if not version:
        return None
    code, name = version.get("versionCode"), version.get("versionName")
    if code is not None and name:
        return f"{name} ({code})"
    if name:
        return str(name)
    return None if code is None else str(code)


@dataclass(frozen=True)
class FindingHistory:
    """Whether an earlier run of the app met a finding: status "new", or "known" with the version and the run that
    met it first."""

    status: str
    first_version: str | None = None
    first_run_id: str | None = None

    @property
    def is_new(self) -> bool:
        return self.status != KNOWN

    @property
    def label(self) -> str:
        """ "new", or "known since 12" (the version that met it first)."""
        if self.is_new:
            return NEW
        return f"{KNOWN} since {self.first_version}" if self.first_version else KNOWN

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> FindingHistory | None:
        if not data:
            return None
        return cls(str(data.get("status") or NEW), data.get("firstVersion"), data.get("firstRunId"))


class AppMap(dict):
    """What the runs of one app found, version by version (GET /apps/{package}/map, its camelCase JSON, so
    `app_map["screens"]` works): its versions oldest first, screens, actions with their outcomes per version,
    and findings with the versions they were met in. A table of versions and one of findings in Jupyter."""

    @property
    def package(self) -> str:
        return self["package"]

    @property
    def versions(self) -> list[dict[str, Any]]:
        """{"version": "12", "versionCode", "versionName", "runs", "firstRunId", "lastRunId"}, oldest first."""
        return list(self.get("versions") or ())

    @property
    def screens(self) -> list[dict[str, Any]]:
        return list(self.get("screens") or ())

    @property
    def actions(self) -> list[dict[str, Any]]:
        return list(self.get("actions") or ())

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.get("findings") or ())

    def screens_per_version(self) -> dict[str, int]:
        """How many screens the runs of each version saw, in the versions' order ({"12": 11, "13": 12})."""
        counts = Counter(version for screen in self.screens for version in screen.get("versions") or ())
        return {v["version"]: counts[v["version"]] for v in self.versions}

    def _repr_html_(self) -> str:
        e = html.escape
        screens = self.screens_per_version()
        rows = "".join(f"<tr><td>{e(v['version'])}</td><td>{e(version_label(v) or '')}</td><td>{v.get('runs')}</td>"
                       f"<td>{screens.get(v['version'], 0)}</td></tr>" for v in self.versions)
        found = "".join(f"<tr><td>{e(str(f.get('kind')))}</td><td>{e(str(f.get('title')))}</td>"
                        f"<td>{e(str(f.get('firstVersion')))}</td><td>{e(str(f.get('lastVersion')))}</td></tr>"
                        for f in self.findings)
        head = f"<p><b>{e(self.package)}</b>: {len(self.versions)} versions, {len(self.screens)} screens</p>"
        return (f"<div>{head}<table><tr><th>version</th><th>name</th><th>runs</th><th>screens</th></tr>{rows}</table>"
                + (f"<table><tr><th>kind</th><th>title</th><th>first</th><th>last</th></tr>{found}</table>"
                   if found else "") + "</div>")
