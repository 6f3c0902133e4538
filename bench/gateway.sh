#!/usr/bin/env bash
# The dask-gateway benchmark: a real dask-gateway server (scripts/testbeds/gateway.sh), N
# clusters, `daskctl list -b gateway` against dask-gateway's Python client in the same run.
# Usage: bench/gateway.sh [CLUSTERS] (default 50). Builds daskctl in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/testbeds/gateway.sh start
cargo build --release -q
.venv-gateway/bin/python bench/gateway_bench.py --clusters "${1:-50}" --daskctl target/release/daskctl
