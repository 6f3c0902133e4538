#!/usr/bin/env bash
# Facility-scale listing: bench/facility.sh [--sizes 1000,10000,100000] [--runs N] [--json]
#   [--systems slurm,sge,pbs,htcondor,lsf] [--serve]
# See bench/facility.py for what is measured and against what. Needs no batch system: the queue
# is served by stand-in commands from captured records (bench/records/).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
exec python3 bench/facility.py --daskctl target/release/daskctl "$@"
