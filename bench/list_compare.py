"""Times `daskctl list` and dask-ctl's `dask cluster list` in the same run, on one scheduler.

Peak RSS comes from wait4() of each child. Prints medians, the ratio and the targets
(daskctl >= 20x faster; daskctl list with nothing running < 20 ms; peak RSS < 20 MB).
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def run(argv, env):
    t0 = time.perf_counter()
    p = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    out = p.stdout.read()
    p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, ru.ru_maxrss / 1024.0, out.decode(), p.returncode


def series(argv, env, runs, check):
    run(argv, env)  # warm the page cache
    times, rss = [], []
    for _ in range(runs):
        t, m, out, rc = run(argv, env)
        if rc != 0 or not check(out):
            sys.exit(f"bench: {' '.join(argv)} failed (exit {rc}):\n{out}")
        times.append(t)
        rss.append(m)
    return statistics.median(times), min(times), max(rss)


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--daskctl", required=True)
    ap.add_argument("--venv", required=True)
    a = ap.parse_args()
    if not port_free(8786):
        sys.exit("bench: 127.0.0.1:8786 is in use; dask-ctl only looks there, so it must be ours")
    tmp = tempfile.mkdtemp(prefix="daskctl-bench-")
    env = dict(
        os.environ,
        NO_COLOR="1",
        DASKCTL_STATE_DIR=f"{tmp}/state",
        DASKCTL_CACHE_DIR=f"{tmp}/cache",
        DASKCTL_CONFIG=f"{tmp}/config.toml",
        DASKCTL_PROBE_LOOPBACK_ONLY="1",
    )
    # dask-ctl only looks at this machine: compare with the local backend; the time of a list of
    # every backend (on a machine that also runs Slurm, say) is printed on its own line
    daskctl = [os.path.abspath(a.daskctl), "list", "-b", "local"]
    every = [os.path.abspath(a.daskctl), "list"]

    # nothing running (of this benchmark): daskctl alone
    idle_med, idle_min, idle_rss = series(daskctl, env, a.runs * 2, lambda out: True)

    sched_file = f"{tmp}/scheduler.json"
    sched = subprocess.Popen(
        [
            f"{a.venv}/bin/dask",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "8786",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            sched_file,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while not os.path.exists(sched_file):
            if time.time() > deadline or sched.poll() is not None:
                sys.exit("bench: scheduler did not start")
            time.sleep(0.05)
        ours_med, ours_min, ours_rss = series(daskctl, env, a.runs, lambda out: "port-8786" in out)
        theirs = [f"{a.venv}/bin/dask", "cluster", "list"]
        theirs_med, theirs_min, theirs_rss = series(theirs, env, a.runs, lambda out: "8786" in out)
        all_med, all_min, all_rss = series(every, env, a.runs, lambda out: "port-8786" in out)
    finally:
        sched.terminate()
        sched.wait(30)

    ratio = theirs_med / ours_med
    rows = [
        ("daskctl list (scheduler on :8786)", ours_med, ours_min, ours_rss),
        ("dask cluster list (dask-ctl 2024.1.0)", theirs_med, theirs_min, theirs_rss),
        ("daskctl list (nothing running)", idle_med, idle_min, idle_rss),
        ("daskctl list, every backend enabled here", all_med, all_min, all_rss),
    ]
    print(f"{'command':42} {'median ms':>10} {'min ms':>8} {'peak RSS MB':>12}")
    for name, med, mn, rss in rows:
        print(f"{name:42} {med * 1000:10.1f} {mn * 1000:8.1f} {rss:12.1f}")
    print(f"\nspeed-up (median dask-ctl / median daskctl): {ratio:.1f}x  over {a.runs} runs each")
    targets = [
        ("daskctl >= 20x faster than dask-ctl", ratio >= 20),
        ("daskctl list, nothing running, < 20 ms", idle_med < 0.020),
        ("daskctl peak RSS < 20 MB", max(ours_rss, idle_rss) < 20),
    ]
    for name, ok in targets:
        print(f"  {'met ' if ok else 'MISSED'} {name}")
    print(
        json.dumps(
            {
                "ratio": round(ratio, 1),
                "daskctl_ms": round(ours_med * 1000, 2),
                "daskctl_idle_ms": round(idle_med * 1000, 2),
                "dask_ctl_ms": round(theirs_med * 1000, 1),
                "daskctl_peak_rss_mb": round(max(ours_rss, idle_rss), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
