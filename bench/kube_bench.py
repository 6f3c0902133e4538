"""daskctl's Kubernetes backend against dask-kubernetes' own discovery, on one stand-in API
server holding 200 dask-kubernetes clusters in namespace `bench` (about 1,200 objects).

daskctl:  `daskctl list -b kubernetes -o json`, all namespaces (its default), and with
          `--namespace bench`: DaskClusters, worker groups, Deployments and pods, with status.
baseline: dask-kubernetes' `discover()` (what dask-ctl calls; kr8s lists DaskClusters in all
          namespaces), as a fresh Python process the way a CLI runs it, and once more inside a
          warm process (the listing alone, without start-up and imports).
Times are medians of --runs. No scheduler is probed: the in-cluster addresses are refused
before any DNS lookup (DASKCTL_PROBE_LOOPBACK_ONLY=1).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BASELINE = r"""
import asyncio
from dask_kubernetes.operator import discover
async def main():
    return [name async for name, _ in discover()]
print(len(asyncio.run(main())))
"""

WARM = r"""
import asyncio, statistics, sys, time
from dask_kubernetes.operator import discover
async def once():
    return [name async for name, _ in discover()]
times = []
for _ in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    names = asyncio.run(once())
    times.append(time.perf_counter() - t0)
print(len(names), statistics.median(times))
"""


def timed(argv, env):
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed ({p.returncode}): {p.stderr.decode()}")
    return dt, p.stdout.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--daskctl", required=True)
    ap.add_argument("--kubeconfig", required=True)
    a = ap.parse_args()
    home = tempfile.mkdtemp(prefix="daskctl-bench-home-")
    env = dict(
        os.environ,
        KUBECONFIG=a.kubeconfig,
        HOME=home,
        NO_COLOR="1",
        DASKCTL_PROBE_LOOPBACK_ONLY="1",
    )
    env.pop("DASKCTL_CONFIG", None)

    def daskctl(extra):
        argv = [a.daskctl, "list", "-b", "kubernetes", "-o", "json", *extra]
        times = []
        for _ in range(a.runs):
            dt, out = timed(argv, env)
            n = len(json.loads(out))
            if n != 200:
                sys.exit(f"bench: daskctl listed {n} clusters, not 200")
            times.append(dt)
        return statistics.median(times)

    def cold():
        times = []
        for _ in range(a.runs):
            dt, out = timed([sys.executable, "-c", BASELINE], env)
            n = int(out.split()[0])
            if n != 200:
                sys.exit(f"bench: discover() found {n} clusters, not 200")
            times.append(dt)
        return statistics.median(times)

    daskctl([])  # warm the page cache and the stand-in
    all_ns = daskctl([])
    one_ns = daskctl(["--namespace", "bench"])
    py_cold = cold()
    _, out = timed([sys.executable, "-c", WARM, str(a.runs)], env)
    py_warm = float(out.split()[1])

    print(f"200 dask-kubernetes clusters in one namespace (medians of {a.runs}):")
    print(f"  daskctl list, all namespaces          {all_ns * 1000:8.1f} ms")
    print(f"  daskctl list --namespace bench        {one_ns * 1000:8.1f} ms")
    print(
        f"  dask-kubernetes discover(), new process {py_cold * 1000:6.1f} ms   "
        f"ratio {py_cold / all_ns:.1f}x"
    )
    print(
        f"  dask-kubernetes discover(), warm process {py_warm * 1000:5.1f} ms   "
        f"ratio {py_warm / all_ns:.1f}x (listing only; daskctl's figure includes start-up)"
    )
    print(
        "  discover() returns names only; daskctl also lists worker groups, Deployments and "
        "pods and classifies every cluster."
    )


if __name__ == "__main__":
    main()
