#!/usr/bin/env bash
# PBS/Torque commands for the tests: Slurm's qsub/qstat/qdel wrappers (Debian's
# slurm-wlm-torque) over the Slurm test bed (slurm.sh start first). The .deb is extracted to
# /opt/slurm-torque instead of installed, because it conflicts with gridengine-client (both ship
# qsub). Usage: pbs.sh [install|bin]  (bin prints the directory to put first on PATH).
# Facts (shared/testbeds/pbs-torque-on-slurm.sh): qsub prints a bare id ("5", real PBS prints
# "5.server"), #PBS -o/-j inside a script are ignored (pass them on the command line), PBS_JOBID
# is not set (SLURM_JOB_ID is), a script cannot come from stdin, qstat -f works, -F json does not.
set -euo pipefail
T=/opt/slurm-torque/usr/bin
case "${1:-install}" in
  install)
    if [ ! -x "$T/qsub" ]; then
      [ "$(id -u)" = 0 ] || { echo "pbs.sh: needs root" >&2; exit 1; }
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -q --no-install-recommends libswitch-perl libslurm-perl libslurmdb-perl >/dev/null
      work=$(mktemp -d)
      (cd "$work" && apt-get download -q slurm-wlm-torque >/dev/null 2>&1)
      dpkg-deb -x "$work"/slurm-wlm-torque_*.deb /opt/slurm-torque
      rm -rf "$work"
      # the wrappers run sbatch/squeue/... from their own directory
      for b in sbatch salloc srun squeue scancel scontrol sinfo; do ln -sf "/usr/bin/$b" "$T/$b"; done
    fi
    echo "pbs.sh: wrappers in $T";;
  bin) echo "$T";;
  *) echo "usage: $0 [install|bin]" >&2; exit 2;;
esac
