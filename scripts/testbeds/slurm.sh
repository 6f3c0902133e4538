#!/usr/bin/env bash
# Single-node Slurm (Debian's slurmctld slurmd slurm-client munge) for the tests, as root, no
# systemd. Usage: slurm.sh [install|start|stop|status]. Idempotent; `start` resets the queue.
# Based on shared/testbeds/slurm.sh: node = this host with 8 CPUs (overcommitted), no cgroups,
# finished jobs stay visible 5 minutes, munge key created if missing.
set -euo pipefail
ACTION=${1:-start}
NODE=$(hostname -s)
LOG=/var/log/slurm
# PID 1 here reaps orphaned zombies late: `kill -0` is true for a dead daemon, so read the state
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $s != Z* ]]; }
pidf_alive() { [ -f "$1" ] && alive "$(cat "$1")"; }

install() {
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "slurm.sh: installing Slurm needs root" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
  fi
}

write_conf() {
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$LOG"
  cat > /etc/slurm/slurm.conf <<CONF
ClusterName=daskctl-test
SlurmctldHost=${NODE}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MinJobAge=300
MaxJobCount=20000
# refuse at submission what can never run (as production sites do)
EnforcePartLimits=ALL
MaxArraySize=10001
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=${LOG}/slurmctld.log
SlurmdLogFile=${LOG}/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=8 RealMemory=8000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=1-00:00:00 State=UP
# jobs queue here but never start (benchmarks of submission and listing)
PartitionName=hold Nodes=ALL MaxTime=1-00:00:00 State=DOWN
CONF
}

start() {
  install
  write_conf
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
  pidf_alive /run/munge/munged.pid || runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 100); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.05; done
  munge -n | unmunge >/dev/null
  # a state dir from another ClusterName makes slurmctld refuse to start
  rm -f /var/spool/slurmctld/clustername
  if pidf_alive /run/slurmctld.pid; then scontrol reconfigure; else slurmctld -c; fi
  pidf_alive /run/slurmd.pid || slurmd
  local st=""
  for _ in $(seq 300); do
    st=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    case "$st" in idle|mixed|allocated) break;; esac
    sleep 0.1
  done
  case "$st" in idle|mixed|allocated) ;; *) echo "slurm.sh: node state '$st'" >&2; tail -20 "$LOG"/slurmd.log >&2; exit 1;; esac
  echo "slurm.sh: node $NODE $st"
}

stop() {
  if pidf_alive /run/slurmctld.pid; then scancel --user="$(id -un)" 2>/dev/null || true; fi
  for f in /run/slurmd.pid /run/slurmctld.pid; do
    if [ -f "$f" ]; then p=$(cat "$f"); kill "$p" 2>/dev/null || true
      for _ in $(seq 100); do alive "$p" || break; sleep 0.05; done; rm -f "$f"; fi
  done
}

case "$ACTION" in
  install) install;;
  start) start;;
  stop) stop;;
  status) sinfo -h -o '%P %a %D %T';;
  *) echo "usage: $0 [install|start|stop|status]" >&2; exit 2;;
esac
