"""Slurm benchmarks; see bench/slurm.sh. Prints figures and ratios measured in this run."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def sh(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout


def queued(name_prefix):
    out = sh(["squeue", "--me", "-h", "-r", "-o", "%j"])
    return sum(1 for l in out.splitlines() if l.startswith(name_prefix))


def wait_queued(prefix, n, deadline=300):
    t_end = time.time() + deadline
    while queued(prefix) < n:
        if time.time() > t_end:
            sys.exit(f"bench: only {queued(prefix)} of {n} {prefix} jobs queued")
        time.sleep(0.02)


def cancel_all():
    subprocess.run(["scancel", "--me"], check=False)
    t_end = time.time() + 120
    while sh(["squeue", "--me", "-h", "-o", "%i"]).strip():
        if time.time() > t_end:
            break
        time.sleep(0.1)


JOBQUEUE_SCALE = r'''
import sys, time, subprocess
from dask_jobqueue import SLURMCluster
n = int(sys.argv[1])
c = SLURMCluster(cores=1, memory="1GB", processes=1, walltime="00:10:00", queue="hold",
                 scheduler_options={"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"},
                 job_name="jq-bench")
def count():
    out = subprocess.run(["squeue", "--me", "-h", "-r", "-o", "%j"], capture_output=True, text=True).stdout
    return sum(1 for l in out.splitlines() if l.startswith("jq-bench"))
t0 = time.perf_counter()
c.scale(n)
while count() < n:
    time.sleep(0.02)
print(time.perf_counter() - t0, flush=True)
c.close()
'''


def bench_scale(a, env, n):
    # daskctl: a cluster whose workers go to "hold", then scale 0 -> n
    subprocess.run([a.daskctl, "create", "slurm", "--name", "benchscale", "--workers", "0",
                    "--partition", "hold", "--timeout", "1"], env=env, capture_output=True)
    t0 = time.perf_counter()
    sh([a.daskctl, "scale", "benchscale", str(n)], env=env)
    wait_queued("benchscale-worker", n)
    ours = time.perf_counter() - t0
    calls_ours = 1
    cancel_all()
    theirs = float(sh([a.python, "-c", JOBQUEUE_SCALE, str(n)]).strip().splitlines()[-1])
    cancel_all()
    return ours, theirs, calls_ours


def submit_jobqueue_like(n, script_dir):
    """n held jobs exactly as dask-jobqueue names and scripts them (job name dask-worker)."""
    path = os.path.join(script_dir, "jq.sh")
    with open(path, "w") as f:
        f.write("#!/usr/bin/env bash\n#SBATCH -J dask-worker\n#SBATCH -p hold\n\n"
                "python -m distributed.cli.dask_worker tcp://127.0.0.1:1 --name jq-x --nthreads 1 --nanny --death-timeout 60\n")
    for _ in range(n):
        sh(["sbatch", "--parsable", path])


def median_ms(argv, env, runs):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1000


def bench_list(a, env, sizes, runs):
    rows = []
    tmp = tempfile.mkdtemp(prefix="daskctl-bench-jq-")
    have = 0
    for total in sizes:
        cancel_all()
        half = total // 2
        subprocess.run([a.daskctl, "create", "slurm", "--name", "benchlist", "--workers", str(half),
                        "--partition", "hold", "--timeout", "1"], env=env, capture_output=True)
        submit_jobqueue_like(total - half, tmp)
        jobs = len(sh(["squeue", "--me", "-h", "-r", "-o", "%i"]).split())
        listed = sh([a.daskctl, "list", "-o", "json"], env=env)
        # the first list reads each dask-jobqueue job's batch script once (then cached)
        t0 = time.perf_counter()
        subprocess.run([a.daskctl, "list"], env=dict(env, DASKCTL_CACHE_DIR=tempfile.mkdtemp()), capture_output=True)
        cold = (time.perf_counter() - t0) * 1000
        ours = median_ms([a.daskctl, "list", "-o", "json"], env, runs)
        squeue = median_ms(["squeue", "--me", "--json"], env, runs)
        rows.append((total, jobs, squeue, ours, ours - squeue, cold))
    cancel_all()
    return rows


def bench_create(a, env):
    t0 = time.perf_counter()
    sh([a.daskctl, "create", "slurm", "--name", "benchcreate", "--workers", "2", "--walltime", "00:10:00"], env=env)
    dt = time.perf_counter() - t0
    sh([a.daskctl, "delete", "benchcreate", "--yes"], env=env)
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daskctl", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    a.daskctl = os.path.abspath(a.daskctl)
    a.python = os.path.abspath(a.python)
    tmp = tempfile.mkdtemp(prefix="daskctl-bench-slurm-")
    env = dict(os.environ, NO_COLOR="1", DASKCTL_STATE_DIR=f"{tmp}/state", DASKCTL_CACHE_DIR=f"{tmp}/cache",
               DASKCTL_CONFIG=f"{tmp}/config.toml", DASKCTL_PROBE_LOOPBACK_ONLY="1",
               DASKCTL_BACKENDS__SLURM__PYTHON=a.python, DASKCTL_BACKENDS__SLURM__HOST="127.0.0.1",
               DASKCTL_BACKENDS__SLURM__SHARED_DIR=f"{tmp}/shared", DASKCTL_BACKENDS__LOCAL__ENABLED="false")
    cancel_all()

    ours, theirs, _ = bench_scale(a, env, a.workers)
    print(f"scale 0 -> {a.workers} (submission until all {a.workers} jobs are queued)")
    print(f"  daskctl scale (one job array, 1 sbatch call)       {ours:8.3f} s")
    print(f"  dask-jobqueue SLURMCluster.scale ({a.workers} sbatch calls) {theirs:8.3f} s")
    print(f"  speed-up: {theirs / ours:.1f}x  (target >= 10x)\n")

    rows = bench_list(a, env, [10, 100, 1000], a.runs)
    print("daskctl list with queued jobs (half daskctl array tasks, half dask-jobqueue jobs), medians:")
    print(f"  {'jobs':>6} {'in queue':>9} {'squeue --json ms':>17} {'daskctl list ms':>16} {'beyond squeue ms':>17} {'cold cache ms':>14}")
    for total, jobs, sq, ours_ms, extra, cold in rows:
        print(f"  {total:6d} {jobs:9d} {sq:17.1f} {ours_ms:16.1f} {extra:17.1f} {cold:14.1f}")
    print(f"  target: < 150 ms beyond squeue at 1,000 jobs: {'met' if rows[-1][4] < 150 else 'MISSED'}\n")

    dt = bench_create(a, env)
    print(f"create slurm --workers 2 until both workers are connected: {dt:.2f} s")


if __name__ == "__main__":
    main()
