#!/usr/bin/env bash
# What the Python package adds on top of the binary, and what installing it costs: wheel size,
# `pip install` time from the built wheel into a fresh venv, and `daskctl.list_clusters()`
# against `daskctl list -o json` with one local cluster, in the same run.
# Usage: bench/python_api.sh [WHEEL]  (default: a release wheel built here with maturin)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh
.venv/bin/python -c 'import maturin' 2>/dev/null || .venv/bin/pip install -q 'maturin>=1.5,<2'
wheel=${1:-}
if [ -z "$wheel" ]; then
  rm -rf target/bench-wheel
  .venv/bin/maturin build --release --out target/bench-wheel >&2
  wheel=$(ls target/bench-wheel/daskctl-*.whl)
fi
venv=$(mktemp -d)/venv
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'dask[distributed]' >&2
echo "wheel: $(basename "$wheel") $(stat -c %s "$wheel") bytes ($(du -h "$wheel" | cut -f1))"
start=$(date +%s.%N)
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps "$wheel"
end=$(date +%s.%N)
echo "pip install (from the wheel, fresh venv): $(echo "$end - $start" | bc) s"
"$venv/bin/python" bench/python_api.py
rm -rf "$(dirname "$venv")"
