#!/usr/bin/env bash
# `make metrics`: Prometheus (Debian's package, installed when missing) scraping every node of the
# Ray cluster this machine's Ray temp dir describes, in the foreground on 127.0.0.1:${PROMETHEUS_PORT:-9090}.
# Ray's head writes the list of its nodes' metrics endpoints to
# <ray temp dir>/prom_metrics_service_discovery.json and keeps it current as nodes come and go.
#   RAY_TMPDIR       Ray's temp dir (default /tmp/ray)
#   PROMETHEUS_PORT  port of Prometheus's own pages (default 9090)
#   DATA_DIR         where Prometheus keeps its data: $DATA_DIR/prometheus (default .data)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RAY_DIR="${RAY_TMPDIR:-/tmp/ray}"
HOME_DIR="${DATA_DIR:-$REPO/.data}/prometheus"
PORT="${PROMETHEUS_PORT:-9090}"

if ! command -v prometheus >/dev/null; then
  apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 "$@"; }
  apt_get install -y --no-install-recommends prometheus || { apt_get update && apt_get install -y --no-install-recommends prometheus; }
fi

mkdir -p "$HOME_DIR"
cat > "$HOME_DIR/prometheus.yml" <<YAML
global:
  scrape_interval: 10s
  evaluation_interval: 10s
scrape_configs:
  - job_name: ray
    file_sd_configs:
      - files: ["$RAY_DIR/prom_metrics_service_discovery.json"]
YAML

echo "Prometheus on http://127.0.0.1:$PORT/graph (try: ray_runservice_queue_depth); targets from $RAY_DIR/prom_metrics_service_discovery.json"
exec prometheus --config.file="$HOME_DIR/prometheus.yml" --storage.tsdb.path="$HOME_DIR/data" \
  --web.listen-address="127.0.0.1:$PORT"
