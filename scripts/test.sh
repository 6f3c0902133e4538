#!/usr/bin/env bash
# Every check and test of the project: formatting, clippy, unit and integration tests (the
# integration tests run real `dask scheduler`/`dask worker` processes from the project venv).
set -euo pipefail
cd "$(dirname "$0")/.."
# each suite's time, printed as a table when the tests end (passed or not)
TIMES=$(mktemp)
timed() {
  local what=$1 start rc=0
  shift
  start=$(date +%s)
  "$@" || rc=$?
  printf '%-34s %5ss  %s\n' "$what" "$(($(date +%s) - start))" "$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")" >>"$TIMES"
  return $rc
}
report() {
  echo
  echo "test: time per suite"
  cat "$TIMES"
  rm -f "$TIMES"
}
trap report EXIT
timed "python venv (.venv)" scripts/setup-python.sh
export DASKCTL_TEST_PYTHON=${DASKCTL_TEST_PYTHON:-$PWD/.venv/bin/python}
# dask-mpi clusters: real MPI jobs need mpirun (openmpi-bin) and dask-mpi with mpi4py
if command -v mpirun >/dev/null; then
  if ! "$DASKCTL_TEST_PYTHON" -c 'import dask_mpi, mpi4py' 2>/dev/null; then
    timed "python: dask-mpi, mpi4py" "$(dirname "$DASKCTL_TEST_PYTHON")/pip" install -q \
      --disable-pip-version-check dask-mpi mpi4py
  fi
  export DASKCTL_TEST_MPI=1
fi
command -v openssl >/dev/null || { echo "test: openssl is needed for the TLS tests (apt-get install openssl)" >&2; exit 1; }
# batch systems: started here where the machine can host them (root, Debian packages)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${DASKCTL_TEST_NO_SLURM:-}" ]; then
  timed "test bed: slurm" scripts/testbeds/slurm.sh start
  export DASKCTL_TEST_SLURM=1
  timed "test bed: pbs wrappers" scripts/testbeds/pbs.sh install
  export DASKCTL_TEST_PBS=1
  timed "test bed: sge" scripts/testbeds/sge.sh start
  export DASKCTL_TEST_SGE=1
fi
# a second Unix user: daskctl must never list, scale or delete another user's clusters
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && [ -z "${DASKCTL_TEST_NO_USERS:-}" ]; then
  timed "test bed: second user" scripts/testbeds/users.sh
  export DASKCTL_TEST_USERS=1
fi
# login nodes over one home (sibling namespaces: scripts/testbeds/login-nodes.sh), as root
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v nsenter >/dev/null; then
  export DASKCTL_TEST_NODES=1
fi
# AWS: moto's EC2 API on loopback (its own venv, .venv-moto); stopped when the tests end
if [ -z "${DASKCTL_TEST_NO_AWS:-}" ]; then
  export MOTO_PORT=${MOTO_PORT:-5000}
  timed "test bed: moto" scripts/testbeds/moto.sh start
  export DASKCTL_TEST_AWS=http://127.0.0.1:$MOTO_PORT
fi
# dask-gateway: a real dask-gateway-server on loopback (its own venv, .venv-gateway)
if [ -z "${DASKCTL_TEST_NO_GATEWAY:-}" ]; then
  timed "test bed: dask-gateway" scripts/testbeds/gateway.sh start
  export DASKCTL_TEST_GATEWAY=1
fi
trap 'scripts/testbeds/moto.sh stop; scripts/testbeds/gateway.sh stop; report' EXIT
timed "cargo fmt --check" cargo fmt --all -- --check
timed "cargo clippy (builds)" cargo clippy --all-targets -- -D warnings
# property tests: 2,000 inputs each (PROPTEST_CASES overrides)
export PROPTEST_CASES=${PROPTEST_CASES:-2000}
timed "cargo test (build, unit, integration)" cargo test --all-targets -- --test-threads "${TEST_THREADS:-4}"
# the Python distribution: wheel built and installed into a fresh venv, pytest against it (the
# API on real clusters, dask-ctl's plugin contract, JupyterLab's Dask sidebar in Chromium)
if [ -z "${DASKCTL_TEST_NO_PYTHON_PACKAGE:-}" ]; then
  timed "python package (wheel, pytest)" scripts/test-python.sh
fi
