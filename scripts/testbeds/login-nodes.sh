#!/usr/bin/env bash
# Several "login nodes" over one filesystem on one machine (root): each node is a set of sibling
# namespaces (UTS, PID, network, mount) with its own hostname, processes and loopback, sharing
# every file (so a home directory, and daskctl's state in it, is shared, as on an HPC
# login-node pool).
#   login-nodes.sh start NODE        start the node (idempotent); prints its holder pid
#   login-nodes.sh run NODE CMD...   run CMD inside NODE (environment and cwd are kept)
#   login-nodes.sh stop NODE         end the node and every process in it
#   login-nodes.sh stop-all
# Run every command of a node inside it: from the root namespaces a node's processes ARE visible
# (PID namespaces nest), so the root namespace is not a fair "other node". A node's PID 1 is
# `sleep`, which reaps nothing: processes that end there stay zombies (state Z: dead).
set -euo pipefail
DIR=${LOGIN_NODES_DIR:-/run/login-nodes}
mkdir -p "$DIR"
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $s != Z* ]]; }
holder() { [ -f "$DIR/$1.pid" ] && alive "$(cat "$DIR/$1.pid")" && cat "$DIR/$1.pid"; }
case "${1:-}" in
  start)
    n=$2; if p=$(holder "$n"); then echo "$p"; exit 0; fi
    # the holder is PID 1 of the node: `sleep` inside a shell that sets the node up first
    unshare --uts --pid --net --mount --fork --mount-proc \
      bash -c "ip link set lo up; hostname '$n'; exec sleep infinity" >/dev/null 2>&1 &
    u=$!
    # the holder appears once unshare has forked it (a bounded wait on that condition)
    for _ in $(seq 100); do p=$(pgrep -P "$u" sleep || true); [ -n "$p" ] && break; sleep 0.1; done
    [ -n "${p:-}" ] || { echo "login-nodes: $n did not start" >&2; exit 1; }
    echo "$p" >"$DIR/$n.pid"; echo "$p" ;;
  run)
    n=$2; shift 2; p=$(holder "$n") || { echo "login-nodes: $n is not running" >&2; exit 1; }
    exec nsenter -t "$p" -u -p -n -m --preserve-credentials -w"$PWD" -- "$@" ;;
  stop)
    n=$2; p=$(holder "$n") || exit 0; kill -9 "$p" 2>/dev/null || true; rm -f "$DIR/$n.pid" ;;
  stop-all)
    for f in "$DIR"/*.pid; do [ -e "$f" ] && "$0" stop "$(basename "$f" .pid)"; done; true ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
