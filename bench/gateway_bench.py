"""dask-gateway benchmark (see bench/gateway.sh): with N clusters on a real dask-gateway server
(scripts/testbeds/gateway.sh), each with one worker, how long it takes to know every cluster
and its worker count:
  - daskctl: `daskctl list -b gateway -o json` (one listing, every scheduler probed through the
    proxy at once);
  - dask-gateway's Python client: `Gateway.list_clusters()` plus, per cluster,
    `gw.connect(name).get_client()` and `len(client.scheduler_info()["workers"])`, the way a
    notebook user finds worker counts (run in the gateway's own venv).
Both in the same run against the same server; prints the ratio. Run with the gateway's Python:
  .venv-gateway/bin/python bench/gateway_bench.py --clusters 50 --daskctl target/release/daskctl
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")
# after the filter: dask_gateway warns at import
from dask_gateway import BasicAuth, Gateway  # noqa: E402

HTTP, PROXY, PASSWORD, USER = (
    "http://127.0.0.1:28000",
    "gateway://127.0.0.1:28786",
    "testpw",
    "gw-bench",
)


# dask-gateway's client closes a garbage-collected Gateway by waiting on its own event loop; when
# the collection happens on that loop's thread it waits forever. Objects are kept alive instead.
gc.disable()
KEEP = []


def gateway():
    return Gateway(HTTP, proxy_address=PROXY, auth=BasicAuth(USER, PASSWORD))


def make_clusters(n):
    gw = gateway()
    for r in gw.list_clusters():
        gw.stop_cluster(r.name)
    names = [gw.submit() for _ in range(n)]
    deadline = time.time() + 600
    while time.time() < deadline:
        running = {r.name for r in gw.list_clusters() if r.status.name == "RUNNING"}
        if running >= set(names):
            break
        time.sleep(0.5)
    for name in names:
        gw.scale_cluster(name, 1)
    for name in names:
        c = gw.connect(name)
        cl = c.get_client()
        cl.wait_for_workers(1, timeout=300)
        KEEP.extend([c, cl])
    return names


def python_client(n):
    t = time.perf_counter()
    gw = gateway()
    counts = {}
    for r in gw.list_clusters():
        c = gw.connect(r.name)
        cl = c.get_client()
        counts[r.name] = len(cl.scheduler_info()["workers"])
        cl.close()
        KEEP.append(c)
    dt = time.perf_counter() - t
    assert len(counts) == n and all(v == 1 for v in counts.values()), counts
    return dt


def daskctl(binary, env, n):
    t = time.perf_counter()
    out = subprocess.run(
        [binary, "list", "-b", "gateway", "-o", "json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    dt = time.perf_counter() - t
    listed = json.loads(out)
    assert len(listed) == n and all(c["workers"] == 1 for c in listed), out[:500]
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clusters", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--daskctl", default="target/release/daskctl")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "gateway.yaml"), "w") as f:
            f.write(
                f"gateway:\n  address: {HTTP}\n  proxy-address: {PROXY}\n  auth:\n"
                f"    type: basic\n    kwargs: {{username: {USER}, password: {PASSWORD}}}\n"
            )
        env = dict(
            os.environ,
            DASK_CONFIG=d,
            DASKCTL_STATE_DIR=os.path.join(d, "state"),
            DASKCTL_CACHE_DIR=os.path.join(d, "cache"),
            DASKCTL_CONFIG=os.path.join(d, "c.toml"),
            DASKCTL_PROBE_LOOPBACK_ONLY="1",
            DASKCTL_TIMEOUT="120s",
        )
        t = time.time()
        make_clusters(a.clusters)
        print(
            f"{a.clusters} gateway clusters with 1 worker each up in {time.time() - t:.1f} s",
            flush=True,
        )
        try:
            ours = [daskctl(a.daskctl, env, a.clusters) for _ in range(a.runs)]
            theirs = [python_client(a.clusters) for _ in range(a.runs)]
        finally:
            gw = gateway()
            for r in gw.list_clusters():
                gw.stop_cluster(r.name)
    m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
    print(
        f"daskctl list -b gateway:             median {m_ours * 1000:8.1f} ms  (runs: "
        + ", ".join(f"{x * 1000:.0f}" for x in ours)
        + ")"
    )
    print(
        f"list_clusters + get_client per cluster: median {m_theirs * 1000:8.1f} ms  (runs: "
        + ", ".join(f"{x * 1000:.0f}" for x in theirs)
        + ")"
    )
    print(f"ratio (Python client / daskctl): {m_theirs / m_ours:.1f}x")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # the kept clients would close themselves at exit through the (stopped) clusters' loops,
    # waiting out their timeouts: nothing is left to release
    os._exit(0)
