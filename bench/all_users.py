"""`daskctl list -b local --all-users` against plain `list -b local`, as root, with one running
local cluster of root's and one of another user's (issue 31: at most 1.3x). Both commands run
alternately, so load drifts hit both alike; medians of wall time.

Run as root on a machine with the test bed's second user (scripts/testbeds/users.sh):
    python3 bench/all_users.py --daskctl target/release/daskctl \\
        --python .venv/bin/python --other daskctl-other \\
        --other-python /opt/daskctl-other/venv/bin/python
"""

import argparse
import json
import os
import pwd
import shutil
import statistics
import subprocess
import tempfile
import time


def as_user(user, argv):
    return ["su", "-s", "/bin/sh", user, "-c", " ".join(f"'{a}'" for a in argv)]


def owner_child(exe, user, runs):
    """Wall times of the child root's listing starts to read `user`'s state as them
    (`daskctl __as-owner`, their uid, gid and groups), alone."""
    pw = pwd.getpwnam(user)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": pw.pw_dir,
        "DASKCTL_STATE_DIR": os.path.join(pw.pw_dir, ".local/state/daskctl"),
    }
    request = json.dumps({"backend": "local", "name": None, "action": {"verb": "states"}})
    groups = os.getgrouplist(user, pw.pw_gid)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(
            [exe, "__as-owner"],
            input=request.encode(),
            capture_output=True,
            env=env,
            cwd="/",
            user=pw.pw_uid,
            group=pw.pw_gid,
            extra_groups=groups,
            check=True,
        )
        times.append((time.perf_counter() - t) * 1000)
        if b'"states"' not in out.stdout:
            raise SystemExit(f"the child did not answer: {out.stdout!r} {out.stderr!r}")
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daskctl", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--other", default="daskctl-other")
    ap.add_argument("--other-python", required=True)
    ap.add_argument("--runs", type=int, default=40)
    a = ap.parse_args()
    a.python, a.other_python = os.path.abspath(a.python), os.path.abspath(a.other_python)
    if os.geteuid() != 0:
        raise SystemExit("run as root: --all-users reads other users' clusters as them")
    # a copy the other user may execute
    tmp = tempfile.mkdtemp(prefix="daskctl-bench-")
    os.chmod(tmp, 0o755)
    exe = os.path.join(tmp, "daskctl")
    shutil.copy(a.daskctl, exe)
    os.chmod(exe, 0o755)
    mine = [exe, "create", "local", "--name", "bench-mine", "--workers", "1"]
    theirs = [exe, "create", "local", "--name", "bench-theirs", "--workers", "1"]
    subprocess.run([*mine, "--python", a.python], check=True, capture_output=True, cwd=tmp)
    subprocess.run(
        as_user(a.other, [*theirs, "--python", a.other_python]),
        check=True,
        capture_output=True,
        cwd=tmp,
    )
    try:
        plain = [exe, "list", "-b", "local", "-o", "json"]
        every = [*plain, "--all-users"]
        times = {"plain": [], "all": []}
        for _ in range(3):
            subprocess.run(plain, capture_output=True, check=True)
            subprocess.run(every, capture_output=True, check=True)
        for _ in range(a.runs):
            for key, argv in (("plain", plain), ("all", every)):
                t = time.perf_counter()
                subprocess.run(argv, capture_output=True, check=True)
                times[key].append((time.perf_counter() - t) * 1000)
        p, e = statistics.median(times["plain"]), statistics.median(times["all"])
        child = statistics.median(owner_child(exe, a.other, a.runs))
        print(f"list -b local: {p:.1f} ms; with --all-users: {e:.1f} ms; ratio {e / p:.2f}")
        print(
            f"of which on the critical path: their owner's child alone (fork, exec, their "
            f"state read and sent back): {child:.1f} ms"
        )
        print(f"(medians of {a.runs} runs each, one cluster of root's and one of {a.other}'s)")
    finally:
        subprocess.run([exe, "delete", "bench-mine", "--yes"], capture_output=True)
        subprocess.run(
            as_user(a.other, [exe, "delete", "bench-theirs", "--yes"]), capture_output=True
        )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
