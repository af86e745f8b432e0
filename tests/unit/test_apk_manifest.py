"""api/apk_manifest.py on a real APK (ApiDemos, installed at set-up from the npm registry by
scripts/setup-apks.sh) and on files that are no APK: each a NotAnApk that says why, never a crash."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import api.apk_manifest as apk_manifest
from api.access import Access
from api.apk_manifest import MANIFEST, ApkManifest, ManifestCache, NotAnApk, read_manifest
from config.settings import Settings

REPO = Path(__file__).resolve().parents[2]
API_DEMOS = REPO / "apps" / "node_modules" / "android-apidemos" / "apks" / "ApiDemos-debug.apk"
PACKAGE = "io.appium.android.apis"
LAUNCHABLE = f"{PACKAGE}.ApiDemos"


@pytest.fixture(scope="module")
def api_demos() -> Path:
    assert API_DEMOS.is_file(), f"{API_DEMOS} is missing: `make setup` installs it (scripts/setup-apks.sh)"
    return API_DEMOS


@pytest.fixture(scope="module")
def demos_manifest(api_demos: Path) -> ApkManifest:
    return read_manifest(str(api_demos))


def manifest_bytes(apk: Path) -> bytes:
    with zipfile.ZipFile(apk) as archive:
        return archive.read(MANIFEST)


def zip_with(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def refusal(path: Path) -> str:
    with pytest.raises(NotAnApk) as raised:
        read_manifest(str(path))
    assert str(path) in str(raised.value)  # which file, for a caller who named several
    return str(raised.value)


def test_reads_the_real_apks_facts(demos_manifest):
    manifest = demos_manifest

    assert manifest.facts() == {"package": PACKAGE, "launchableActivity": LAUNCHABLE,
                                "versionCode": 25, "versionName": "5.0.0"}
    assert len(manifest.activities) == 331
    assert {LAUNCHABLE, f"{PACKAGE}.view.Buttons1", f"{PACKAGE}.app.AlertDialogSamples"} <= set(manifest.activities)
    assert all(name.startswith(PACKAGE + ".") or "." in name for name in manifest.activities)


def test_a_start_may_name_the_package_and_any_activity_as_android_does(demos_manifest):
    manifest = demos_manifest

    for activity in (".ApiDemos", "ApiDemos", LAUNCHABLE, ".view.Buttons1", manifest.aliases[0], None):
        assert manifest.problems(PACKAGE, activity) == [], activity
    assert manifest.problems(None, None) == []


def test_a_wrong_package_or_activity_names_the_apks_own(demos_manifest):
    manifest = demos_manifest

    problems = {p["field"]: p["problem"] for p in manifest.problems("com.example.notes", ".ConsentActivity")}

    assert set(problems) == {"packageName", "appActivity"}
    assert PACKAGE in problems["packageName"] and "com.example.notes" in problems["packageName"]
    assert f"its launchable activity is {LAUNCHABLE}" in problems["appActivity"]


def test_an_apk_without_a_launchable_activity_needs_one_named(api_demos, tmp_path):
    # The same binary manifest with its one LAUNCHER category renamed (UTF-16 string pool, same length)
    manifest = manifest_bytes(api_demos)
    launcher = "android.intent.category.LAUNCHER".encode("utf-16-le")
    assert manifest.count(launcher) == 1
    apk = zip_with(tmp_path / "no-launcher.apk",
                   {MANIFEST: manifest.replace(launcher, "android.intent.category.LAUNCHEZ".encode("utf-16-le"))})

    parsed = read_manifest(str(apk))

    assert (parsed.package, parsed.launchable_activity, len(parsed.activities)) == (PACKAGE, None, 331)
    [problem] = parsed.problems(None, None)
    assert problem["field"] == "appActivity" and "no launchable activity" in problem["problem"]
    assert parsed.problems(None, ".view.Buttons1") == []
    assert "it declares no launchable activity" in parsed.problems(None, ".Nope")[0]["problem"]


def test_a_renamed_text_file_is_no_apk(tmp_path):
    text = tmp_path / "notes.apk"
    text.write_text("this is a text file, not an app\n")

    assert "not a complete, readable zip file" in refusal(text)


@pytest.mark.parametrize("keep", [0, 1, 4, 22, 1000, 0.5, 0.99, -22, -1])
def test_a_truncated_apk_is_no_apk(api_demos, tmp_path, keep):
    data = api_demos.read_bytes()
    cut = tmp_path / "cut.apk"
    cut.write_bytes(data[:int(len(data) * keep) if isinstance(keep, float) else keep])

    assert "not a complete, readable zip file" in refusal(cut)


def test_a_zip_without_a_manifest_is_no_apk(tmp_path):
    assert f"a zip without {MANIFEST}" in refusal(zip_with(tmp_path / "lib.apk", {"classes.dex": b"dex\n035"}))


def test_a_manifest_too_big_for_an_app_is_not_unpacked(tmp_path):
    apk = zip_with(tmp_path / "bomb.apk", {MANIFEST: bytes(apk_manifest.MAX_MANIFEST_BYTES + 1)})  # deflates to KBs

    assert f"its {MANIFEST} is {apk_manifest.MAX_MANIFEST_BYTES + 1} bytes" in refusal(apk)


def test_a_text_manifest_is_no_apk(tmp_path):
    apk = zip_with(tmp_path / "text-manifest.apk", {MANIFEST: b'<manifest package="com.example.x"/>'})

    assert "not a readable Android manifest" in refusal(apk)


def test_missing_files_and_directories_are_no_apk(tmp_path):
    assert "does not exist" in refusal(tmp_path / "gone.apk")
    (tmp_path / "dir.apk").mkdir()
    assert "is a directory" in refusal(tmp_path / "dir.apk")


def test_a_path_with_a_nul_byte_is_refused_before_any_read(tmp_path):
    path = f"{tmp_path}/x\0.apk"
    access = Access(Settings(app_roots=(tmp_path,), appium_servers=("http://127.0.0.1:4723",)))

    assert [p["field"] for p in access.problems(path, "http://127.0.0.1:4723")] == ["apkPath"]
    assert access.apk_problems(path, None, None) == (None, [])
    assert ManifestCache().check(path, None, None)[1][0]["field"] == "apkPath"


def test_damaged_manifests_and_archives_never_crash(api_demos, tmp_path):
    """Flipped bytes in the manifest (inside a sound zip) and in the archive itself: each read either
    gives the package or says the file is no APK."""
    manifest, data, rnd = manifest_bytes(api_demos), api_demos.read_bytes(), random.Random(22)
    with zipfile.ZipFile(api_demos) as archive:
        entry = archive.getinfo(MANIFEST)
    damaged, refused = tmp_path / "damaged.apk", 0
    for i in range(40):  # a few seconds: each parse of a sound manifest takes ~0.1 s
        if i % 2:  # the binary XML, truncated or with bytes changed
            broken = bytearray(manifest[:rnd.randrange(len(manifest))] if i % 4 == 1 else manifest)
            for _ in range(rnd.randrange(1, 12) if broken else 0):
                broken[rnd.randrange(len(broken))] = rnd.randrange(256)
            zip_with(damaged, {MANIFEST: bytes(broken)})
        else:  # the compressed entry in the real APK
            broken, span = bytearray(data), 30 + len(MANIFEST) + entry.compress_size  # local header and data
            for _ in range(rnd.randrange(1, 8)):
                broken[entry.header_offset + rnd.randrange(span)] = rnd.randrange(256)
            damaged.write_bytes(bytes(broken))
        try:
            assert read_manifest(str(damaged)).package
        except NotAnApk as error:
            assert str(damaged) in str(error)
            refused += 1
    assert refused >= 20  # most damage is noticed (a changed byte in an attribute's value may not be)


def test_the_cache_reads_an_apk_once_and_again_when_it_changes(api_demos, tmp_path, monkeypatch):
    reads: list[str] = []
    real = apk_manifest.read_manifest
    monkeypatch.setattr(apk_manifest, "read_manifest", lambda path: reads.append(path) or real(path))
    apk = tmp_path / "app.apk"
    shutil.copyfile(api_demos, apk)
    cache = ManifestCache()

    with ThreadPoolExecutor(8) as pool:  # starts of one new APK at once, as the API's threads run them
        found = list(pool.map(lambda _: cache.check(str(apk), None, None)[0], range(8)))
    assert {manifest.package for manifest in found} == {PACKAGE}
    assert len(reads) == 1

    apk.write_bytes(api_demos.read_bytes()[:1000])  # rebuilt at the same path: another size, another mtime
    for _ in range(2):
        manifest, [problem] = cache.check(str(apk), None, None)
        assert manifest is None and problem["field"] == "apkPath" and "zip" in problem["problem"]
    assert len(reads) == 2  # a refusal is remembered too


def test_androguard_is_imported_only_when_an_apk_is_read(api_demos):
    """The API replica's memory is benchmarked: runs of app models never load the APK parser."""
    script = ("import sys, api.models, api.access, api.errors, api.apk_manifest as m\n"
              "assert 'androguard' not in sys.modules\n"
              f"m.read_manifest({str(api_demos)!r})\n"
              "assert 'androguard' in sys.modules\n")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
