"""Adaptive scaling on real Slurm, in the same run: daskctl's stored policy applied by
`daskctl reconcile --watch --interval 1s` against dask-jobqueue's `SLURMCluster.adapt()` (Dask's
Adaptive, also every 1 s), both with bounds 1..4 and the same burst of work from a real Client.

Measured per side: from submitting the burst to the first added worker connecting, and from the
end of the work back to the minimum (Dask's damping waits 3 intervals either way). From cron,
daskctl's interval is cron's (60 s) instead of 1 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from distributed import Client

TASKS, SECONDS = 120, 0.5


def workers(client: Client) -> int:
    return len(client.scheduler_info(n_workers=-1)["workers"])


def wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def burst(client: Client, minimum: int) -> tuple[float, float]:
    before = workers(client)
    t0 = time.perf_counter()
    futures = client.map(time.sleep, [SECONDS] * TASKS, pure=False)
    wait_for(lambda: workers(client) > before, 300, "a worker to be added")
    first = time.perf_counter() - t0
    client.gather(futures)
    del futures
    t1 = time.perf_counter()
    wait_for(lambda: workers(client) <= minimum, 600, "the minimum")
    return first, time.perf_counter() - t1


def daskctl_side(daskctl: str) -> tuple[float, float]:
    d = tempfile.mkdtemp(prefix="daskctl-adapt-bench-")
    env = dict(
        os.environ,
        DASKCTL_STATE_DIR=f"{d}/state",
        DASKCTL_CACHE_DIR=f"{d}/cache",
        DASKCTL_CONFIG=f"{d}/config.toml",
        DASKCTL_BACKENDS__SLURM__PYTHON=sys.executable,
        DASKCTL_BACKENDS__SLURM__HOST="127.0.0.1",
        DASKCTL_BACKENDS__SLURM__SHARED_DIR=f"{d}/shared",
        DASKCTL_PROBE_LOOPBACK_ONLY="1",
        KUBECONFIG=f"{d}/kubeconfig",
        DASK_CONFIG=f"{d}/dask",
    )
    for other in ("LOCAL", "PBS", "SGE", "HTCONDOR", "AWS", "GATEWAY"):
        env[f"DASKCTL_BACKENDS__{other}__ENABLED"] = "false"

    def run(*args: str) -> str:
        return subprocess.run(
            [daskctl, *args], env=env, check=True, capture_output=True, text=True
        ).stdout

    run("create", "slurm", "--name", "adaptbench", "--workers", "1", "--timeout", "180")
    run("adapt", "slurm/adaptbench", "--minimum", "1", "--maximum", "4")
    import json

    address = json.loads(run("describe", "slurm/adaptbench", "-o", "json"))["address"]
    watcher = subprocess.Popen(
        [daskctl, "reconcile", "--watch", "--interval", "1s"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with Client(address) as client:
            return burst(client, 1)
    finally:
        watcher.terminate()
        watcher.wait()
        run("delete", "slurm/adaptbench", "--yes", "--wait")


def jobqueue_side() -> tuple[float, float]:
    from dask_jobqueue import SLURMCluster

    cluster = SLURMCluster(
        cores=1,
        memory="1GB",
        processes=1,
        walltime="00:30:00",
        python=sys.executable,
        scheduler_options={"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"},
        worker_extra_args=["--host", "127.0.0.1"],
    )
    try:
        cluster.scale(1)
        with Client(cluster) as client:
            client.wait_for_workers(1, timeout=180)
            cluster.adapt(minimum=1, maximum=4, interval="1s")
            return burst(client, 1)
    finally:
        cluster.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--daskctl", required=True)
    a = p.parse_args()
    print(f"burst: {TASKS} tasks of {SECONDS} s on 1..4 single-thread workers, real Slurm")
    ours = daskctl_side(a.daskctl)
    theirs = jobqueue_side()
    for who, (first, down) in (
        ("daskctl reconcile --watch --interval 1s", ours),
        ("dask-jobqueue SLURMCluster.adapt(interval=1s)", theirs),
    ):
        print(f"{who:48} first added worker {first:6.1f} s, back to minimum {down:6.1f} s")
    print(
        f"ratio daskctl/dask-jobqueue: first worker {ours[0] / theirs[0]:.2f}x, "
        f"back to minimum {ours[1] / theirs[1]:.2f}x"
    )


if __name__ == "__main__":
    main()
