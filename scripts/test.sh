#!/usr/bin/env bash
# Every check and test of the project: formatting, clippy, unit and integration tests (the
# integration tests run real `dask scheduler`/`dask worker` processes from the project venv).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh
export DASKCTL_TEST_PYTHON=${DASKCTL_TEST_PYTHON:-$PWD/.venv/bin/python}
command -v openssl >/dev/null || { echo "test: openssl is needed for the TLS tests (apt-get install openssl)" >&2; exit 1; }
# batch systems: started here where the machine can host them (root, Debian packages)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${DASKCTL_TEST_NO_SLURM:-}" ]; then
  scripts/testbeds/slurm.sh start
  export DASKCTL_TEST_SLURM=1
  scripts/testbeds/pbs.sh install
  export DASKCTL_TEST_PBS=1
  scripts/testbeds/sge.sh start
  export DASKCTL_TEST_SGE=1
fi
# a second Unix user: daskctl must never list, scale or delete another user's clusters
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && [ -z "${DASKCTL_TEST_NO_USERS:-}" ]; then
  scripts/testbeds/users.sh
  export DASKCTL_TEST_USERS=1
fi
# login nodes over one home (sibling namespaces: scripts/testbeds/login-nodes.sh), as root
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v nsenter >/dev/null; then
  export DASKCTL_TEST_NODES=1
fi
# AWS: moto's EC2 API on loopback (its own venv, .venv-moto); stopped when the tests end
if [ -z "${DASKCTL_TEST_NO_AWS:-}" ]; then
  export MOTO_PORT=${MOTO_PORT:-5000}
  scripts/testbeds/moto.sh start
  export DASKCTL_TEST_AWS=http://127.0.0.1:$MOTO_PORT
fi
# dask-gateway: a real dask-gateway-server on loopback (its own venv, .venv-gateway)
if [ -z "${DASKCTL_TEST_NO_GATEWAY:-}" ]; then
  scripts/testbeds/gateway.sh start
  export DASKCTL_TEST_GATEWAY=1
fi
trap 'scripts/testbeds/moto.sh stop; scripts/testbeds/gateway.sh stop' EXIT
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
# property tests: 2,000 inputs each (PROPTEST_CASES overrides)
export PROPTEST_CASES=${PROPTEST_CASES:-2000}
cargo test --all-targets -- --test-threads "${TEST_THREADS:-4}"
# the Python distribution: wheel built and installed into a fresh venv, pytest against it (the
# API on real clusters, dask-ctl's plugin contract, JupyterLab's Dask sidebar in Chromium)
if [ -z "${DASKCTL_TEST_NO_PYTHON_PACKAGE:-}" ]; then
  scripts/test-python.sh
fi
