#!/usr/bin/env bash
# `daskctl list -b local` against `dask cluster list` of dask-ctl 2024.1.0 (its own venv, pinned to
# dask==distributed==2023.5.0, the only versions it loads with), on the same running scheduler
# (127.0.0.1:8786, the only place dask-ctl looks), in the same run. Also daskctl with nothing
# running, and peak RSS. Usage: bench/list.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}
BENCH_VENV=${BENCH_VENV:-$PWD/.venv-bench-daskctl}
if ! [ -x "$BENCH_VENV/bin/dask" ] || ! "$BENCH_VENV/bin/python" -c 'import dask_ctl' 2>/dev/null; then
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q --disable-pip-version-check 'dask-ctl==2024.1.0' 'dask==2023.5.0' 'distributed==2023.5.0'
fi
cargo build --release -q
exec python3 bench/list_compare.py --runs "$RUNS" --daskctl target/release/daskctl --venv "$BENCH_VENV"
