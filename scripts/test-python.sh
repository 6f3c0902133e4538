#!/usr/bin/env bash
# The Python distribution, tested as users get it: build the wheel (maturin, debug profile so it
# reuses the test build; stripped), install it into a fresh venv with distributed, JupyterLab and
# dask-labextension 7, and run python/tests against the installed package; then dask-ctl 2024.1.0
# itself (pinned dask==distributed==2023.5.0, its own venv) against the same wheel.
#   scripts/test-python.sh            (DASKCTL_TEST_NO_LEGACY=1 skips the dask-ctl venv)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${DASKCTL_BUILD_VENV:-$ROOT/.venv}   # maturin, ruff
WHEELS=$ROOT/target/wheels
export DASKCTL_TEST_ARTIFACTS=${DASKCTL_TEST_ARTIFACTS:-$ROOT/target/artifacts}
pip_q() { "$@" -q --disable-pip-version-check; }

"$BUILD/bin/python" -c 'import maturin' 2>/dev/null || pip_q "$BUILD/bin/pip" install 'maturin>=1.5,<2' 'ruff>=0.6'
"$BUILD/bin/ruff" format --check python bench
"$BUILD/bin/ruff" check python bench

rm -rf "$WHEELS"
"$BUILD/bin/maturin" build --strip --out "$WHEELS" >&2
wheel=$(ls "$WHEELS"/daskctl-*.whl)
echo "test-python: $(du -h "$wheel" | cut -f1) $(basename "$wheel")" >&2

# `pip install .` from the checkout (maturin's PEP 517 backend; the dev profile reuses the test
# build): the command lands on the venv's PATH and the package finds that binary
DOT=$(mktemp -d)
python3 -m venv "$DOT/venv"
MATURIN_PEP517_ARGS="--profile dev --strip" pip_q "$DOT/venv/bin/pip" install .
[ "$(PATH=$DOT/venv/bin:/usr/bin:/bin daskctl --version)" = "$("$DOT/venv/bin/python" -m daskctl --version)" ]
[ "$("$DOT/venv/bin/python" -c 'import daskctl; print(daskctl.find_daskctl_bin())')" = "$DOT/venv/bin/daskctl" ]
rm -rf "$DOT"
echo "test-python: pip install . puts daskctl on the venv's PATH" >&2

# A fresh venv each run: what `pip install daskctl` gives a user (plus the test tools).
VENV=$ROOT/.venv-wheel
rm -rf "$VENV"
python3 -m venv "$VENV"
pip_q "$VENV/bin/pip" install "$wheel[jupyter]" pytest playwright
"$VENV/bin/daskctl" --version >&2
# not from the source tree: pytest runs in python/tests, python/ is never on sys.path
(cd python/tests && "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rs --ignore=legacy "$@")

# dask-ctl 2024.1.0 loads only with dask and distributed 2023.5.0 (and setuptools' pkg_resources)
if [ -z "${DASKCTL_TEST_NO_LEGACY:-}" ]; then
  LEGACY=$ROOT/.venv-dask-ctl
  if ! "$LEGACY/bin/python" -c 'import dask_ctl' 2>/dev/null; then
    rm -rf "$LEGACY"
    python3 -m venv "$LEGACY"
    pip_q "$LEGACY/bin/pip" install 'dask-ctl==2024.1.0' 'dask==2023.5.0' 'distributed==2023.5.0' \
      'setuptools<81' pytest
  fi
  # after dask-ctl: its own `daskctl` console script is replaced by the binary
  pip_q "$LEGACY/bin/pip" install --force-reinstall --no-deps "$wheel"
  (cd python/tests && "$LEGACY/bin/python" -m pytest -p no:cacheprovider -q -rs legacy)
  # what pip does with the two `daskctl` scripts: the package installed last owns the name.
  # dask-ctl over daskctl: its Python script replaces the binary, and daskctl's package says
  # so instead of running it; daskctl again: the binary is back.
  pip_q "$LEGACY/bin/pip" install --force-reinstall --no-deps 'dask-ctl==2024.1.0'
  [ "$(head -c 2 "$LEGACY/bin/daskctl")" = "#!" ]
  if said=$("$LEGACY/bin/python" -m daskctl --version 2>&1); then
    echo "test-python: python -m daskctl ran dask-ctl's script: $said" >&2
    exit 1
  fi
  case "$said" in
    *"is not daskctl's binary"*) ;;
    *) echo "test-python: unexpected: $said" >&2; exit 1 ;;
  esac
  pip_q "$LEGACY/bin/pip" install --force-reinstall --no-deps "$wheel"
  [ "$("$LEGACY/bin/daskctl" --version)" = "$("$VENV/bin/daskctl" --version)" ]
  echo "test-python: the package installed last owns \`daskctl\`; a replaced binary is named, not run" >&2
fi
