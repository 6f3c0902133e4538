#!/usr/bin/env bash
# Builds the wheel a facility copies to other machines: the daskctl binary (release profile,
# stripped) and its Python package, for this machine's OS, CPU and glibc (or newer).
#   scripts/wheel.sh [--no-default-features]    -> dist/daskctl-VERSION-py3-none-PLATFORM.whl
# Then, on each machine: pip install dist/daskctl-*.whl   (or 'daskctl[jupyter] @ file:...')
# Needs Rust (rust-version in Cargo.toml; https://rustup.rs) and a C compiler; maturin is put
# into .venv-build if no maturin is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
MATURIN=$(command -v maturin || true)
if [ -z "$MATURIN" ]; then
  [ -x .venv-build/bin/maturin ] || {
    python3 -m venv .venv-build
    .venv-build/bin/pip install -q --disable-pip-version-check 'maturin>=1.5,<2'
  }
  MATURIN=$PWD/.venv-build/bin/maturin
fi
"$MATURIN" build --release --strip --out dist "$@"
ls -l dist/daskctl-*.whl
