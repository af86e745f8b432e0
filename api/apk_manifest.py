"""An APK's manifest: the facts a run takes from it (package, launchable activity, versions, activities).

The binary AndroidManifest.xml is read by androguard, imported only when an .apk is first read: it costs
the API replica about 0.3 s and 16 MiB (0.8 s and 40 MiB in a bare interpreter), which runs of app models
never pay. Only the manifest is read from the file (the stdlib's zipfile seeks to it): androguard's APK
reads a whole file into memory, and real APKs reach hundreds of MB.
"""

from __future__ import annotations

import io
import os
import threading
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MANIFEST = "AndroidManifest.xml"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # real ones are under 1 MiB; a bigger entry is a zip bomb, not an app


class NotAnApk(ValueError):
    """The file cannot be read as an APK: why, in words a caller can act on."""


def is_apk(path: str) -> bool:
    return path.lower().endswith(".apk")


@dataclass(frozen=True)
class ApkManifest:
    package: str
    launchable_activity: str | None  # fully qualified, as the activities
    version_code: int | None
    version_name: str | None
    activities: tuple[str, ...]  # <activity> names, fully qualified
    aliases: tuple[str, ...] = ()  # <activity-alias> names: a session may start those too

    def facts(self) -> dict[str, Any]:
        """What a run records and GET /run/{id} shows under app.manifest."""
        return {"package": self.package, "launchableActivity": self.launchable_activity,
                "versionCode": self.version_code, "versionName": self.version_name}

    def version(self) -> dict[str, Any] | None:
        """The app's version as runs record it (DESIGN.md "Memory across runs"); None when it declares none."""
        if self.version_code is None and self.version_name is None:
            return None
        return {"versionCode": self.version_code, "versionName": self.version_name}

    def qualified(self, activity: str) -> str:
        """Android's rule for a manifest's names: ".Foo" and "Foo" are in the app's package."""
        if activity.startswith("."):
            return self.package + activity
        return activity if "." in activity else f"{self.package}.{activity}"

    def problems(self, package_name: str | None, app_activity: str | None) -> list[dict[str, str]]:
        """What a start that names this APK gets wrong: a package that is not the APK's, an activity it
        does not declare, or none given when the manifest has no launchable one."""
        found = []
        if package_name is not None and package_name != self.package:
            found.append({"field": "packageName", "problem": f"must be the APK's package {self.package} "
                          f"(from its manifest), not {package_name}"})
        launchable = (f"its launchable activity is {self.launchable_activity}" if self.launchable_activity
                      else "it declares no launchable activity")
        if app_activity is None and self.launchable_activity is None:
            found.append({"field": "appActivity", "problem": f"is required: the APK ({self.package}) declares no "
                          "launchable activity (an intent filter with MAIN and LAUNCHER)"})
        elif app_activity is not None and self.qualified(app_activity) not in {*self.activities, *self.aliases}:
            found.append({"field": "appActivity", "problem": f"{app_activity} is not an activity of the APK "
                          f"({self.package}): {launchable}"})
        return found


def read_manifest(path: str) -> ApkManifest:
    """The manifest of the APK at `path`; NotAnApk when the file is not one (not a zip, truncated, no or
    an unreadable manifest, no package)."""
    apk = _parsed(_manifest_bytes(path), path)
    if not apk.is_valid_APK() or not apk.get_package():
        raise NotAnApk(f"{path} is not an APK: its {MANIFEST} is not a readable Android manifest with a package")
    code = apk.get_androidversion_code()
    aliases = tuple(alias["name"] for alias in apk.get_activity_aliases() if "name" in alias)
    return ApkManifest(package=apk.get_package(), launchable_activity=apk.get_main_activity(),
                       version_code=int(code) if code and code.isdigit() else None,
                       version_name=apk.get_androidversion_name() or None,
                       activities=tuple(dict.fromkeys(apk.get_activities())), aliases=aliases)


def _manifest_bytes(path: str) -> bytes:
    try:
        with zipfile.ZipFile(path) as apk:
            entry = apk.getinfo(MANIFEST)
            if entry.file_size > MAX_MANIFEST_BYTES:
                raise NotAnApk(f"{path} is not an APK: its {MANIFEST} is {entry.file_size} bytes")
            return apk.read(entry)  # checks the entry's CRC: a damaged one is refused here
    except NotAnApk:
        raise
    except FileNotFoundError:
        raise NotAnApk(f"{path} does not exist") from None
    except IsADirectoryError:
        raise NotAnApk(f"{path} is a directory, not an APK") from None
    except KeyError:
        raise NotAnApk(f"{path} is not an APK: it is a zip without {MANIFEST}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as error:
        raise NotAnApk(f"{path} is not an APK: not a complete, readable zip file ({error})") from None
    except OSError as error:
        raise NotAnApk(f"{path} cannot be read: {error.strerror or error}") from None


def _parsed(manifest: bytes, path: str) -> Any:
    """androguard's APK over a zip holding only the manifest: its own rules for the launchable activity
    (MAIN and LAUNCHER, activity aliases, disabled activities) without its whole-file read."""
    only_manifest = io.BytesIO()
    with zipfile.ZipFile(only_manifest, "w", zipfile.ZIP_STORED) as copy:
        copy.writestr(MANIFEST, manifest)
    try:
        return _apk_class()(only_manifest.getvalue(), raw=True)
    except Exception as error:  # a third-party binary-XML parser fails in many ways on bad input: all mean "not an APK"
        raise NotAnApk(f"{path} is not an APK: its {MANIFEST} cannot be parsed "
                       f"({type(error).__name__})") from None


@lru_cache(maxsize=1)
def _apk_class() -> type:
    from loguru import logger  # androguard logs every attribute it parses at DEBUG: seconds per APK
    logger.disable("androguard")
    from androguard.core.apk import APK
    return APK


class ManifestCache:
    """Manifests (or why a file is none) by (path, mtime, size): starting runs of one APK reads it once,
    and a rebuilt APK at the same path is read again."""

    def __init__(self, size: int = 256) -> None:
        self._read = lru_cache(maxsize=size)(_read_or_refusal)
        # One read at a time: twelve runs of one new APK started at once parse it once, not twelve times
        self._reading = threading.Lock()

    def read(self, path: str) -> ApkManifest | NotAnApk:
        """The manifest, or the refusal that says why the file is no APK (returned: raising one cached
        instance again and again would grow its traceback)."""
        try:
            stat = os.stat(path)
        except (OSError, ValueError):
            stat = None  # read_manifest says why, in its words
        with self._reading:
            return self._read(path, stat and stat.st_mtime_ns, stat and stat.st_size)

    def check(self, apk_path: str, package_name: str | None, app_activity: str | None
              ) -> tuple[ApkManifest | None, list[dict[str, str]]]:
        """The APK's manifest and what a start naming it gets wrong (apkPath, packageName, appActivity)."""
        manifest = self.read(apk_path)
        if isinstance(manifest, NotAnApk):
            return None, [{"field": "apkPath", "problem": str(manifest)}]
        return manifest, manifest.problems(package_name, app_activity)


def _read_or_refusal(path: str, mtime_ns: int | None, size: int | None) -> ApkManifest | NotAnApk:
    try:
        return read_manifest(path)
    except NotAnApk as refusal:  # cached too: a client retrying a bad start does not re-read the file
        return refusal
