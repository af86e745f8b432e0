#!/usr/bin/env bash
# Install the pages' browser libraries (web/package.json: cytoscape.js, its dagre layout, an
# EventSource that can send headers) from the npm registry into web/node_modules.
# Served as they are by the API (/vendor/...): no build step. Idempotent and fast when nothing
# changed: a stamp keyed on package.json / package-lock.json and this script skips the work.
set -euo pipefail

WEB="$(cd "$(dirname "${BASH_SOURCE[0]}")/../web" && pwd)"
STAMP="$WEB/node_modules/.setup-stamp"

command -v npm >/dev/null || { echo "setup-web: 'npm' is required (Node >= 20)" >&2; exit 1; }

want="$(cat "$WEB/package.json" "$WEB/package-lock.json" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
[[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] && exit 0

echo "setup-web: installing the pages' libraries into $WEB/node_modules" >&2
npm ci --prefix "$WEB" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
echo "$want" > "$STAMP"
