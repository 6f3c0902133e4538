#!/usr/bin/env bash
# Adaptive scaling on the real Slurm test bed (root): daskctl reconcile --watch against
# dask-jobqueue's SLURMCluster.adapt(), same bounds, same burst, same run (bench/adapt_bench.py).
# DASKCTL=target/debug/daskctl skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/testbeds/slurm.sh start >/dev/null
scripts/setup-python.sh
if [ -z "${DASKCTL:-}" ]; then
  cargo build --release -q
  DASKCTL=target/release/daskctl
fi
exec .venv/bin/python bench/adapt_bench.py --daskctl "$DASKCTL"
