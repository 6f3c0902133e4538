#!/usr/bin/env bash
# Provides a Python venv with dask + distributed at $DASKCTL_VENV (default: .venv in the repo).
# Idempotent: an existing venv that can import distributed is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${DASKCTL_VENV:-$PWD/.venv}
PY=${PYTHON:-python3}
# dask-jobqueue: the tests run real SLURMClusters to check that daskctl finds them
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import distributed, dask_jobqueue' 2>/dev/null; then
  exit 0
fi
command -v "$PY" >/dev/null || { echo "setup-python: no $PY on PATH (install Python 3.10+)" >&2; exit 1; }
echo "setup-python: $VENV with dask, distributed and dask-jobqueue" >&2
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check 'dask[distributed]' dask-jobqueue
"$VENV/bin/python" -c 'import dask, distributed; print("setup-python: dask", dask.__version__, "distributed", distributed.__version__)' >&2
