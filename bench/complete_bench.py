"""Times name completion (`COMPLETE=bash daskctl -- daskctl describe ''`) with a fresh and a
stale names cache, and `daskctl list --no-probe` for scale, on 20 stopped local clusters in a
private state directory. Prints medians and the worst run of each."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(argv, env):
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed ({p.returncode}): {p.stderr.decode()}")
    return elapsed, p.stdout.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--daskctl", required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="daskctl-complete-bench-")
    state, cache = os.path.join(tmp, "state"), os.path.join(tmp, "cache")
    for i in range(20):
        d = os.path.join(state, "local", f"bench-{i:02}")
        os.makedirs(os.path.join(d, "logs"))
        with open(os.path.join(d, "state.json"), "w") as f:
            json.dump(
                {
                    "name": f"bench-{i:02}",
                    "created": 1.0e9,
                    "python": "python3",
                    "host": "127.0.0.1",
                    "threads": 1,
                    "memory": None,
                    "address": "tcp://127.0.0.1:9",
                    "dashboard": None,
                    "next_worker": 1,
                    "scheduler": {"pid": 999999, "start": 1, "name": "scheduler", "log": "s.log"},
                    "workers": [],
                },
                f,
            )
    env = dict(
        os.environ,
        DASKCTL_STATE_DIR=state,
        DASKCTL_CACHE_DIR=cache,
        DASKCTL_CONFIG=os.path.join(tmp, "config.toml"),
    )
    ask = dict(env, COMPLETE="bash", _CLAP_COMPLETE_INDEX="2", _CLAP_IFS="\n")
    argv = [a.daskctl, "--", "daskctl", "describe", "bench-0"]
    names_file = os.path.join(cache, "names.tsv")

    def series(before):
        times = []
        for _ in range(a.runs):
            before()
            t, out = timed(argv, ask)
            if len(out.split()) != 10:
                sys.exit(f"bench: expected 10 names, got {out!r}")
            times.append(t * 1000)
        return statistics.median(times), max(times)

    timed([a.daskctl, "list", "--no-probe"], env)  # fills the cache

    def stale():
        old = time.time() - 600
        os.utime(names_file, (old, old))

    fresh = series(lambda: None)
    aged = series(stale)
    lst = []
    for _ in range(a.runs):
        lst.append(timed([a.daskctl, "list", "--no-probe"], env)[0] * 1000)
    print(f"runs: {a.runs}, 20 stopped local clusters, every enabled backend of this machine")
    print(f"complete (fresh cache):  median {fresh[0]:.1f} ms, worst {fresh[1]:.1f} ms")
    print(f"complete (stale cache):  median {aged[0]:.1f} ms, worst {aged[1]:.1f} ms")
    print(f"daskctl list --no-probe: median {statistics.median(lst):.1f} ms")


if __name__ == "__main__":
    main()
