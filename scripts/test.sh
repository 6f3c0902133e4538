#!/usr/bin/env bash
# Every check and test of the project: formatting, clippy, unit and integration tests (the
# integration tests run real `dask scheduler`/`dask worker` processes from the project venv).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh
export DASKCTL_TEST_PYTHON=${DASKCTL_TEST_PYTHON:-$PWD/.venv/bin/python}
command -v openssl >/dev/null || { echo "test: openssl is needed for the TLS tests (apt-get install openssl)" >&2; exit 1; }
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets -- --test-threads "${TEST_THREADS:-4}"
