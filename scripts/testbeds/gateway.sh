#!/usr/bin/env bash
# A real dask-gateway server on loopback for the gateway tests and benchmark:
# dask-gateway-server[local] from PyPI with its local backend (each cluster's scheduler and
# workers are local processes of this user) and SimpleAuthenticator (any user name, one shared
# password, so a wrong password is a real 401).
# Usage: gateway.sh [install|start|stop|env]. Idempotent; `env` prints the addresses.
# Based on shared/testbeds/dask-gateway.sh. Pitfalls: without the [local] extra the server fails
# on sqlalchemy; distributed >= 2026.6 has no dask-scheduler/dask-worker commands, so the
# commands are set to `dask scheduler`/`dask worker`; the proxy's default address binds every
# interface, so all three addresses are pinned to 127.0.0.1; with a separate TCP proxy address
# the client needs proxy_address. SIGINT stops the server's clusters first; after SIGKILL their
# schedulers and workers live on.
set -euo pipefail
ACTION=${1:-start}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${GATEWAY_VENV:-$ROOT/.venv-gateway}
RUN=${GATEWAY_RUN:-/tmp/daskctl-gateway}
API=127.0.0.1:${GATEWAY_API_PORT:-28787}
HTTP=127.0.0.1:${GATEWAY_HTTP_PORT:-28000}
TCP=127.0.0.1:${GATEWAY_TCP_PORT:-28786}
PASSWORD=${GATEWAY_PASSWORD:-testpw}
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $s != Z* ]]; }

install() {
  if [ ! -x "$VENV/bin/dask-gateway-server" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "dask-gateway-server[local]" dask-gateway
  fi
}

up() { "$VENV/bin/python" - "http://$HTTP/api/health" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1).read()
except Exception:
    sys.exit(1)
PY
}

start() {
  install
  mkdir -p "$RUN/clusters" "$RUN/gates"
  if [ -f "$RUN/pid" ] && alive "$(cat "$RUN/pid")" && up; then return 0; fi
  # start=gated: the scheduler starts only once the test opens its gate ($RUN/gates/NAME), so a
  # cluster stays PENDING for as long as a test needs one (the gateway answers 409 to scaling it)
  cat >"$RUN/gated-scheduler" <<SH
#!/bin/sh
while [ ! -e "$RUN/gates/\$DASK_GATEWAY_CLUSTER_NAME" ]; do sleep 0.1; done
exec "$VENV/bin/dask" scheduler "\$@"
SH
  chmod 755 "$RUN/gated-scheduler"
  cat >"$RUN/gateway_config.py" <<PY
c.DaskGateway.address = "$API"
c.Proxy.address = "$HTTP"
c.Proxy.tcp_address = "$TCP"
c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"
c.SimpleAuthenticator.password = "$PASSWORD"
c.LocalBackend.clusters_directory = "$RUN/clusters"
c.ClusterConfig.worker_cores = 1
c.ClusterConfig.worker_memory = "512 M"
c.ClusterConfig.scheduler_memory = "512 M"
c.ClusterConfig.scheduler_cmd = ["$VENV/bin/dask", "scheduler"]
c.ClusterConfig.worker_cmd = ["$VENV/bin/dask", "worker"]
c.ClusterConfig.idle_timeout = 0
# a stopped (SIGSTOP) scheduler is killed within seconds when its cluster is stopped
c.LocalBackend.sigint_timeout = 1
c.LocalBackend.sigterm_timeout = 1
# options users choose when creating (validated by the server and by daskctl)
from dask_gateway_server.options import Options, Integer, Float, Select
c.Backend.cluster_options = Options(
    Integer("worker_cores", default=1, min=1, max=2, label="Worker cores"),
    Float("worker_memory", default=0.5, min=0.25, max=1, label="Worker memory (GiB)"),
    Select("profile", ["small", "large"], default="small", label="Profile"),
    Select("start", ["now", "gated"], default="now", label="Start (tests)"),
    handler=lambda opts: {
        "worker_cores": opts.worker_cores,
        "worker_memory": int(opts.worker_memory * 2**30),
        **({"scheduler_cmd": ["$RUN/gated-scheduler"]} if opts.start == "gated" else {}),
    },
)
# a cap, so scaling past it is refused with the gateway's own message
c.ClusterConfig.cluster_max_workers = 5
PY
  setsid "$VENV/bin/dask-gateway-server" -f "$RUN/gateway_config.py" >"$RUN/server.log" 2>&1 </dev/null &
  echo $! >"$RUN/pid"
  for _ in $(seq 300); do up && { echo "gateway: http://$HTTP (proxy gateway://$TCP)"; return 0; }; sleep 0.1; done
  echo "gateway: did not start; see $RUN/server.log" >&2; tail -20 "$RUN/server.log" >&2; exit 1
}

stop() {
  [ -f "$RUN/pid" ] || return 0
  local p; p=$(cat "$RUN/pid"); kill -INT "$p" 2>/dev/null || true
  for _ in $(seq 200); do alive "$p" || break; sleep 0.05; done
  alive "$p" && kill -KILL "$p" 2>/dev/null || true
  rm -f "$RUN/pid"
}

case "$ACTION" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) echo "GATEWAY_ADDRESS=http://$HTTP GATEWAY_PROXY=gateway://$TCP GATEWAY_PASSWORD=$PASSWORD GATEWAY_PYTHON=$VENV/bin/python" ;;
  *) echo "usage: $0 [install|start|stop|env]" >&2; exit 2 ;;
esac
