#!/usr/bin/env bash
# Single-node Son of Grid Engine 8.1.9 (Debian's gridengine-master/-exec/-client) for the tests,
# as root, no systemd. Usage: sge.sh [install|start|stop|status]. Idempotent.
# Based on shared/testbeds/sge.sh: the host name is aliased to localhost (commlib refuses
# clients whose address resolves to another name), root jobs are allowed (min_uid 0, set before
# execd starts), the scheduler runs every second instead of 15.
# Afterwards: export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
set -euo pipefail
ACTION=${1:-start}
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
HOST=$(hostname)
COMMON=$SGE_ROOT/$SGE_CELL/common
WORK=/var/tmp/daskctl-sge
mkdir -p "$WORK"
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $s != Z* ]]; }
daemon_pid() { ps -u sgeadmin -o pid=,stat=,comm= 2>/dev/null | awk -v c="$1" '$2 !~ /^Z/ && $3==c {print $1}' | head -1; }

install() {
  if [ ! -x /usr/lib/gridengine/sge_qmaster ] || [ ! -x /usr/lib/gridengine/sge_execd ]; then
    [ "$(id -u)" = 0 ] || { echo "sge.sh: installing SGE needs root" >&2; exit 1; }
    for pkg in gridengine-common gridengine-client gridengine-master; do
      debconf-set-selections <<SEL
$pkg shared/gridengineconfig boolean true
$pkg shared/gridenginemaster string $HOST
$pkg shared/gridenginecell string default
SEL
    done
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends gridengine-master gridengine-exec gridengine-client >/dev/null
  fi
}

start() {
  install
  echo "$HOST localhost" > "$COMMON/host_aliases"
  echo "$HOST" > "$COMMON/act_qmaster"
  [ -n "$(daemon_pid sge_qmaster)" ] || /usr/lib/gridengine/sge_qmaster
  for _ in $(seq 100); do qconf -sh >/dev/null 2>&1 && break; sleep 0.1; done
  qconf -sh | grep -qx "$HOST" || qconf -ah "$HOST" >/dev/null
  qconf -ss 2>/dev/null | grep -qx "$HOST" || qconf -as "$HOST" >/dev/null
  qconf -sconf > "$WORK/global"
  sed -i -e 's/^min_uid .*/min_uid 0/' -e 's/^min_gid .*/min_gid 0/' "$WORK/global"
  (cd "$WORK" && qconf -Mconf global >/dev/null)
  qconf -ssconf > "$WORK/sched"
  sed -i -e 's/^schedule_interval .*/schedule_interval 0:0:1/' \
         -e 's/^flush_submit_sec .*/flush_submit_sec 1/' -e 's/^flush_finish_sec .*/flush_finish_sec 1/' "$WORK/sched"
  qconf -Msconf "$WORK/sched" >/dev/null
  [ -n "$(daemon_pid sge_execd)" ] || /usr/lib/gridengine/sge_execd
  for _ in $(seq 100); do qconf -sel 2>/dev/null | grep -qx "$HOST" && break; sleep 0.1; done
  if ! qconf -sql 2>/dev/null | grep -qx all.q; then
    cat > "$WORK/all.q" <<Q
qname                 all.q
hostlist              $HOST
seq_no                0
load_thresholds       NONE
suspend_thresholds    NONE
nsuspend              1
suspend_interval      00:05:00
priority              0
min_cpu_interval      00:05:00
processors            UNDEFINED
qtype                 BATCH INTERACTIVE
ckpt_list             NONE
pe_list               NONE
rerun                 FALSE
slots                 8
tmpdir                /tmp
shell                 /bin/bash
prolog                NONE
epilog                NONE
shell_start_mode      unix_behavior
starter_method        NONE
suspend_method        NONE
resume_method         NONE
terminate_method      NONE
notify                00:00:60
owner_list            NONE
user_lists            NONE
xuser_lists           NONE
subordinate_list      NONE
complex_values        NONE
projects              NONE
xprojects             NONE
calendar              NONE
initial_state         default
s_rt                  INFINITY
h_rt                  INFINITY
s_cpu                 INFINITY
h_cpu                 INFINITY
s_fsize               INFINITY
h_fsize               INFINITY
s_data                INFINITY
h_data                INFINITY
s_stack               INFINITY
h_stack               INFINITY
s_core                INFINITY
h_core                INFINITY
s_rss                 INFINITY
h_rss                 INFINITY
s_vmem                INFINITY
h_vmem                INFINITY
Q
    qconf -Aq "$WORK/all.q" >/dev/null
  fi
  qmod -c "all.q@$HOST" >/dev/null 2>&1 || true
  for _ in $(seq 100); do
    qstat -f -q "all.q@$HOST" 2>/dev/null | awk 'NR>2 && $1 ~ /^all.q@/ {print $6}' | grep -q . || break
    sleep 0.1
  done
  echo "sge.sh: all.q@$HOST ready"
}

stop() {
  local p
  [ -n "$(daemon_pid sge_qmaster)" ] && { qdel -u "$(id -un)" >/dev/null 2>&1 || true; }
  p=$(daemon_pid sge_execd); if [ -n "$p" ]; then qconf -ke "$HOST" >/dev/null 2>&1 || kill "$p"; for _ in $(seq 100); do alive "$p" || break; sleep 0.05; done; fi
  p=$(daemon_pid sge_qmaster); if [ -n "$p" ]; then qconf -km >/dev/null 2>&1 || kill "$p"; for _ in $(seq 200); do alive "$p" || break; sleep 0.05; done; fi
}

case "$ACTION" in
  install) install;;
  start) start;;
  stop) stop;;
  status) qstat -f;;
  *) echo "usage: $0 [install|start|stop|status]" >&2; exit 2;;
esac
