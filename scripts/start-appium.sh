#!/usr/bin/env bash
# Start a real Appium 3.8 server with the simulator driver, in the foreground,
# on 127.0.0.1:${APPIUM_PORT:-4723}. Runs setup-appium.sh first (fast when done).
#   APPIUM_PORT       port (default 4723)
#   APPIUM_LOG_LEVEL  Appium log level (default warn; info or debug to see every command)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export APPIUM_HOME="${APPIUM_HOME:-$REPO/.appium}"
"$REPO/scripts/setup-appium.sh"

# A 1 MB young generation instead of V8's 16 MB: 10 MB less for an idle server whose commands allocate little.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--max-semi-space-size=1"
exec "$REPO/appium-sim/node_modules/.bin/appium" server \
  --address 127.0.0.1 --port "${APPIUM_PORT:-4723}" \
  --use-drivers=simulator --log-level "${APPIUM_LOG_LEVEL:-warn}" --log-no-colors "$@"
