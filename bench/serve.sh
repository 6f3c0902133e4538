#!/usr/bin/env bash
# `daskctl serve`: /metrics latency with 200 clusters in the snapshot (against a full
# `daskctl list -o json`, what a scrape would cost without the snapshot), and serve's RSS over
# DURATION seconds of discoveries every INTERVAL. Usage: bench/serve.sh [DURATION] [INTERVAL]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DASKCTL:-}" ]; then
  cargo build --release -q
  DASKCTL=target/release/daskctl
fi
exec python3 bench/serve_bench.py --daskctl "$DASKCTL" --duration "${1:-300}" --interval "${2:-1}"
