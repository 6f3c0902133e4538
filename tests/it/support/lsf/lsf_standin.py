#!/usr/bin/env python3
"""A stand-in for IBM Spectrum LSF's bsub, bjobs and bkill, for tests on machines where no LSF
daemons can be installed. Each job really runs, as a local process, so a real dask worker joins
a real scheduler.

Formats and behaviour follow IBM's LSF 10.1 command reference
(https://www.ibm.com/docs/en/spectrum-lsf/10.1.0):
- bsub (bsub.1): `bsub [options] < script` reads `#BSUB` lines from the script on standard
  input (up to its first line that is neither a comment nor blank); `bsub [options] command
  [args]` runs the command as given and reads no `#BSUB` lines. Command-line options override
  the script's. Options: -J name (`name[1-N]`: a job array, bsub -J "job arrays"), -Jd
  description, -o/-oo and -e/-eo files (`%J` the job id, `%I` the array index; stderr goes to
  the -o file when there is no -e), -q, -P, -n, -M, -W, -R, -gpu, -H (hold: PSUSP), -cwd.
  Output: "Job <ID> is submitted to default queue <normal>." (or "to queue <Q>." with -q).
  An unknown option: "bsub: illegal option -- X" and the usage, exit status 255.
- The job's environment is the submitter's (LSF copies it by default) plus LSB_JOBID,
  LSB_JOBINDEX (0 outside arrays), LSB_JOBNAME and LS_SUBCWD; it runs in the submission
  directory.
- bjobs (bjobs.1, bjobs.o.1, bjobs.json.1): the caller's unfinished jobs (PEND, PSUSP, RUN,
  USUSP, SSUSP); `-u all` every user's; `-a` also jobs finished recently (DONE, EXIT). `-o
  "field ... [delimiter='c']"` picks the fields (jobid, jobindex, stat, user, job_name,
  job_description, submit_time, start_time, output_file, sub_cwd, nreq_slot, queue);
  `-json` prints {"COMMAND": "bjobs", "JOBS": n, "RECORDS": [{FIELD: "value"}]}, field names
  in capitals, every value a string, unset ones ""; `-noheader` leaves out the header line.
  An array element is its own record, JOB_NAME `name[INDEX]`. No job: "No unfinished job
  found" on stderr (text form). Times as `Dec  6 13:50` (month, day, hh:mm; local time).
  `-script ID` prints the job's script.
- bkill ID... (bkill.1): ID or ID[INDEX]; "Job <ID> is being terminated" (SIGINT, then SIGTERM,
  then SIGKILL to the job's process group, as JOB_TERMINATE_INTERVAL spaces them); a pending
  job leaves at once (EXIT); "Job <ID>: Job has already finished", "Job <ID>: No matching job
  found"; exit status 255 when any job failed.
- Jobs are pending first and dispatched a moment later (the scheduling cycle); a job whose
  process ended is DONE (status 0) or EXIT.
- LSF_STANDIN_VERSION=9.1: bjobs without `-json` (added in LSF 10.1 Fix Pack 2).
State lives in $LSF_STANDIN_DIR (jobs.json, guarded by a lock file).
"""

import getpass
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

# beside this script where its commands are installed (tests/it/support/standin_jobs.py)
import standin_jobs
from standin_jobs import alive

STATE = os.environ.get("LSF_STANDIN_DIR") or sys.exit("LSF_STANDIN_DIR is not set")
DISPATCH_DELAY = 0.3
FIELDS = {
    "jobid", "jobindex", "stat", "user", "job_name", "job_description", "submit_time",
    "start_time", "output_file", "sub_cwd", "nreq_slot", "queue",
}


def Locked():
    return standin_jobs.Locked(STATE, '{"next": 101, "jobs": []}')


def lsf_time(t):
    return time.strftime("%b %e %H:%M", time.localtime(t)) if t else ""


def expand(path, job):
    return path.replace("%J", str(job["id"])).replace("%I", str(job["index"]))


def start(job, now):
    """Dispatched: the job's process starts, its exit status written beside the state."""
    out = expand(job["out"], job) if job["out"] else os.devnull
    err = expand(job["err"], job) if job["err"] else out
    if not out.startswith("/"):
        out = os.path.join(job["cwd"], out)
    if not err.startswith("/"):
        err = os.path.join(job["cwd"], err)
    env = dict(job["env"])
    env.update(
        LSB_JOBID=str(job["id"]),
        LSB_JOBINDEX=str(job["index"]),
        LSB_JOBNAME=job["name"],
        LS_SUBCWD=job["cwd"],
    )
    status = os.path.join(STATE, "status", f"{job['id']}.{job['index']}")
    os.makedirs(os.path.dirname(status), exist_ok=True)
    fo = open(out, "ab")
    fe = fo if err == out else open(err, "ab")
    argv = ["/bin/sh", "-c", '"$@"; echo $? > "$STATUS_FILE"', "job", *job["command"]]
    env["STATUS_FILE"] = status
    p = subprocess.Popen(argv, cwd=job["cwd"], env=env, stdin=subprocess.DEVNULL, stdout=fo,
                         stderr=fe, start_new_session=True)
    job["stat"], job["pid"], job["start_time"] = "RUN", p.pid, now
    job["status_file"] = status


def refresh(db):
    """The scheduling cycle: dispatch pending jobs that are due, end jobs whose process exited."""
    now = time.time()
    for job in db["jobs"]:
        if job["stat"] == "PEND" and now >= job["dispatch_at"]:
            start(job, now)
        elif job["stat"] in ("RUN", "USUSP", "SSUSP") and not alive(job["pid"]):
            try:
                code = int(open(job["status_file"]).read().strip() or "1")
            except (OSError, ValueError):
                code = 1  # killed before it could say
            job["stat"] = "DONE" if code == 0 and not job.get("killed") else "EXIT"
            job["finish_time"] = now


def dispatch_later(at):
    time.sleep(max(0.0, at - time.time()) + 0.05)
    with Locked() as db:
        refresh(db)


USAGE = "Usage: bsub [-H] [-J job_name] [-Jd job_description] [-o out_file] [-e err_file] ... command [arguments]"
WITH_VALUE = {"-J", "-Jd", "-o", "-oo", "-e", "-eo", "-q", "-P", "-n", "-M", "-W", "-R", "-gpu", "-cwd"}


def options(words, into):
    """bsub's options from `words`; the rest (the command) is returned."""
    i = 0
    while i < len(words):
        w = words[i]
        if w == "-H":
            into["-H"] = True
        elif w in WITH_VALUE:
            if i + 1 >= len(words):
                sys.stderr.write(f"bsub: option requires an argument -- {w[1:]}\n{USAGE}\n")
                sys.exit(255)
            value = words[i + 1]
            if w == "-R":
                into.setdefault("-R", []).append(value)
            else:
                into[w] = value
            i += 1
        elif w.startswith("-"):
            sys.stderr.write(f"bsub: illegal option -- {w[1:]}\n{USAGE}\n")
            sys.exit(255)
        else:
            return words[i:]
        i += 1
    return []


def script_directives(text):
    words = []
    for line in text.splitlines()[1:] if text.startswith("#!") else text.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith("#"):
            break
        if s.startswith("#BSUB"):
            words.extend(shlex.split(s[len("#BSUB"):]))
    return words


def bsub(argv):
    given = {}
    command = options(argv, given)
    opts = {}
    if not command:
        # the script on standard input: its #BSUB lines first, the command line over them
        text = sys.stdin.read()
        options(script_directives(text), opts)
        os.makedirs(os.path.join(STATE, "scripts"), exist_ok=True)
    opts.update(given)
    name = opts.get("-J") or (command[0] if command else "NONAME")
    m = re.fullmatch(r"(.*)\[(\d+)-(\d+)\]", name)
    indexes = [0]
    if m:
        name, lo, hi = m.group(1), int(m.group(2)), int(m.group(3))
        if lo < 1 or hi < lo:
            sys.stderr.write(f"{opts['-J']}: Bad job array index list. Job not submitted.\n")
            sys.exit(255)
        indexes = list(range(lo, hi + 1))
    if "-q" in opts and opts["-q"] != "normal":
        sys.stderr.write(f"{opts['-q']}: No such queue. Job not submitted.\n")
        sys.exit(255)
    now = time.time()
    cwd = opts.get("-cwd") or os.getcwd()
    with Locked() as db:
        jid = db["next"]
        db["next"] += 1
        if not command:
            path = os.path.join(STATE, "scripts", f"{jid}.sh")
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
            command = [path]
            script = text
        else:
            script = shlex.join(command)
        for idx in indexes:
            db["jobs"].append({
                "id": jid, "index": idx, "name": name, "description": opts.get("-Jd", ""),
                "user": getpass.getuser(), "queue": opts.get("-q", "normal"),
                "stat": "PSUSP" if opts.get("-H") else "PEND", "submit_time": now,
                "start_time": None, "out": opts.get("-oo") or opts.get("-o") or "",
                "err": opts.get("-eo") or opts.get("-e") or "", "cwd": cwd,
                "slots": opts.get("-n", "1"), "command": command, "script": script,
                "env": dict(os.environ), "dispatch_at": now + DISPATCH_DELAY,
            })
    where = f"queue <{opts['-q']}>" if "-q" in opts else "default queue <normal>"
    print(f"Job <{jid}> is submitted to {where}.")
    # the scheduling cycle dispatches it even when nobody asks the queue
    subprocess.Popen([sys.executable, os.path.abspath(__file__), "--dispatch", str(now + DISPATCH_DELAY)],
                     env={**os.environ, "LSF_STANDIN_DIR": STATE}, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def value(job, field):
    indexed = job["index"] != 0
    return {
        "jobid": str(job["id"]),
        "jobindex": str(job["index"]),
        "stat": job["stat"],
        "user": job["user"],
        "job_name": f"{job['name']}[{job['index']}]" if indexed else job["name"],
        "job_description": job["description"],
        "submit_time": lsf_time(job["submit_time"]),
        "start_time": lsf_time(job["start_time"]),
        "output_file": job["out"],
        "sub_cwd": job["cwd"],
        "nreq_slot": str(job["slots"]),
        "queue": job["queue"],
    }[field]


def option(argv, name):
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else None


def bjobs(argv):
    # LSF before 10.1 Fix Pack 2 has `-o` but no `-json` (release notes 10.1.0.2, "View
    # customized information output in JSON format"); LSF_STANDIN_VERSION=9.1 plays one
    if "-json" in argv and os.environ.get("LSF_STANDIN_VERSION") == "9.1":
        sys.stderr.write("bjobs: illegal option -- json\n")
        sys.exit(255)
    with Locked() as db:
        refresh(db)
        jobs = [dict(j) for j in db["jobs"]]
    script_of = option(argv, "-script")
    if script_of is not None:
        found = [j for j in jobs if str(j["id"]) == script_of.split("[")[0]]
        if not found:
            sys.stderr.write(f"Job <{script_of}> is not found\n")
            sys.exit(255)
        sys.stdout.write(found[0]["script"])
        return
    user = option(argv, "-u") or getpass.getuser()
    if user != "all":
        jobs = [j for j in jobs if j["user"] == user]
    if "-a" not in argv:
        jobs = [j for j in jobs if j["stat"] not in ("DONE", "EXIT")]
    fmt = option(argv, "-o")
    if fmt is None:
        sys.exit("this stand-in answers only bjobs -o")
    m = re.search(r"delimiter='(.)'", fmt)
    delimiter = m.group(1) if m else " "
    fields = re.sub(r"delimiter='.'", "", fmt).split()
    unknown = [f for f in fields if f.split(":")[0] not in FIELDS]
    if unknown:
        sys.stderr.write(f"Invalid field name: {unknown[0]}\n")
        sys.exit(255)
    if "-json" in argv:
        if "-noheader" in argv:
            sys.stderr.write("-json and -noheader cannot be used together.\n")
            sys.exit(255)
        records = [{f.upper(): value(j, f) for f in fields} for j in jobs]
        print(json.dumps({"COMMAND": "bjobs", "JOBS": len(records), "RECORDS": records}, indent=2))
        return
    if not jobs:
        sys.stderr.write("No unfinished job found\n")
        return
    if "-noheader" not in argv:
        print(delimiter.join(f.upper() for f in fields))
    for j in jobs:
        print(delimiter.join(value(j, f) for f in fields))


def bkill(argv):
    ids = [a for a in argv if not a.startswith("-")]
    failed = False
    with Locked() as db:
        refresh(db)
        for spec in ids:
            m = re.fullmatch(r"(\d+)(?:\[(\d+)\])?", spec)
            targets = [j for j in db["jobs"] if m and str(j["id"]) == m.group(1)
                       and (m.group(2) is None or j["index"] == int(m.group(2)))]
            if not targets:
                print(f"Job <{spec}>: No matching job found", file=sys.stderr)
                failed = True
                continue
            live = [j for j in targets if j["stat"] not in ("DONE", "EXIT")]
            if not live:
                print(f"Job <{spec}>: Job has already finished", file=sys.stderr)
                failed = True
                continue
            for j in live:
                j["killed"] = True
                if j["stat"] in ("PEND", "PSUSP"):
                    j["stat"], j["finish_time"] = "EXIT", time.time()
                else:
                    terminate(j["pid"])
            print(f"Job <{spec}> is being terminated")
    sys.exit(255 if failed else 0)


def terminate(pid):
    """SIGINT, SIGTERM, then SIGKILL to the job's process group, by a detached helper."""
    standin_jobs.terminate_detached(__file__, {**os.environ, "LSF_STANDIN_DIR": STATE}, pid)


def terminate_group(pid):
    standin_jobs.end_group(pid, (signal.SIGCONT, signal.SIGINT, signal.SIGTERM, signal.SIGKILL))


def main():
    if sys.argv[1:2] == ["--dispatch"]:
        return dispatch_later(float(sys.argv[2]))
    if sys.argv[1:2] == ["--terminate"]:
        return terminate_group(int(sys.argv[2]))
    tool = os.path.basename(sys.argv[0])
    {"bsub": bsub, "bjobs": bjobs, "bkill": bkill}[tool](sys.argv[1:])


if __name__ == "__main__":
    main()
