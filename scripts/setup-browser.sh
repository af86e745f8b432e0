#!/usr/bin/env bash
# Install Chromium and its driver (Debian's `chromium`, `chromium-driver`) for the browser tests.
# Idempotent: does nothing when /usr/bin/chromium and /usr/bin/chromedriver are there.
# Others may hold the dpkg lock (parallel set-ups): apt waits for it instead of failing.
set -euo pipefail

[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] && exit 0

SUDO=""
[[ "$(id -u)" == 0 ]] || SUDO="sudo"
APT=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 -y -q)

echo "setup-browser: installing chromium and chromium-driver (Debian packages)" >&2
# Refresh the package lists only when they do not know the packages yet (a fresh machine).
if ! apt-cache show chromium-driver >/dev/null 2>&1; then
  "${APT[@]}" update >/dev/null
fi
"${APT[@]}" install --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
echo "setup-browser: done ($(/usr/bin/chromium --version))" >&2
