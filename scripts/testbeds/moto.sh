#!/usr/bin/env bash
# moto's EC2 API (moto[server] from PyPI) on 127.0.0.1 for the AWS tests and benchmarks.
# Usage: moto.sh [install|start|stop|env]. Idempotent; `env` prints the client variables.
# Based on shared/testbeds/aws-moto.sh. Pitfalls: moto routes requests by the SigV4 service
# name (unsigned ones go to S3); without the validation switches below it accepts any AMI or
# instance type; the addresses it invents are not ours and must never be connected to.
set -euo pipefail
ACTION=${1:-start}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${MOTO_VENV:-$ROOT/.venv-moto}
PORT=${MOTO_PORT:-5000}
RUN=${MOTO_RUN:-/tmp/daskctl-moto-$PORT}
URL=http://127.0.0.1:$PORT
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $s != Z* ]]; }

install() {
  if [ ! -x "$VENV/bin/moto_server" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check 'moto[server]>=5,<6' boto3
  fi
}

up() { "$VENV/bin/python" - "$URL" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1).read()
except Exception:
    sys.exit(1)
PY
}

start() {
  install
  mkdir -p "$RUN"
  if [ -f "$RUN/pid" ] && alive "$(cat "$RUN/pid")" && up; then return 0; fi
  MOTO_ENABLE_AMI_VALIDATION=true MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION=true \
    setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$RUN/moto.log" 2>&1 </dev/null &
  echo $! >"$RUN/pid"
  for _ in $(seq 300); do up && { echo "moto: listening on $URL"; return 0; }; sleep 0.1; done
  echo "moto: did not start; see $RUN/moto.log" >&2; exit 1
}

stop() {
  [ -f "$RUN/pid" ] || return 0
  local p; p=$(cat "$RUN/pid"); kill "$p" 2>/dev/null || true
  for _ in $(seq 100); do alive "$p" || break; sleep 0.05; done
  rm -f "$RUN/pid"
}

case "$ACTION" in
  install) install;;
  start) start;;
  stop) stop;;
  env) echo "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_ENDPOINT_URL=$URL AWS_EC2_METADATA_DISABLED=true";;
  *) echo "usage: $0 [install|start|stop|env]" >&2; exit 2;;
esac
