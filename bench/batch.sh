#!/usr/bin/env bash
# Batch-system benchmarks on the project's test beds (root): bench/batch.sh slurm|sge|pbs|lsf [--workers N]
# (lsf: through the project's stand-in for bsub/bjobs/bkill, tests/it/support/lsf)
# See bench/batch_bench.py for what is measured and against what.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?usage: bench/batch.sh slurm|sge|pbs|lsf [options]}
shift
case "$backend" in
  lsf) ;;
  *) scripts/testbeds/slurm.sh start >/dev/null;;
esac
case "$backend" in
  sge) scripts/testbeds/sge.sh start >/dev/null;;
  pbs) scripts/testbeds/pbs.sh install >/dev/null;;
esac
scripts/setup-python.sh
cargo build --release -q
exec python3 bench/batch_bench.py "$backend" --daskctl target/release/daskctl --python .venv/bin/python "$@"
