#!/usr/bin/env python3
"""A stand-in for Moab Workload Manager's msub, showq, canceljob and mjobctl (over Torque), for
tests on machines where no Moab server can be installed. Each job really runs, as a local
process, so a real dask worker joins a real scheduler.

Formats and behaviour follow Adaptive Computing's Moab Workload Manager reference (msub, showq,
canceljob, mjobctl; "Job Environment Variables") and, for what `showq --xml` prints, Moab's own
source (MUIQueueShow.c: `<Data><Object>queue</Object><cluster .../>` then one `<queue
option="active|eligible|blocked" count="N">` each; MJobXML.c MJobBaseToXML: the attributes of
`<job>`):
- msub [options] SCRIPT: the script's `#PBS` (and `#MSUB`) lines up to its first command line
  are read as options, the command line's override them: -N name, -o file, -e file, -j oe, -l
  resources, -q class, -A account, -v VAR=VAL[,...], -h (user hold), -d dir. Prints the job id
  after an empty line ("\nMoab.N"), exit 0. An unknown class: "ERROR:    cannot submit job -
  cannot locate class 'X'", exit 1.
- The job's environment is the submitter's (-V is Torque's default for msub) plus MOAB_JOBID,
  MOAB_JOBNAME, MOAB_USER, PBS_JOBID (Torque's id, `N.server`), PBS_JOBNAME, PBS_O_WORKDIR; it
  runs in the submission directory. Its output reaches the -o path (default NAME.oN in the
  submission directory) only when it ends, as Torque copies it back.
- showq --xml [-w user=NAME]: active jobs (Running, Starting, Suspended, Canceling), eligible
  (Idle), blocked (UserHold, ...); times in epoch seconds, StartTime 0 before a job starts.
  Completed jobs are not shown (they need -c).
- canceljob ID...: "job 'ID' cancelled" for each; an id Moab does not know (finished jobs
  leave the queue): "ERROR:    invalid job specified (ID)", exit 1. mjobctl -c ID... is the
  same. A running job gets SIGTERM, then SIGKILL after the kill delay.
- jobscript ID: a site's own helper printing a job's script to its owner, as
  `backends.moab.script_command` expects one (Moab itself has none).
State lives in $MOAB_STANDIN_DIR (jobs.json, guarded by a lock file).
"""

import getpass
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from xml.sax.saxutils import quoteattr

# beside this script where its commands are installed (tests/it/support/standin_jobs.py)
import standin_jobs
from standin_jobs import alive

STATE = os.environ.get("MOAB_STANDIN_DIR") or sys.exit("MOAB_STANDIN_DIR is not set")
DISPATCH_DELAY = 0.3
SERVER = "torque"
CLASSES = {"batch"}


def Locked():
    return standin_jobs.Locked(STATE, '{"next": 11, "jobs": []}')


def start(job, now):
    """Dispatched: the job's process starts, writing to a spool file copied back at its end."""
    spool = os.path.join(STATE, "spool", f"{job['num']}.OU")
    os.makedirs(os.path.dirname(spool), exist_ok=True)
    env = dict(job["env"])
    env.update(
        MOAB_JOBID=job["id"],
        MOAB_JOBNAME=job["name"],
        MOAB_USER=job["user"],
        PBS_JOBID=f"{job['num']}.{SERVER}",
        PBS_JOBNAME=job["name"],
        PBS_O_WORKDIR=job["cwd"],
    )
    env.update(job["vars"])
    status = os.path.join(STATE, "status", str(job["num"]))
    os.makedirs(os.path.dirname(status), exist_ok=True)
    env["STATUS_FILE"] = status
    out = open(spool, "ab")
    first = open(job["script"]).readline()
    shell = shlex.split(first[2:]) if first.startswith("#!") else ["/bin/sh"]
    argv = ["/bin/sh", "-c", '"$@"; echo $? > "$STATUS_FILE"', "job", *shell, job["script"]]
    p = subprocess.Popen(argv, cwd=job["cwd"], env=env, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=out, start_new_session=True)
    job.update(state="Running", pid=p.pid, start_time=int(now), spool=spool, status_file=status)


def finish(job):
    """Torque's stage-out: the spooled output to the -o path, and the job leaves showq."""
    dest = job["out"] or f"{job['name']}.o{job['num']}"
    if not dest.startswith("/"):
        dest = os.path.join(job["cwd"], dest)
    try:
        shutil.copyfile(job["spool"], dest)
    except OSError:
        pass
    job["state"] = "Completed"


def refresh(db):
    """The scheduling cycle: start eligible jobs that are due, complete those that exited."""
    now = time.time()
    for job in db["jobs"]:
        if job["state"] == "Idle" and now >= job["dispatch_at"]:
            start(job, now)
        elif job["state"] in ("Running", "Canceling") and not alive(job["pid"]):
            finish(job)


def dispatch_later(at):
    time.sleep(max(0.0, at - time.time()) + 0.05)
    with Locked() as db:
        refresh(db)


def directives(text):
    words = []
    lines = text.splitlines()
    for line in lines[1:] if text.startswith("#!") else lines:
        s = line.strip()
        if not s:
            continue
        if not s.startswith("#"):
            break
        for prefix in ("#PBS", "#MSUB"):
            if s.startswith(prefix + " "):
                words.extend(shlex.split(s[len(prefix):]))
    return words


WITH_VALUE = {"-N", "-o", "-e", "-j", "-l", "-q", "-A", "-v", "-d", "-W", "-S", "-M", "-m"}


def options(words, into, what):
    i = 0
    rest = []
    while i < len(words):
        w = words[i]
        if w in ("-h", "-V"):
            into[w] = True
        elif w in WITH_VALUE:
            if i + 1 >= len(words):
                sys.stdout.write(f"ERROR:    option {w} requires an argument\n")
                sys.exit(1)
            if w in ("-l", "-v"):
                into.setdefault(w, []).append(words[i + 1])
            else:
                into[w] = words[i + 1]
            i += 1
        elif w.startswith("-"):
            sys.stdout.write(f"ERROR:    invalid {what} option '{w}'\n")
            sys.exit(1)
        else:
            rest.append(w)
        i += 1
    return rest


def msub(argv):
    given = {}
    rest = options(argv, given, "msub")
    if len(rest) != 1:
        sys.stdout.write("ERROR:    no job script specified\n")
        sys.exit(1)
    path = rest[0]
    try:
        text = open(path).read()
    except OSError as e:
        sys.stdout.write(f"ERROR:    cannot read job script '{path}': {e.strerror}\n")
        sys.exit(1)
    opts = {}
    options(directives(text), opts, "msub")
    for k, v in given.items():
        opts[k] = opts.get(k, []) + v if isinstance(v, list) else v
    klass = opts.get("-q", "batch")
    if klass not in CLASSES:
        sys.stdout.write(f"ERROR:    cannot submit job - cannot locate class '{klass}'\n")
        sys.exit(1)
    procs = 1
    for res in opts.get("-l", []):
        for part in res.replace(",", ":").split(":"):
            if part.startswith("ppn="):
                procs = int(part[4:])
    variables = {}
    for v in opts.get("-v", []):
        for pair in v.split(","):
            k, _, val = pair.partition("=")
            variables[k] = val
    now = time.time()
    cwd = opts.get("-d") or os.getcwd()
    with Locked() as db:
        num = db["next"]
        db["next"] += 1
        os.makedirs(os.path.join(STATE, "scripts"), exist_ok=True)
        copy = os.path.join(STATE, "scripts", f"{num}.sh")
        with open(copy, "w") as f:
            f.write(text)
        job = {
            "num": num, "id": f"Moab.{num}", "name": opts.get("-N") or os.path.basename(path),
            "user": getpass.getuser(), "class": klass, "procs": procs,
            "state": "UserHold" if opts.get("-h") else "Idle", "submit_time": int(now),
            "start_time": 0, "out": opts.get("-o", ""), "cwd": cwd, "script": copy,
            "vars": variables, "env": dict(os.environ), "dispatch_at": now + DISPATCH_DELAY,
        }
        db["jobs"].append(job)
    print()
    print(job["id"])
    subprocess.Popen([sys.executable, os.path.abspath(__file__), "--dispatch", str(now + DISPATCH_DELAY)],
                     env={**os.environ, "MOAB_STANDIN_DIR": STATE}, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


SECTIONS = {
    "active": ("Running", "Starting", "Suspended", "Canceling"),
    "eligible": ("Idle",),
    "blocked": ("UserHold", "SystemHold", "BatchHold", "Deferred", "Blocked"),
}


def job_xml(j, section):
    attrs = {
        "JobID": j["id"], "JobName": j["name"], "DRMJID": f"{j['num']}.{SERVER}",
        "State": j["state"], "User": j["user"], "Group": j["user"], "Class": j["class"],
        "StartTime": j["start_time"], "SubmissionTime": j["submit_time"],
        "ReqAWDuration": 3600, "SuspendDuration": 0, "ReqProcs": j["procs"],
    }
    if section == "active":
        attrs.update(RunPriority=1, StatPSDed=0, StatPSUtl=0, MasterHost=socket.gethostname(),
                     AWDuration=max(0, int(time.time()) - j["start_time"]))
    if section == "blocked" and j["state"] == "UserHold":
        attrs["HoldReason"] = "User"
    return "<job " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in sorted(attrs.items())) + "></job>"


def showq(argv):
    if "--xml" not in argv:
        sys.exit("this stand-in answers only showq --xml")
    user = None
    if "-w" in argv:
        where = argv[argv.index("-w") + 1]
        key, _, user = where.partition("=")
        if key != "user":
            sys.stdout.write(f"ERROR:    invalid object type {key} specified\n")
            sys.exit(1)
    with Locked() as db:
        refresh(db)
        jobs = [dict(j) for j in db["jobs"]]
    if user is not None:
        jobs = [j for j in jobs if j["user"] == user]
    parts = ["<Data><Object>queue</Object>",
             f'<cluster LocalUpProcs="16" LocalIdleProcs="16" time="{int(time.time())}"></cluster>']
    for section, states in SECTIONS.items():
        chosen = [j for j in jobs if j["state"] in states]
        parts.append(f'<queue count="{len(chosen)}" option="{section}">')
        parts.extend(job_xml(j, section) for j in chosen)
        parts.append("</queue>")
    parts.append("</Data>")
    print("".join(parts))


def cancel(argv):
    ids = [a for a in argv if not a.startswith("-")]
    failed = False
    with Locked() as db:
        refresh(db)
        for spec in ids:
            found = [j for j in db["jobs"] if spec in (j["id"], str(j["num"]), f"{j['num']}.{SERVER}")
                     and j["state"] != "Completed"]
            if not found:
                print(f"ERROR:    invalid job specified ({spec})")
                failed = True
                continue
            for j in found:
                if j["state"] == "Running":
                    j["state"] = "Canceling"
                    terminate(j["pid"])
                elif j["state"] != "Canceling":
                    j["state"] = "Completed"
                print(f"\njob '{j['id']}' cancelled\n")
    sys.exit(1 if failed else 0)


def mjobctl(argv):
    if argv[:1] != ["-c"]:
        sys.exit("this stand-in answers only mjobctl -c")
    cancel(argv[1:])


def jobscript(argv):
    with Locked() as db:
        found = [j for j in db["jobs"] if argv and argv[0] in (j["id"], str(j["num"]))]
    if not found:
        sys.stderr.write(f"jobscript: unknown job {argv[0] if argv else ''}\n")
        sys.exit(1)
    sys.stdout.write(open(found[0]["script"]).read())


def terminate(pid):
    """SIGTERM, then SIGKILL after the kill delay, by a detached helper."""
    standin_jobs.terminate_detached(__file__, {**os.environ, "MOAB_STANDIN_DIR": STATE}, pid)


def terminate_group(pid):
    standin_jobs.end_group(pid, (signal.SIGTERM, signal.SIGKILL))
    with Locked() as db:
        refresh(db)


def main():
    if sys.argv[1:2] == ["--dispatch"]:
        return dispatch_later(float(sys.argv[2]))
    if sys.argv[1:2] == ["--terminate"]:
        return terminate_group(int(sys.argv[2]))
    tool = os.path.basename(sys.argv[0])
    {"msub": msub, "showq": showq, "canceljob": cancel, "mjobctl": mjobctl,
     "jobscript": jobscript}[tool](sys.argv[1:])


if __name__ == "__main__":
    main()
