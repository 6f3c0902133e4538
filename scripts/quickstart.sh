#!/usr/bin/env bash
# The main job on the local backend: build daskctl, make sure a Python with distributed exists,
# create a cluster and list it. Safe to run again (reuses the cluster if it is there).
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:-quickstart}
cargo build --release -q
scripts/setup-python.sh
export DASKCTL_PYTHON=${DASKCTL_PYTHON:-$PWD/.venv/bin/python}
D=target/release/daskctl
if ! "$D" describe "local/$NAME" >/dev/null 2>&1; then
  "$D" create local --name "$NAME" --workers 2 >/dev/null
fi
"$D" list
echo
echo "daskctl is at $PWD/$D; try: $D describe $NAME, $D scale $NAME 4, $D logs $NAME, $D delete $NAME"
