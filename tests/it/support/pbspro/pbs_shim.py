"""OpenPBS's qsub, qstat and qdel, as the tests need them, over the Slurm test bed: what Slurm's
Torque wrappers cannot show (JSON, subjobs, server ids, OpenPBS's exit codes), so that daskctl's
PBS Professional code path runs end to end. Installed by the tests as `qsub`, `qstat`, `qdel`
(symlinks to this file) in a directory that `backends.pbs.bin_dir` names.

Behaviour follows OpenPBS (openpbs/openpbs: src/cmds/qsub.c, qstat.c, qdel.c; PBS Professional
Reference Guide):
- qsub [-J a-b] [-N name] [-v VARS] [-q queue] [-o path] [-j oe] [-l ...] script, with the same
  options read from `#PBS` lines of the script; prints `ID.SERVER`, `ID[].SERVER` for an array.
  Inside the job PBS_JOBID is `ID.SERVER` or `ID[INDEX].SERVER`, PBS_ARRAY_INDEX the index.
- qstat -f -F json -t: `{"timestamp", "pbs_version", "pbs_server", "Jobs": {id: attributes}}`,
  subjobs listed as `ID[INDEX].SERVER` beside the array parent (job_state B while any runs),
  qtime (and stime, once the job runs) in ctime() local time, Variable_List an object,
  Resource_List an object whose numeric resources are numbers (qstat.c, the JSON output of
  resource lists: `"Resource_List": {"ncpus": 1, "nodect": 1, ...}`).
- qdel ID...: exits with the last error's code modulo 256 (qdel.c: `exit(any_failed)`, the
  PBSE_ code): 15001 unknown job -> 153, 15139 job finished (in history) -> 35,
  15016 PBSE_BADSTATE (a job exiting, state E) -> 168.
State (variables, ids ever submitted) lives in $PBS_SHIM_DIR.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

SERVER = "pbs"
STATE = os.environ.get("PBS_SHIM_DIR") or sys.exit("PBS_SHIM_DIR is not set")
os.makedirs(STATE, exist_ok=True)


def sh(argv):
    return subprocess.run(argv, capture_output=True, text=True)


def known():
    path = os.path.join(STATE, "jobs.json")
    return json.load(open(path)) if os.path.exists(path) else {}


def remember(jobid, info):
    db = known()
    db[jobid] = info
    tmp = os.path.join(STATE, "jobs.json.tmp")
    json.dump(db, open(tmp, "w"))
    os.replace(tmp, os.path.join(STATE, "jobs.json"))


def options(args):
    """qsub options as (flag, value) pairs, in order."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a in ("-J", "-N", "-v", "-q", "-o", "-e", "-j", "-l", "-A", "-W"):
            out.append((a, args[i + 1]))
            i += 2
        else:
            out.append(("", a))
            i += 1
    return out


def qsub(argv):
    opts = options(argv)
    script = next(v for f, v in opts if f == "")
    directives = []
    for line in open(script):
        if line.startswith("#PBS "):
            directives += options(line[5:].split())
    # command-line options win over the script's (qsub.c processes the script's first)
    merged = directives + [o for o in opts if o[0]]
    sbatch = ["sbatch", "--parsable"]
    array, variables = None, {}
    for f, v in merged:
        if f == "-J":
            array = v
            sbatch.append("--array=" + v.split(":")[0])
        elif f == "-N":
            sbatch.append("--job-name=" + v)
        elif f == "-q":
            sbatch.append("--partition=" + v)
        elif f == "-o":
            sbatch.append("--output=" + v.split(":", 1)[-1])
        elif f == "-v":
            for kv in v.split(","):
                k, _, val = kv.partition("=")
                variables[k] = val
        elif f == "-l" and v.startswith("walltime="):
            sbatch.append("--time=" + v.split("=", 1)[1])
    # the job sees PBS_JOBID as PBS names it: ID.SERVER or ID[INDEX].SERVER
    wrapper = os.path.join(STATE, f"job-{time.time_ns()}.sh")
    with open(wrapper, "w") as w:
        w.write("#!/bin/bash\n")
        w.write('if [ -n "$SLURM_ARRAY_TASK_ID" ]; then export PBS_ARRAY_INDEX=$SLURM_ARRAY_TASK_ID '
                f'PBS_JOBID="${{SLURM_ARRAY_JOB_ID}}[${{SLURM_ARRAY_TASK_ID}}].{SERVER}"; '
                f'else export PBS_JOBID="${{SLURM_JOB_ID}}.{SERVER}"; fi\n')
        for k, val in variables.items():
            w.write(f"export {k}={shell_quote(val)}\n")
        w.write(f"exec /bin/bash {shell_quote(script)}\n")
    os.chmod(wrapper, 0o755)
    r = sh(sbatch + [wrapper])
    if r.returncode != 0:
        sys.stderr.write("qsub: " + (r.stderr.strip().splitlines() or ["submission refused"])[-1] + "\n")
        sys.exit(r.returncode or 1)
    jid = r.stdout.strip().split(";")[0]
    remember(jid, {"variables": variables, "array": array, "owner": os.environ.get("USER", "root"),
                   "ctime": time.time()})
    print(f"{jid}[].{SERVER}" if array else f"{jid}.{SERVER}")


def shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


STATES = {"PD": "Q", "R": "R", "CG": "E", "S": "S", "CF": "Q", "RQ": "Q", "SE": "Q", "ST": "S"}


def ctime(t):
    return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(t))


def squeue():
    """Slurm's view: (slurm id, array job id, task id, name, state, user, submit epoch, partition,
    reason, cpus, start epoch or None)."""
    r = sh(["squeue", "--me", "-h", "-r", "-o", "%i|%F|%K|%j|%t|%u|%V|%P|%r|%C|%S"])
    rows = []
    when = lambda v: time.mktime(time.strptime(v, "%Y-%m-%dT%H:%M:%S")) if v not in ("", "N/A") else None
    for line in r.stdout.splitlines():
        f = line.split("|")
        if len(f) < 11:
            continue
        submit = when(f[6]) or time.time()
        cpus = int(f[9]) if f[9].isdigit() else 1
        rows.append((f[0], f[1], f[2], f[3], f[4], f[5], submit, f[7], f[8], cpus, when(f[10])))
    return rows


def qstat(argv):
    if not ("-f" in argv and "-F" in argv and "json" in argv):
        sys.stderr.write("qstat: this shim answers only qstat -f -F json [-t]\n")
        sys.exit(2)
    db = known()
    jobs = {}
    host = socket.gethostname()
    arrays = {}
    for sid, array_id, task, name, st, user, submit, part, reason, cpus, start in squeue():
        base = array_id if task not in ("N/A", "") else sid.split("_")[0]
        info = db.get(base, {})
        state = STATES.get(st, "Q")
        if st == "PD" and "Held" in reason:
            state = "H"
        attrs = {"Job_Name": name, "Job_Owner": f"{user}@{host}", "job_state": state, "queue": part,
                 "qtime": ctime(submit), "ctime": ctime(submit), "server": SERVER,
                 "Variable_List": dict(info.get("variables", {}), PBS_O_HOST=host),
                 "Resource_List": {"ncpus": cpus, "nodect": 1, "select": f"1:ncpus={cpus}"}}
        if state == "R" and start:
            attrs["stime"] = ctime(start)
        if info.get("array"):
            # a pending array shows as one Slurm line with a task range: each subjob listed
            indices = []
            if task not in ("N/A", "") and re.fullmatch(r"\d+", task):
                indices = [int(task)]
            else:
                m = re.search(r"\[(.*)\]", sid)
                for part_ in (m.group(1).split("%")[0].split(",") if m else []):
                    a, _, b = part_.partition("-")
                    if a.isdigit():
                        indices += list(range(int(a), int(b or a) + 1))
            for i in indices:
                jobs[f"{base}[{i}].{SERVER}"] = dict(attrs, array_id=f"{base}[].{SERVER}", array_index=str(i))
            arrays.setdefault(base, (attrs, []))[1].append(state)
        else:
            jobs[f"{sid}.{SERVER}"] = attrs
    for base, (attrs, states) in arrays.items():
        jobs[f"{base}[].{SERVER}"] = dict(attrs, job_state="B" if "R" in states else "Q", array=True)
    print(json.dumps({"timestamp": int(time.time()), "pbs_version": "23.06.06", "pbs_server": SERVER,
                      "Jobs": jobs}, indent=4))


def qdel(argv):
    db = known()
    running = {}
    for sid, array_id, task, name, st, user, submit, part, reason, cpus, start in squeue():
        base = array_id if task not in ("N/A", "") else sid.split("_")[0]
        key = f"{base}_{task}" if task not in ("N/A", "") else base
        running[key] = st
        running.setdefault(base, st)
    code = 0
    for pid in (a for a in argv if not a.startswith("-")):
        m = re.fullmatch(r"(\d+)(?:\[(\d*)\])?(?:\.\w+)?", pid)
        if not m:
            sys.stderr.write(f"qdel: illegally formed job identifier: {pid}\n")
            code = 15020 % 256
            continue
        base, idx = m.group(1), m.group(2)
        slurm = f"{base}_{idx}" if idx else base
        if slurm not in running:
            if base in db:
                sys.stderr.write(f"qdel: Job has finished {pid}\n")
                code = 15139 % 256  # 35
            else:
                sys.stderr.write(f"qdel: Unknown Job Id {pid}\n")
                code = 15001 % 256  # 153
            continue
        if running[slurm] == "CG":
            sys.stderr.write(f"qdel: Request invalid for state of job {pid}\n")
            code = 15016 % 256  # 168 (PBSE_BADSTATE)
            continue
        sh(["scancel", slurm])
    sys.exit(code)


def main():
    tool = os.path.basename(sys.argv[0])
    {"qsub": qsub, "qstat": qstat, "qdel": qdel}[tool](sys.argv[1:])


if __name__ == "__main__":
    main()
