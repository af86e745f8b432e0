#!/usr/bin/env bash
# Install Appium 3.8 and the simulator driver (appium-sim/) from the npm registry.
# Idempotent and fast when nothing changed: a stamp keyed on the driver's
# package.json / package-lock.json and this script skips the work.
#   APPIUM_HOME defaults to <repo>/.appium (Appium's extensions live there).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIM="$REPO/appium-sim"
export APPIUM_HOME="${APPIUM_HOME:-$REPO/.appium}"
APPIUM="$SIM/node_modules/.bin/appium"
STAMP="$APPIUM_HOME/.sim-setup-stamp"

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "setup-appium: '$tool' is required (Node >= 20.19, npm >= 10)" >&2; exit 1; }
done

want="$(cat "$SIM/package.json" "$SIM/package-lock.json" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$APPIUM" && -e "$APPIUM_HOME/node_modules/appium-simulator-driver" ]]; then
  exit 0
fi

echo "setup-appium: installing Appium and the simulator driver (APPIUM_HOME=$APPIUM_HOME)" >&2
mkdir -p "$APPIUM_HOME"
# The driver's own dependencies, and Appium 3.8.0 itself (a devDependency, pinned by the lock file).
# --ignore-scripts: Appium's postinstall would try to auto-install extensions we do not want.
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
run() { "$@" >>"$LOG" 2>&1 || { cat "$LOG" >&2; echo "setup-appium: failed: $*" >&2; exit 1; }; }
run npm ci --prefix "$SIM" --ignore-scripts --no-audit --no-fund --loglevel=error

# A local driver is linked into APPIUM_HOME, not copied; reinstall so Appium's manifest is fresh.
"$APPIUM" driver uninstall simulator >/dev/null 2>&1 || true
# Once seen (CI check, 2026-12-02): the install read a package.json of appium-sim/node_modules half written
# ("Unexpected end of JSON input"), as npm, run by Appium, rewrote the linked driver's folder under it. A
# second try finds the folder settled.
if ! "$APPIUM" driver install --source=local "$SIM" >>"$LOG" 2>&1; then
  echo "setup-appium: the driver install failed; trying once more" >&2
  "$APPIUM" driver uninstall simulator >/dev/null 2>&1 || true
  run "$APPIUM" driver install --source=local "$SIM"
fi
echo "$want" > "$STAMP"
echo "setup-appium: done ($("$APPIUM" --version))" >&2
