#!/usr/bin/env bash
# Install the real APKs (apps/package.json: android-apidemos, the Appium project's ApiDemos) from the npm
# registry into apps/node_modules: under the default APP_ROOTS, so a run on a device can name them as they
# are, and the APK tests read them. Idempotent and fast when nothing changed: a stamp keyed on
# package.json / package-lock.json and this script skips the work.
set -euo pipefail

APPS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../apps" && pwd)"
STAMP="$APPS/node_modules/.setup-stamp"

command -v npm >/dev/null || { echo "setup-apks: 'npm' is required (Node >= 20)" >&2; exit 1; }

want="$(cat "$APPS/package.json" "$APPS/package-lock.json" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
[[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] && exit 0

echo "setup-apks: installing the APKs into $APPS/node_modules" >&2
# --ignore-scripts: the package's own scripts build it from source (its prepare step); the APK ships built.
npm ci --prefix "$APPS" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
echo "$want" > "$STAMP"
