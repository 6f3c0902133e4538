#!/usr/bin/env bash
# The AWS backend against moto's EC2 API (its own moto on 127.0.0.1:${BENCH_MOTO_PORT:-5001}):
# `daskctl list` over 500 tagged instances in 2 regions (pages of 100, so pagination is on) and
# `daskctl scale NAME 100` from 0, each against a boto3 script doing the same work the way the
# Python tools do, in the same run. API calls are counted from moto's request log.
# Usage: bench/aws.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
PORT=${BENCH_MOTO_PORT:-5001}
scripts/testbeds/moto.sh install
DASKCTL=${DASKCTL:-}
if [ -z "$DASKCTL" ]; then cargo build --release -q; DASKCTL=target/release/daskctl; fi
RUN=/tmp/daskctl-bench-moto-$PORT
mkdir -p "$RUN"
# no AMI/type validation here: the benchmark measures listing and scaling, not moto's checks
setsid .venv-moto/bin/moto_server -H 127.0.0.1 -p "$PORT" >"$RUN/moto.log" 2>&1 </dev/null &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true' EXIT
.venv-moto/bin/python bench/aws_bench.py --runs "$RUNS" --daskctl "$DASKCTL" \
  --endpoint "http://127.0.0.1:$PORT" --log "$RUN/moto.log"
