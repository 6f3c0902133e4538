#!/usr/bin/env bash
# Slurm benchmarks on the test bed (scripts/testbeds/slurm.sh; needs root):
#   1. scale 0 -> 100 workers: daskctl (one job array) against dask-jobqueue's
#      SLURMCluster.scale(100) (real Python, one sbatch per job), same Slurm, same run;
#   2. `daskctl list` with 10, 100 and 1,000 queued jobs (half daskctl, half dask-jobqueue),
#      against `squeue --me --json` alone;
#   3. time from `create slurm --workers 2` to both workers connected.
# Jobs of 1 and 2 go to the DOWN partition "hold": they queue but never start.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/testbeds/slurm.sh start >/dev/null
scripts/setup-python.sh
cargo build --release -q
exec python3 bench/slurm_bench.py --daskctl target/release/daskctl --python .venv/bin/python "$@"
