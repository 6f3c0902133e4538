#!/usr/bin/env bash
# The Kubernetes backend with 200 dask-kubernetes clusters in one namespace, served by the test
# suite's stand-in API server (tests/it/support/kube.rs; no API server can be installed here):
# `daskctl list` latency against dask-kubernetes' own discover() in the same run.
# Usage: bench/kubernetes.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
VENV=.venv-k8s
if ! "$VENV/bin/python" -c 'import dask_kubernetes' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check dask-kubernetes
fi
DASKCTL=${DASKCTL:-}
if [ -z "$DASKCTL" ]; then cargo build --release -q; DASKCTL=target/release/daskctl; fi
# the stand-in is built optimised too, so that its own serving time stays small
cargo test --release -q --test it --no-run 2>/dev/null
DIR=$(mktemp -d /tmp/daskctl-bench-kube.XXXXXX)
DASKCTL_BENCH_KUBE_DIR=$DIR cargo test --release -q --test it -- --ignored --exact \
  kubernetes::bench_standin_200_clusters >"$DIR/server.log" 2>&1 &
SERVER=$!
trap 'touch "$DIR/stop"; wait $SERVER || true; rm -rf "$DIR"' EXIT
for _ in $(seq 600); do
  [ -f "$DIR/kubeconfig" ] && break
  kill -0 $SERVER 2>/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -f "$DIR/kubeconfig" ] || { echo "bench: the stand-in did not start" >&2; exit 1; }
"$VENV/bin/python" bench/kube_bench.py --runs "$RUNS" --daskctl "$DASKCTL" \
  --kubeconfig "$DIR/kubeconfig"
