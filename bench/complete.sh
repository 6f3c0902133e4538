#!/usr/bin/env bash
# Latency of completing a cluster name (what a TAB after `daskctl describe` costs), with a
# fresh names cache and with a stale one (a discovery bounded by 300 ms refreshes it), against
# a full `daskctl list --no-probe` in the same run. Usage: bench/complete.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-30}
if [ -z "${DASKCTL:-}" ]; then
  cargo build --release -q
  DASKCTL=target/release/daskctl
fi
exec python3 bench/complete_bench.py --runs "$RUNS" --daskctl "$DASKCTL"
