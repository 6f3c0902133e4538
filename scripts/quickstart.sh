#!/usr/bin/env bash
# The main job on the local backend: build daskctl, make sure a Python with distributed exists,
# create a cluster and list it. Safe to run again (reuses the cluster if it is there).
#   scripts/quickstart.sh [NAME]
# The local backend needs neither the AWS SDK nor kube: they are left out of this build (about
# 5 minutes on 2 cores instead of 12); QUICKSTART_FEATURES=default builds every backend.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:-quickstart}
case "${QUICKSTART_FEATURES:-}" in
  default) cargo build --release -q ;;
  "") cargo build --release -q --no-default-features ;;
  *) cargo build --release -q --no-default-features --features "$QUICKSTART_FEATURES" ;;
esac
scripts/setup-python.sh
export DASKCTL_PYTHON=${DASKCTL_PYTHON:-$PWD/.venv/bin/python}
D=$PWD/target/release/daskctl
# on PATH: a link in ~/.local/bin (where pip --user and pipx put commands too)
BIN=${QUICKSTART_BIN:-$HOME/.local/bin}
mkdir -p "$BIN"
ln -sf "$D" "$BIN/daskctl"
# a cluster of the name that no longer runs (the machine rebooted, its processes were killed)
# is deleted and made again; a running one is reused
status=$("$D" describe "local/$NAME" -o json 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])' 2>/dev/null || true)
case "$status" in
  stopped | orphaned) "$D" delete "local/$NAME" --yes >/dev/null ;;
esac
case "$status" in
  "" | stopped | orphaned) "$D" create local --name "$NAME" --workers 2 >/dev/null ;;
esac
# only the local backend: a Slurm or PBS client installed without a reachable server would
# make a plain list exit 1 (a backend it could not list), which is not what this job is about
"$D" list -b local
echo
case ":$PATH:" in
  *":$BIN:"*) echo "daskctl is on your PATH ($BIN/daskctl -> $D)" ;;
  *) echo "daskctl is linked at $BIN/daskctl; add it to your PATH: export PATH=\"$BIN:\$PATH\"" ;;
esac
echo "try: daskctl describe $NAME, daskctl scale $NAME 4, daskctl logs $NAME, daskctl delete $NAME"
echo "(local clusters use DASKCTL_PYTHON=$DASKCTL_PYTHON; set it in your shell for later commands)"
