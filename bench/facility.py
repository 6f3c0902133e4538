"""Facility-scale listing (see bench/facility.sh): `daskctl list --all-users` over synthetic
queues of 1k/10k/100k jobs, beside the floors in the same run.

Each queue is made from real records (bench/records/: `squeue -O` and `squeue --json` of Slurm
22.05.8 on the test bed: a daskctl cluster, a dask-gateway cluster, a dask-jobqueue worker, a
job array and a plain job), repeated with new ids and ~1,666 users: 30% array tasks, 1% Dask
jobs (daskctl's, dask-gateway's, dask-jobqueue's), the rest not Dask. A stand-in `squeue` prints
the queue (`cat`), so "the queue tool's own time" is cat's; a stand-in `scontrol` prints a
dask-jobqueue batch script naming a closed loopback port.

Printed per size: the stand-in's time (cat), the awk floor (every line split once), daskctl's
time beyond cat and its ratio to the awk floor, and peak memory; the same for the JSON format
(`backends.slurm.squeue_format = "json"`) beside a Python json.load floor. Medians of --runs
after one warm-up run (which fills daskctl's script cache, as a first list after new
dask-jobqueue jobs would)."""

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from facility_queues import USERS, kind_of

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDS = os.path.join(HERE, "records")


def records():
    with open(os.path.join(RECORDS, "slurm-22.05.8-O.txt")) as f:
        text = [line.rstrip("\n").split("|") for line in f if line.strip()]
    with open(os.path.join(RECORDS, "slurm-22.05.8.json")) as f:
        doc = json.load(f)
    by_name = {}
    for fields in text:
        by_name.setdefault(fields[2], fields)
    jobs = {j["name"]: j for j in doc["jobs"]}
    return by_name, jobs, doc


def synth(n):
    """The queue of n jobs as `squeue -O` text and as `squeue --json`."""
    text_rec, json_rec, doc = records()
    templates = {
        "daskctl-scheduler": "rec-scheduler",
        "daskctl-worker": "rec-worker",
        "gateway-scheduler": "dask-gateway",
        "gateway-worker": "dask-gateway",
        "jobqueue": "dask-worker",
        "array": "vasp_relax",
        "plain": "gmx",
    }
    with open(os.path.join(RECORDS, "slurm-22.05.8-O.txt")) as f:
        gw = [line for line in f if "|dask-gateway|" in line]
    gw_sched = next(line for line in gw if "dask-scheduler-" in line).rstrip("\n").split("|")
    gw_work = next(line for line in gw if "dask-worker-" in line).rstrip("\n").split("|")
    lines, jobs = [], []
    base = 100000
    for i in range(n):
        kind = kind_of(i)
        user = f"u{(i * 7919) % USERS:04d}"
        jid = base + i
        name_rec = templates[kind]
        f = list(
            gw_sched
            if kind == "gateway-scheduler"
            else gw_work
            if kind == "gateway-worker"
            else text_rec[name_rec]
        )
        j = copy.deepcopy(json_rec[name_rec])
        f[4] = user
        j["user_name"] = user
        home = f"/home/{user}"
        if kind == "array":
            f[0], f[1] = f"{jid}_{i % 8}", str(jid)
            j["array_job_id"], j["array_task_id"] = jid, i % 8
        else:
            f[0] = f[1] = str(jid)
        j["job_id"] = jid
        if kind.startswith("daskctl"):
            cluster = f"c{i}"
            role = kind.split("-")[1]
            f[2] = f"{cluster}-{role}"
            d = f"{home}/.daskctl/slurm/{cluster}"
            f[6] = d
            f[10] = f"{d}/logs/{role}-%j.out"
            f[11] = f"daskctl:v1;cluster={cluster};role={role};id=aff514af402b;dir={d}"
            j["name"], j["comment"], j["current_working_directory"] = f[2], f[11], d
            j["standard_output"] = f[10]
        elif kind.startswith("gateway"):
            d = f"{home}/.dask-gateway/{i:032x}"
            log = "dask-scheduler-x.log" if kind == "gateway-scheduler" else "dask-worker-w1.log"
            f[6], f[10] = d, f"{d}/{log}"
            j["current_working_directory"], j["standard_output"] = f[6], f[10]
        else:
            f[6] = home
            f[10] = f"{home}/slurm-%j.out"
            j["current_working_directory"], j["standard_output"] = home, f[10]
        lines.append("\x1f".join(f))
        jobs.append(j)
    out = dict(doc)
    out["jobs"] = jobs
    return "\n".join(lines) + "\n", json.dumps(out)


def run(argv, env=None):
    """(seconds, peak RSS in MiB) of one command. The peak is GNU time's (%M): a child forked
    from this Python would report Python's own size from before its exec."""
    with tempfile.NamedTemporaryFile("r") as peak:
        t0 = time.perf_counter()
        p = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", peak.name, *argv],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        elapsed = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(
                f"{argv[0]} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-500:]}"
            )
        return elapsed, int(peak.read().split()[-1]) / 1024


def median(f, runs):
    samples = [f() for _ in range(runs)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daskctl", required=True)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="also the JSON format")
    ap.add_argument(
        "--serve", action="store_true", help="also serve's /metrics over the largest queue"
    )
    ap.add_argument(
        "--systems",
        default="slurm,sge,pbs,htcondor,lsf",
        help="which queues (slurm, sge, pbs, htcondor, lsf; comma-separated)",
    )
    a = ap.parse_args()
    systems = a.systems.split(",")
    others = [x for x in systems if x != "slurm"]
    if others:
        batch_systems(a, others)
    if "slurm" not in systems:
        return
    with tempfile.TemporaryDirectory(prefix="daskctl-facility-") as tmp:
        text_file, json_file = os.path.join(tmp, "queue.txt"), os.path.join(tmp, "queue.json")
        bin_dir = os.path.join(tmp, "bin")
        os.mkdir(bin_dir)
        with open(os.path.join(bin_dir, "squeue"), "w") as f:
            f.write(
                f'#!/bin/sh\ncase "$*" in\n  *--json*) exec cat {json_file} ;;\nesac\n'
                f"exec cat {text_file}\n"
            )
        with open(os.path.join(bin_dir, "scontrol"), "w") as f:
            f.write(
                "#!/bin/sh\necho '#!/usr/bin/env bash'\necho '#SBATCH -J dask-worker'\n"
                "echo 'python -m distributed.cli.dask_worker tcp://127.0.0.1:9 --name jq-x'\n"
            )
        for tool in ("sbatch", "scancel"):
            with open(os.path.join(bin_dir, tool), "w") as f:
                f.write("#!/bin/sh\nexit 1\n")
        for tool in os.listdir(bin_dir):
            os.chmod(os.path.join(bin_dir, tool), 0o755)

        def env(fmt):
            e = dict(os.environ)
            e.update(
                DASKCTL_STATE_DIR=os.path.join(tmp, "state"),
                DASKCTL_CACHE_DIR=os.path.join(tmp, "cache"),
                DASKCTL_CONFIG=os.path.join(tmp, "none.toml"),
                DASKCTL_BACKENDS__SLURM__BIN_DIR=bin_dir,
                DASKCTL_BACKENDS__SLURM__SQUEUE_FORMAT=fmt,
                DASKCTL_PROBE_LOOPBACK_ONLY="1",
                NO_COLOR="1",
            )
            return e

        daskctl = [
            a.daskctl,
            "list",
            "--all-users",
            "-b",
            "slurm",
            "-o",
            "json",
            "--timeout",
            "120",
        ]
        print(
            f"daskctl list (and usage --textfile) --all-users -b slurm; medians of {a.runs} runs;"
            " times in ms, peaks in MiB"
        )
        print(
            f"{'jobs':>7} | {'cat':>6} | {'awk floor':>9} | {'daskctl':>8} | {'beyond cat':>10} | "
            f"{'/ awk':>6} | {'peak':>5} | {'found':>5} | {'usage':>6} | {'/ awk':>6} | {'peak':>5}"
        )
        rows = []
        for n in [int(x) for x in a.sizes.split(",")]:
            text, js = synth(n)
            with open(text_file, "w") as f:
                f.write(text)
            with open(json_file, "w") as f:
                f.write(js)
            cat_t, _ = median(lambda: run(["cat", text_file]), a.runs)
            awk_t, _ = median(lambda: run(["awk", "-F", "\x1f", "{n[$3]++}", text_file]), a.runs)
            e = env("auto")
            found = json.loads(
                subprocess.run(daskctl, env=e, capture_output=True, check=True).stdout
            )
            d_t, d_m = median(lambda e=e: run(daskctl, env=e), a.runs)
            beyond = d_t - cat_t
            u_t, u_m = usage_textfile(a, "slurm", tmp, e)
            print(
                f"{n:>7} | {cat_t * 1e3:>6.1f} | {awk_t * 1e3:>9.1f} | {d_t * 1e3:>8.1f} | "
                f"{beyond * 1e3:>10.1f} | {beyond / awk_t:>6.2f} | {d_m:>5.1f} | {len(found):>5} | "
                f"{u_t * 1e3:>6.1f} | {(u_t - cat_t) / awk_t:>6.2f} | {u_m:>5.1f}"
            )
            rows.append((n, text, js))
        if a.serve:
            n, text, _ = rows[-1]
            with open(text_file, "w") as f:
                f.write(text)
            serve(a.daskctl, env("auto"), n)
        if a.json:
            print("\nsqueue_format = json (squeue --json), beside json.load in Python")
            print(f"{'jobs':>7} | {'json.load':>9} | {'daskctl':>8} | {'/ floor':>7} | {'peak':>6}")
            for n, _, js in rows:
                with open(json_file, "w") as f:
                    f.write(js)
                floor_t, _ = median(
                    lambda: run(
                        [sys.executable, "-c", f"import json; json.load(open({json_file!r}))"]
                    ),
                    a.runs,
                )
                e = env("json")
                run(daskctl, env=e)
                d_t, d_m = median(lambda e=e: run(daskctl, env=e), a.runs)
                print(
                    f"{n:>7} | {floor_t * 1e3:>9.1f} | {d_t * 1e3:>8.1f} | "
                    f"{d_t / floor_t:>7.2f} | {d_m:>6.1f}"
                )


def usage_textfile(a, system, tmp, env):
    """`usage --all-users --textfile`, as node_exporter's cron runs it, over the same queue:
    (median seconds, peak MiB)."""
    argv = [a.daskctl, "usage", "--all-users", "-b", system, "--timeout", "120"]
    argv += ["--textfile", os.path.join(tmp, "usage.prom")]
    return median(lambda: run(argv, env=env), a.runs)


def batch_systems(a, systems):
    """`list --all-users -b SYSTEM` and `usage --all-users -b SYSTEM --textfile F` over Grid
    Engine, PBS, HTCondor and LSF queues of each size (facility_queues.py), beside cat and the
    awk floor over the same output."""
    import facility_queues

    print(
        f"daskctl list --all-users -b SYSTEM; medians of {a.runs} runs; times in ms, peaks in MiB"
    )
    print(
        f"{'system':>8} | {'jobs':>7} | {'bytes':>9} | {'cat':>6} | {'awk floor':>9} | "
        f"{'daskctl':>8} | {'beyond cat':>10} | {'/ awk':>6} | {'peak':>5} | {'found':>5} | "
        f"{'usage':>6} | {'/ awk':>6} | {'peak':>5}"
    )
    for system in systems:
        synth = getattr(facility_queues, f"synth_{system}")
        for n in [int(x) for x in a.sizes.split(",")]:
            with tempfile.TemporaryDirectory(prefix=f"daskctl-facility-{system}-") as tmp:
                files, tools = synth(n)
                for name, content in files.items():
                    with open(os.path.join(tmp, name), "w") as f:
                        f.write(content)
                bin_dir = os.path.join(tmp, "bin")
                os.mkdir(bin_dir)
                for tool, body in tools.items():
                    path = os.path.join(bin_dir, tool)
                    with open(path, "w") as f:
                        f.write(f"#!/bin/sh\nQ={tmp}\n{body}\n")
                    os.chmod(path, 0o755)
                main_file = os.path.join(tmp, next(iter(files)))
                e = dict(os.environ)
                e.update(
                    DASKCTL_STATE_DIR=os.path.join(tmp, "state"),
                    DASKCTL_CACHE_DIR=os.path.join(tmp, "cache"),
                    DASKCTL_CONFIG=os.path.join(tmp, "none.toml"),
                    DASKCTL_PROBE_LOOPBACK_ONLY="1",
                    NO_COLOR="1",
                    SGE_ROOT=tmp,
                    DASKCTL_BACKENDS__PBS__FLAVOR="torque",
                )
                e[f"DASKCTL_BACKENDS__{system.upper()}__BIN_DIR"] = bin_dir
                argv = [a.daskctl, "list", "--all-users", "-b", system, "-o", "json"]
                argv += ["--timeout", "120"]
                # the warm-up: finds the qstat form the server answers, as a first list does
                found = json.loads(
                    subprocess.run(argv, env=e, capture_output=True, check=True).stdout
                )
                cat_t, _ = median(lambda f=main_file: run(["cat", f]), a.runs)
                awk_t, _ = median(lambda f=main_file: run(["awk", "{n[$1]++}", f]), a.runs)
                d_t, d_m = median(lambda e=e, argv=argv: run(argv, env=e), a.runs)
                beyond = d_t - cat_t
                u_t, u_m = usage_textfile(a, system, tmp, e)
                print(
                    f"{system:>8} | {n:>7} | {os.path.getsize(main_file):>9} | "
                    f"{cat_t * 1e3:>6.1f} | {awk_t * 1e3:>9.1f} | {d_t * 1e3:>8.1f} | "
                    f"{beyond * 1e3:>10.1f} | {beyond / awk_t:>6.2f} | {d_m:>5.1f} | "
                    f"{len(found):>5} | {u_t * 1e3:>6.1f} | {(u_t - cat_t) / awk_t:>6.2f} | "
                    f"{u_m:>5.1f}"
                )
    print()


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def serve(daskctl, env, n):
    """`serve --all-users` re-listing the queue every second: /metrics latencies while it does
    (scrapes must never wait on a discovery), and its resident size between passes."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    e = dict(env)
    e["DASKCTL_SERVE_TOKEN"] = "facility-bench-token-0123456789"
    for b in ("SGE", "PBS", "HTCONDOR", "GATEWAY", "AWS", "KUBERNETES"):
        e[f"DASKCTL_BACKENDS__{b}__ENABLED"] = "false"
    argv = [daskctl, "serve", "--all-users", "--bind", f"127.0.0.1:{port}", "--interval", "1s"]
    p = subprocess.Popen(argv, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": "Bearer " + e["DASKCTL_SERVE_TOKEN"]},
        )
        deadline = time.time() + 60
        while True:
            try:
                body = urllib.request.urlopen(req, timeout=5).read().decode()
                if "daskctl_snapshot_age_seconds{} -1" not in body:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("serve did not answer with a snapshot within 60 s")
            time.sleep(0.05)
        lat, rss = [], []
        t_end = time.time() + 10
        while time.time() < t_end:
            t0 = time.perf_counter()
            urllib.request.urlopen(req, timeout=5).read()
            lat.append(time.perf_counter() - t0)
            rss.append(rss_mib(p.pid))
        lat.sort()
        p99 = lat[int(len(lat) * 0.99) - 1]
        print(
            f"\nserve --all-users over {n} jobs, re-listed every 1 s: {len(lat)} scrapes of"
            f" /metrics in 10 s, median {statistics.median(lat) * 1e3:.1f} ms,"
            f" p99 {p99 * 1e3:.1f} ms,"
            f" max {lat[-1] * 1e3:.1f} ms; RSS {min(rss):.1f}-{max(rss):.1f} MiB"
        )
    finally:
        p.terminate()
        p.wait()


if __name__ == "__main__":
    main()
