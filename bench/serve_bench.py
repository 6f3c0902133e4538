"""Times GET /metrics of `daskctl serve` with 200 (stopped) local clusters in its snapshot, and
a full `daskctl list -o json` over the same clusters in the same run; then samples serve's RSS
(/proc/PID/status VmRSS) while it rediscovers every INTERVAL for DURATION seconds."""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN = "bench-token-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daskctl", required=True)
    ap.add_argument("--clusters", type=int, default=200)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--interval", type=float, default=1)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="daskctl-serve-bench-")
    state = os.path.join(tmp, "state")
    for i in range(a.clusters):
        d = os.path.join(state, "local", f"bench-{i:03}")
        os.makedirs(os.path.join(d, "logs"))
        with open(os.path.join(d, "state.json"), "w") as f:
            json.dump(
                {
                    "name": f"bench-{i:03}", "created": 1.0e9, "python": "python3",
                    "host": "127.0.0.1", "threads": 1, "memory": None,
                    "address": "tcp://127.0.0.1:9", "dashboard": None, "next_worker": 1,
                    "scheduler": {"pid": 999999, "start": 1, "name": "scheduler", "log": "s.log"},
                    "workers": [],
                },
                f,
            )  # fmt: skip
    env = dict(
        os.environ,
        DASKCTL_STATE_DIR=state,
        DASKCTL_CACHE_DIR=os.path.join(tmp, "cache"),
        DASKCTL_CONFIG=os.path.join(tmp, "config.toml"),
        DASKCTL_SERVE_TOKEN=TOKEN,
    )
    port = free_port()
    proc = subprocess.Popen(
        [a.daskctl, "serve", "--bind", f"127.0.0.1:{port}", "--interval", f"{a.interval}s"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})

    def scrape(path="/metrics"):
        r = urllib.request.Request(url.replace("/metrics", path), headers=req.headers)
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.read().decode()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if f'daskctl_clusters{{status="stopped"}} {a.clusters}' in scrape():
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("bench: the snapshot never held the clusters")
            time.sleep(0.2)
        times = []
        for _ in range(a.requests):
            t0 = time.perf_counter()
            body = scrape()
            times.append((time.perf_counter() - t0) * 1000)
        lists = []
        for _ in range(20):
            t0 = time.perf_counter()
            subprocess.run([a.daskctl, "list", "-o", "json"], env=env, check=True,
                           capture_output=True)  # fmt: skip
            lists.append((time.perf_counter() - t0) * 1000)
        m, lm = statistics.median(times), statistics.median(lists)
        p99 = sorted(times)[int(len(times) * 0.99) - 1]
        print(f"/metrics with {a.clusters} clusters ({len(body)} bytes): median {m:.2f} ms, "
              f"p99 {p99:.2f} ms over {a.requests} requests")  # fmt: skip
        print(f"daskctl list -o json over the same clusters: median {lm:.1f} ms "
              f"({lm / m:.0f}x a scrape)")  # fmt: skip
        start = rss_kib(proc.pid)
        samples = [start]
        end = time.monotonic() + a.duration
        while time.monotonic() < end:
            time.sleep(min(10, a.duration))
            # what a Prometheus scrape, a person's page and a usage query ask
            for path in ("/metrics", "/", "/api/usage", "/api/clusters"):
                scrape(path)
            samples.append(rss_kib(proc.pid))
        passes = int(a.duration / a.interval)
        print(f"serve RSS: {start / 1024:.1f} MiB at start, {samples[-1] / 1024:.1f} MiB after "
              f"{a.duration:.0f} s (~{passes} discoveries every {a.interval:g} s); "
              f"max {max(samples) / 1024:.1f} MiB")  # fmt: skip
        # the trend: growth that stops (allocator arenas filling) or keeps going (a leak)
        step = max(1, len(samples) // 10)
        trend = ", ".join(f"{v / 1024:.1f}" for v in samples[::step])
        print(f"serve RSS every {step * 10} s (MiB): {trend}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
