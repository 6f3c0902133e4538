"""Batch-system benchmarks (see bench/batch.sh): scale 0 -> N against dask-jobqueue's
Cluster.scale(N) (real Python, same system, same run), `daskctl list` with 10/100/1,000 queued
jobs against the system's own listing command, and create -> 2 workers connected.
Jobs of the first two never start: they go to the DOWN partition "hold" (Slurm, PBS wrappers)
or are submitted held (Grid Engine -h)."""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

PBS_BIN = "/opt/slurm-torque/usr/bin"


def sh(argv, env=None):
    return subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout


class Slurm:
    name, jobqueue_class, jobqueue_hold = "slurm", "SLURMCluster", 'queue="hold"'
    hold_flags = ("--partition", "hold")
    listing = ("squeue", "--me")

    def env(self, env):
        return env

    def queued(self, prefix):
        out = sh(["squeue", "--me", "-h", "-r", "-o", "%j"])
        return sum(1 for line in out.splitlines() if line.startswith(prefix))

    def cancel_all(self):
        subprocess.run(["scancel", "--me"], check=False)
        t_end = time.time() + 120
        while sh(["squeue", "--me", "-h", "-o", "%i"]).strip() and time.time() < t_end:
            time.sleep(0.1)

    def cancel_jobqueue(self):
        subprocess.run(["scancel", "--me", "-n", "jq-bench"], check=False)
        wait_gone(self, "jq-bench")

    def submit_jobqueue_like(self, path, env):
        with open(path, "w") as f:
            f.write(
                "#!/usr/bin/env bash\n#SBATCH -J dask-worker\n#SBATCH -p hold\n\n"
                "python -m distributed.cli.dask_worker tcp://127.0.0.1:1 --name jq-x --nthreads 1\n"
            )
        sh(["sbatch", "--parsable", path], env)


class Pbs(Slurm):
    name, jobqueue_class, jobqueue_hold = "pbs", "PBSCluster", 'queue="hold"'
    listing = ("qstat", "-f")

    def env(self, env):
        return dict(
            env,
            PATH=f"{PBS_BIN}:{env['PATH']}",
            DASKCTL_BACKENDS__PBS__BIN_DIR=PBS_BIN,
            DASKCTL_BACKENDS__PBS__FLAVOR="torque",
            DASKCTL_BACKENDS__SLURM__ENABLED="false",
        )

    def submit_jobqueue_like(self, path, env):
        with open(path, "w") as f:
            f.write(
                "#!/usr/bin/env bash\n#PBS -N dask-worker\n#PBS -q hold\n\n"
                "python -m distributed.cli.dask_worker tcp://127.0.0.1:1 --name jq-x --nthreads 1\n"
            )
        sh(["qsub", path], env)


class Sge:
    name, jobqueue_class, jobqueue_hold = "sge", "SGECluster", "job_extra_directives=['-h']"
    hold_flags = ("--job-extra=-h",)
    listing = ("qstat", "-xml", "-u", os.environ.get("USER", "root"))

    def env(self, env):
        return dict(
            env,
            SGE_ROOT="/var/lib/gridengine",
            SGE_CELL="default",
            DASKCTL_BACKENDS__SLURM__ENABLED="false",
        )

    def queued(self, prefix):
        root = ET.fromstring(
            sh(["qstat", "-xml", "-u", os.environ.get("USER", "root")], self.env(dict(os.environ)))
        )
        n = 0
        for j in root.iter("job_list"):
            if not (j.findtext("JB_name") or "").startswith(prefix):
                continue
            tasks = j.findtext("tasks") or ""
            if "-" in tasks:
                a, b = tasks.split(":")[0].split("-")
                n += int(b) - int(a) + 1
            else:
                n += 1
        return n

    def cancel_jobqueue(self):
        e = self.env(dict(os.environ))
        subprocess.run(["qdel", "jq-bench"], capture_output=True, env=e)
        wait_gone(self, "jq-bench")

    def cancel_all(self):
        e = self.env(dict(os.environ))
        subprocess.run(["qdel", "-u", os.environ.get("USER", "root")], capture_output=True, env=e)
        t_end = time.time() + 120
        while sh(["qstat"], e).strip() and time.time() < t_end:
            time.sleep(0.2)

    def submit_jobqueue_like(self, path, env):
        with open(path, "w") as f:
            f.write(
                "#!/usr/bin/env bash\n#$ -N dask-worker\n#$ -h\n#$ -cwd\n\n"
                "python -m distributed.cli.dask_worker tcp://127.0.0.1:1 --name jq-x --nthreads 1\n"
            )
        sh(["qsub", "-terse", path], env)


class Lsf:
    """LSF through the project's stand-in (tests/it/support/lsf: IBM's formats, jobs as local
    processes; LSF's daemons cannot be installed here): the same bsub, bjobs and bkill for
    daskctl and for dask-jobqueue's LSFCluster. Jobs are submitted held (-H, PSUSP)."""

    name, jobqueue_class, jobqueue_hold = "lsf", "LSFCluster", "job_extra_directives=['-H']"
    hold_flags = ("--job-extra=-H",)

    def __init__(self):
        self.dir = os.path.join(tempfile.gettempdir(), "daskctl-bench-lsf-standin")
        self.bin = os.path.join(self.dir, "bin")
        self.listing = ("bjobs", "-o", "jobid jobindex stat user job_name", "-json")

    def install(self, python):
        """The stand-in's commands, run by `python`, in a directory of their own."""
        support = os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "tests", "it", "support"
        )
        src = os.path.join(support, "lsf", "lsf_standin.py")
        os.makedirs(self.bin, exist_ok=True)
        # what the stand-ins share, imported from beside them
        shutil.copy(os.path.join(support, "standin_jobs.py"), self.bin)
        with open(src) as f:
            body = f.read().split("\n", 1)[1]
        script = os.path.join(self.bin, "lsf_standin.py")
        with open(script, "w") as f:
            f.write(f"#!{python}\n{body}")
        os.chmod(script, 0o755)
        for tool in ("bsub", "bjobs", "bkill"):
            link = os.path.join(self.bin, tool)
            if not os.path.lexists(link):
                os.symlink("lsf_standin.py", link)

    def env(self, env):
        return dict(
            env,
            PATH=f"{self.bin}:{env['PATH']}",
            LSF_STANDIN_DIR=os.path.join(self.dir, "state"),
            DASKCTL_BACKENDS__SLURM__ENABLED="false",
        )

    def jobs(self):
        out = sh(
            ["bjobs", "-o", "jobid jobindex job_name", "-noheader"], self.env(dict(os.environ))
        )
        return [line.split() for line in out.splitlines() if line.strip()]

    def queued(self, prefix):
        return sum(1 for j in self.jobs() if len(j) == 3 and j[2].startswith(prefix))

    def submissions(self):
        """How many bsub calls the stand-in has answered (each takes the next job id)."""
        path = os.path.join(self.dir, "state", "jobs.json")
        if not os.path.exists(path):
            return 0
        with open(path) as f:
            return json.load(f)["next"] - 101

    def kill(self, prefix=""):
        ids = sorted({j[0] for j in self.jobs() if len(j) == 3 and j[2].startswith(prefix)})
        if ids:
            subprocess.run(["bkill", *ids], capture_output=True, env=self.env(dict(os.environ)))
        wait_gone(self, prefix)

    def cancel_jobqueue(self):
        self.kill("jq-bench")

    def cancel_all(self):
        self.kill()

    def submit_jobqueue_like(self, path, env):
        script = (
            "#!/usr/bin/env bash\n#BSUB -J dask-worker\n#BSUB -H\n\n"
            "python -m distributed.cli.dask_worker tcp://127.0.0.1:1 --name jq-x --nthreads 1\n"
        )
        subprocess.run(["bsub"], input=script, text=True, check=True, capture_output=True, env=env)


JOBQUEUE_SCALE = r"""
import sys, time
from dask_jobqueue import {cls}
n, count_cmd = int(sys.argv[1]), sys.argv[2]
c = {cls}(cores=1, memory="1GB", processes=1, walltime="00:10:00", job_name="jq-bench", {hold},
          scheduler_options={{"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}})
import subprocess
def count():
    out = subprocess.run(
        [sys.executable, count_cmd, "jq-bench"], capture_output=True, text=True
    ).stdout
    return int(out or 0)
t0 = time.perf_counter()
c.scale(n)
while count() < n:
    time.sleep(0.05)
print(time.perf_counter() - t0, flush=True)
c.close()
"""


def user_env(env):
    """The environment of a user's shell on this machine: every backend daskctl finds enabled
    (local, and Grid Engine where it is installed), nothing switched off for the benchmark."""
    e = {
        k: v
        for k, v in env.items()
        if not (k.startswith("DASKCTL_BACKENDS__") and k.endswith("__ENABLED"))
    }
    if os.path.exists("/var/lib/gridengine/default/common/act_qmaster"):
        e.setdefault("SGE_ROOT", "/var/lib/gridengine")
        e.setdefault("SGE_CELL", "default")
    return e


def wait_gone(b, prefix, deadline=600):
    t_end = time.time() + deadline
    while b.queued(prefix) > 0:
        if time.time() > t_end:
            sys.exit(f"bench: {prefix} jobs still queued")
        time.sleep(0.05)


def wait_queued(b, prefix, n, deadline=600):
    t_end = time.time() + deadline
    while b.queued(prefix) < n:
        if time.time() > t_end:
            sys.exit(f"bench: only {b.queued(prefix)} of {n} {prefix} jobs queued")
        time.sleep(0.05)


def median_ms(argv, env, runs):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("backend", choices=["slurm", "sge", "pbs", "lsf"])
    ap.add_argument("--daskctl", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--scale-runs", type=int, default=5)
    ap.add_argument("--sizes", default="10,100,1000")
    a = ap.parse_args()
    b = {"slurm": Slurm, "sge": Sge, "pbs": Pbs, "lsf": Lsf}[a.backend]()
    daskctl, python = os.path.abspath(a.daskctl), os.path.abspath(a.python)
    if isinstance(b, Lsf):
        b.install(python)
    tmp = tempfile.mkdtemp(prefix=f"daskctl-bench-{b.name}-")
    up = b.name.upper()
    env = b.env(
        dict(
            os.environ,
            NO_COLOR="1",
            DASKCTL_STATE_DIR=f"{tmp}/state",
            DASKCTL_CACHE_DIR=f"{tmp}/cache",
            DASKCTL_CONFIG=f"{tmp}/config.toml",
            DASKCTL_PROBE_LOOPBACK_ONLY="1",
            DASKCTL_BACKENDS__LOCAL__ENABLED="false",
            **{
                f"DASKCTL_BACKENDS__{up}__PYTHON": python,
                f"DASKCTL_BACKENDS__{up}__HOST": "127.0.0.1",
                f"DASKCTL_BACKENDS__{up}__SHARED_DIR": f"{tmp}/shared",
            },
        )
    )
    counter = os.path.join(tmp, "count.py")
    with open(counter, "w") as f:
        f.write(
            f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
            f"import batch_bench as m; print(m.{type(b).__name__}().queued(sys.argv[1]))\n"
        )
    b.cancel_all()
    print(f"== {b.name} ==")

    # 1. scale 0 -> N, as a user runs it and qualified, against dask-jobqueue, several runs
    user = user_env(env)
    cache = os.path.join(tmp, "cache", "names.tsv")
    subprocess.run(
        [
            daskctl,
            "create",
            b.name,
            "--name",
            "benchscale",
            "--workers",
            "0",
            *b.hold_flags,
            "--timeout",
            "1",
        ],
        env=env,
        capture_output=True,
    )
    forms = [
        ("daskctl scale NAME (every backend; names cache from a list)", user, "benchscale", "warm"),
        ("daskctl scale NAME (every backend; no names cache)", user, "benchscale", "cold"),
        (f"daskctl scale {b.name}/NAME", env, f"{b.name}/benchscale", None),
    ]
    times = {f[0]: [] for f in forms}
    theirs = []
    submissions = {"daskctl": [], "dask-jobqueue": []}
    count = getattr(b, "submissions", None)
    for _ in range(a.scale_runs):
        for label, e, name, cache_state in forms:
            if cache_state == "warm":
                subprocess.run([daskctl, "list"], env=e, capture_output=True)
            elif cache_state == "cold" and os.path.exists(cache):
                os.remove(cache)
            before = count() if count else 0
            t0 = time.perf_counter()
            sh([daskctl, "scale", name, str(a.workers)], e)
            wait_queued(b, "benchscale-worker", a.workers)
            times[label].append(time.perf_counter() - t0)
            if count:
                submissions["daskctl"].append(count() - before)
            sh([daskctl, "scale", f"{b.name}/benchscale", "0"], env)
            wait_gone(b, "benchscale-worker")
        before = count() if count else 0
        theirs.append(
            float(
                sh(
                    [
                        python,
                        "-c",
                        JOBQUEUE_SCALE.format(cls=b.jobqueue_class, hold=b.jobqueue_hold),
                        str(a.workers),
                        counter,
                    ],
                    env,
                )
                .strip()
                .splitlines()[-1]
            )
        )
        if count:
            submissions["dask-jobqueue"].append(count() - before)
        b.cancel_jobqueue()
    b.cancel_all()
    med = statistics.median
    if count:
        print(
            f"submissions per scale 0 -> {a.workers}: daskctl "
            f"{sorted(set(submissions['daskctl']))}, dask-jobqueue "
            f"{sorted(set(submissions['dask-jobqueue']))} (bsub calls the stand-in answered)"
        )
    print(f"scale 0 -> {a.workers} (until all {a.workers} jobs are queued), {a.scale_runs} runs")
    print(
        f"  dask-jobqueue {b.jobqueue_class}.scale ({a.workers} submissions): "
        f"median {med(theirs):.3f} s, "
        f"runs {', '.join(f'{t:.3f}' for t in theirs)}"
    )
    for label, ts in times.items():
        ratios = [j / t for j, t in zip(theirs, ts)]
        print(
            f"  {label}: median {med(ts) * 1000:.0f} ms, speed-up median {med(ratios):.1f}x "
            f"(runs {', '.join(f'{r:.1f}' for r in ratios)})"
        )
    print("  target: >= 10x\n")

    # 2. list with queued jobs
    print(
        "daskctl list with queued jobs (half one daskctl array, half dask-jobqueue-style "
        f"jobs), medians of {a.runs}:"
    )
    print(f"  {'jobs':>6} {'listing ms':>11} {'daskctl list ms':>16} {'beyond listing ms':>18}")
    last = None
    for total in [int(x) for x in a.sizes.split(",")]:
        b.cancel_all()
        half = total // 2
        subprocess.run(
            [
                daskctl,
                "create",
                b.name,
                "--name",
                "benchlist",
                "--workers",
                str(half),
                *b.hold_flags,
                "--timeout",
                "1",
            ],
            env=env,
            capture_output=True,
        )
        path = os.path.join(tmp, "jq.sh")
        for _ in range(total - half):
            b.submit_jobqueue_like(path, env)
        t0 = time.perf_counter()
        subprocess.run([daskctl, "list"], env=env, capture_output=True)  # fills the script cache
        first = (time.perf_counter() - t0) * 1000
        listing = median_ms(b.listing, env, a.runs)
        ours_ms = median_ms([daskctl, "list", "-o", "json"], env, a.runs)
        last = ours_ms - listing
        print(
            f"  {total:6d} {listing:11.1f} {ours_ms:16.1f} {last:18.1f}   "
            f"(first list, scripts not cached: {first:.0f} ms)"
        )
    print(
        "  target: < 150 ms beyond the system's own listing at 1,000 jobs: "
        f"{'met' if last is not None and last < 150 else 'MISSED'}\n"
    )
    b.cancel_all()

    # 3. create -> 2 workers connected (Slurm's PBS wrappers cannot list array tasks)
    if b.name == "pbs":
        env = dict(env, DASKCTL_BACKENDS__PBS__ARRAYS="false")
    t0 = time.perf_counter()
    sh(
        [
            daskctl,
            "create",
            b.name,
            "--name",
            "benchcreate",
            "--workers",
            "2",
            "--walltime",
            "00:10:00",
        ],
        env,
    )
    print(
        f"create {b.name} --workers 2 until both workers are connected: "
        f"{time.perf_counter() - t0:.2f} s"
    )
    sh([daskctl, "delete", "benchcreate", "--yes"], env)


if __name__ == "__main__":
    main()
