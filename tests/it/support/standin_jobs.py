"""What the batch-system stand-ins (HTCondor, LSF, Moab) share: their job table, one JSON file
under a lock; whether a job's process lives; and ending a job's process group signal by signal,
from a helper detached from the command that asked (the systems' daemons do it, not the
cancel command). Copied beside each stand-in where its commands are installed."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time


class Locked:
    """`with Locked(state, empty) as db:` the job table in `state`/jobs.json (`empty` when there
    is none yet), held under `state`/lock and written back atomically on the way out."""

    def __init__(self, state, empty):
        self.state, self.empty = state, empty

    def __enter__(self):
        os.makedirs(self.state, exist_ok=True)
        self.f = open(os.path.join(self.state, "lock"), "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        path = os.path.join(self.state, "jobs.json")
        self.db = json.load(open(path)) if os.path.exists(path) else json.loads(self.empty)
        return self.db

    def __exit__(self, *exc):
        tmp = os.path.join(self.state, "jobs.json.tmp")
        json.dump(self.db, open(tmp, "w"))
        os.replace(tmp, os.path.join(self.state, "jobs.json"))
        self.f.close()


def alive(pid):
    """Whether process `pid` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def terminate_detached(script, env, pid):
    """Runs `script --terminate PID` on its own (the stand-in's `end_group`), so the cancel
    command returns at once as the real one does."""
    subprocess.Popen(
        [sys.executable, os.path.abspath(script), "--terminate", str(pid)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def end_group(pid, signals, grace=3):
    """Sends each of `signals` to process group `pid` in turn, waiting up to `grace` seconds
    after each (none after SIGCONT) for it to end."""
    for sig in signals:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.time() + (0 if sig == signal.SIGCONT else grace)
        while time.time() < deadline and alive(pid):
            time.sleep(0.05)
        if not alive(pid):
            return
