#!/usr/bin/env python3
"""A stand-in for HTCondor's condor_submit, condor_q, condor_rm and condor_history, for tests
on machines where no HTCondor daemons can be installed. Each job really runs, as a local
process, so a real dask worker joins a real scheduler.

Formats follow the HTCondor manual:
- condor_submit: the submit description language subset used by daskctl and dask-jobqueue:
  `key = value` commands (case-insensitive), `+Attr = value` / `MY.Attr = value` custom ClassAd
  attributes, macros `$(Cluster)` `$(ClusterId)` `$(Process)` `$(ProcId)` and `$F(name)` (value
  with quotes stripped), `arguments` / `environment` in the new quoted syntax (double quotes
  around the whole, whitespace separates, single quotes group, '' and "" escape), `hold`,
  `queue [N]`. Output: "N job(s) submitted to cluster C." or, with -terse, "C.0 - C.N-1".
- condor_q -json / condor_history -json: a JSON array of job ClassAds (nothing at all when there
  are none), with ClusterId, ProcId, JobStatus (1 Idle, 2 Running, 3 Removed, 4 Completed,
  5 Held), Owner, QDate, EnteredCurrentStatus, Cmd, Arguments, Out, Err, Iwd, JobBatchName and
  the custom attributes, RequestCpus and (while running) JobCurrentStartDate. condor_q shows the
  current user's jobs, every user's with -allusers; `-attributes A,B,...` shows only those
  attributes of each ad.
- condor_rm ID...: "Job C.P marked for removal" / "All jobs in cluster C have been marked for
  removal"; exit status 1 when nothing matched.
- condor_suspend / condor_continue ID...: JobStatus 7 (Suspended, its processes stopped) and
  back to 2.

As strict as a pool (HTCondor manual and htcondor/htcondor sources):
- jobs start Idle (1) and run once "matched" a moment later (a negotiator cycle; a helper
  process starts them even when nobody asks the queue);
- a job's environment is its `environment` only, plus `_CONDOR_*` variables: nothing of the
  submitter's (no PATH) unless `getenv = true`;
- output goes to the execute node and is copied back at exit (JobStatus 6, Transferring
  Output, for a moment) unless `stream_output`/`stream_error` are true;
- `periodic_remove` (the `time() - EnteredCurrentStatus > N` form) removes a job that ran too
  long: JobStatus 3, RemoveReason "The job attribute PeriodicRemove expression '...' evaluated
  to TRUE" (src/condor_utils/user_job_policy, OTEST_UserPolicy.cpp);
- condor_rm marks jobs for removal and returns (RemoveReason "via condor_rm", rm.cpp); a job
  leaves the queue (JobStatus 3 until then) once its processes are gone;
- condor_history is newest first across all users; `-constraint` (the `Attr =!= undefined`,
  `Owner == "name"` and `&&` forms) filters and `-limit N` counts what is shown.
State lives in $CONDOR_STANDIN_DIR (jobs.json, guarded by a lock file).
"""

import getpass
import json
import os
import re
import signal
import subprocess
import sys
import time

# beside this script where its commands are installed (tests/it/support/standin_jobs.py)
import standin_jobs
from standin_jobs import alive

STATE = os.environ.get("CONDOR_STANDIN_DIR") or sys.exit("CONDOR_STANDIN_DIR is not set")


def Locked():
    return standin_jobs.Locked(STATE, '{"next": 1, "jobs": [], "history": []}')


PERIODIC = re.compile(r"time\(\)\s*-\s*EnteredCurrentStatus\s*>\s*(\d+)")


def start(ad, now):
    """The negotiator matched the job: its process starts, with the job's environment only."""
    out_path, err_path = ad["_out_abs"], ad["_err_abs"]
    if not ad.get("_stream_out"):
        out_path = os.path.join(STATE, "spool", f"{ad['ClusterId']}.{ad['ProcId']}.out")
    if not ad.get("_stream_err"):
        err_path = out_path if ad["Err"] == ad["Out"] else os.path.join(STATE, "spool", f"{ad['ClusterId']}.{ad['ProcId']}.err")
    elif ad["Err"] == ad["Out"]:
        err_path = out_path
    os.makedirs(os.path.join(STATE, "spool"), exist_ok=True)
    out = open(out_path, "ab")
    err = out if err_path == out_path else open(err_path, "ab")
    p = subprocess.Popen([ad["Cmd"], *ad["_args"]], cwd=ad["Iwd"], env=ad["_env"], stdin=subprocess.DEVNULL,
                         stdout=out, stderr=err, start_new_session=True)
    ad["JobStatus"], ad["_pid"], ad["EnteredCurrentStatus"] = 2, p.pid, now
    # the schedd sets it when the job's shadow starts (src/condor_schedd.V6/schedd.cpp,
    # ATTR_JOB_CURRENT_START_DATE), the start of the run in progress
    ad["JobCurrentStartDate"] = int(now)
    ad["_spool"] = [out_path, err_path]


def transfer_output(ad):
    """At exit, what the job wrote on the execute node is copied to Out/Err."""
    for spool, dest, streamed in ((ad["_spool"][0], ad["_out_abs"], ad.get("_stream_out")),
                                  (ad["_spool"][1], ad["_err_abs"], ad.get("_stream_err"))):
        if streamed or spool == dest or dest == "/dev/null" or not os.path.exists(spool):
            continue
        with open(spool, "rb") as src, open(dest, "ab") as dst:
            dst.write(src.read())
        os.remove(spool)


def kill(ad, sig):
    try:
        os.killpg(ad["_pid"], sig)
    except (ProcessLookupError, PermissionError):
        pass


def refresh(db):
    """What the schedd and startd do between commands: start matched jobs, enforce
    periodic_remove, finish exited jobs (transferring their output first), and let removed
    jobs leave the queue once their processes are gone."""
    now = time.time()
    keep = []
    for ad in db["jobs"]:
        status = ad["JobStatus"]
        if status == 1 and now >= ad.get("_start_at", 0):
            start(ad, int(now))
            status = 2
        if status == 2 and alive(ad["_pid"]) and ad.get("_periodic_remove"):
            m = PERIODIC.search(ad["_periodic_remove"])
            if m and now - ad["EnteredCurrentStatus"] > int(m.group(1)):
                kill(ad, signal.SIGKILL)
                ad["JobStatus"], ad["EnteredCurrentStatus"] = 3, int(now)
                ad["RemoveReason"] = f"The job attribute PeriodicRemove expression '{ad['_periodic_remove']}' evaluated to TRUE"
                ad["_leaving"] = True
                status = 3
        if status == 2 and not alive(ad["_pid"]):
            if ad.get("_stream_out") and ad.get("_stream_err"):
                ad["JobStatus"] = 4
            else:
                ad["JobStatus"], ad["_transfer_until"] = 6, now + 0.5
            ad["EnteredCurrentStatus"] = int(now)
            status = ad["JobStatus"]
        if status == 6 and now >= ad.get("_transfer_until", 0):
            transfer_output(ad)
            ad["JobStatus"], ad["EnteredCurrentStatus"] = 4, int(now)
            status = 4
        if status == 3 and ad.get("_pid") and alive(ad["_pid"]):
            keep.append(ad)  # marked for removal; still tearing down
            continue
        if status in (3, 4):
            if ad.get("_spool"):
                transfer_output(ad)
            db["history"].append(ad)
        else:
            keep.append(ad)
    db["jobs"] = keep


def negotiate(at):
    """A detached helper: starts the jobs due by `at`, as the negotiator would."""
    time.sleep(max(0.0, at - time.time()) + 0.05)
    with Locked() as db:
        refresh(db)


def split_new_syntax(value):
    """Arguments/environment in the new syntax: whitespace separates, '...' groups, '' and "" escape."""
    out, cur, in_q, have, i = [], "", False, False, 0
    while i < len(value):
        c = value[i]
        if c == "'":
            if in_q and value[i + 1:i + 2] == "'":
                cur += "'"
                i += 2
                continue
            in_q, have = not in_q, True
        elif c == '"' and value[i + 1:i + 2] == '"':
            cur += '"'
            i += 1
        elif c.isspace() and not in_q:
            if cur or have:
                out.append(cur)
            cur, have = "", False
        else:
            cur += c
        i += 1
    if cur or have:
        out.append(cur)
    return out


def classad_value(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return v[1:-1]
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v  # an expression, kept as text


def parse_submit(text):
    cmds, attrs, count = {}, {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"(?i)^queue(\s+(\d+))?\s*$", line)
        if m:
            count = int(m.group(2) or 1)
            break
        if "=" not in line:
            sys.exit(f"ERROR: on line '{line}': expected a command or 'queue'")
        k, v = (s.strip() for s in line.split("=", 1))
        if k.startswith("+"):
            attrs[k[1:]] = v
        elif k.lower().startswith("my."):
            attrs[k[3:]] = v
        else:
            cmds[k.lower()] = v
    if count is None:
        sys.exit("ERROR: no 'queue' statement")
    return cmds, attrs, count


def expand(v, macros):
    def sub(m):
        strip, name = m.group(1) == "F", m.group(2)
        val = macros.get(name.lower())
        if val is None:
            val = macros.get("my." + name.lower().removeprefix("my."), "")
        val = str(val)
        return val.strip('"') if strip else val
    return re.sub(r"\$(F?)\(([A-Za-z_.]+)\)", sub, v)


def submit(argv):
    terse = "-terse" in argv
    files = [a for a in argv if not a.startswith("-")]
    text = open(files[0]).read() if files else sys.stdin.read()
    cmds, attrs, count = parse_submit(text)
    exe = cmds.get("executable") or sys.exit("ERROR: Executable not specified")
    iwd = cmds.get("initialdir", os.getcwd())
    with Locked() as db:
        cluster = db["next"]
        db["next"] += 1
        for proc in range(count):
            macros = {"cluster": cluster, "clusterid": cluster, "process": proc, "procid": proc}
            ad_attrs = {}
            for k, v in attrs.items():
                val = expand(v, macros)
                ad_attrs[k] = classad_value(val)
                macros["my." + k.lower()] = val
            c = {k: expand(v, macros) for k, v in cmds.items()}
            args_v = c.get("arguments", "")
            args = split_new_syntax(args_v[1:-1]) if args_v.startswith('"') else args_v.split()
            # the job's own environment: `environment`, HTCondor's variables, the submitter's
            # only with getenv (HTCondor manual, condor_submit: getenv, environment)
            env = dict(os.environ) if c.get("getenv", "false").lower() == "true" else {}
            env_v = c.get("environment", "")
            pairs = split_new_syntax(env_v[1:-1]) if env_v.startswith('"') else [p for p in env_v.split(";") if p]
            env.update(p.split("=", 1) for p in pairs if "=" in p)
            env.update({"_CONDOR_SCRATCH_DIR": iwd, "_CONDOR_SLOT": f"slot1_{proc + 1}",
                        "_CONDOR_JOB_AD": os.path.join(STATE, f"{cluster}.{proc}.ad")})
            if "CONDOR_STANDIN_DIR" in os.environ:
                env.setdefault("CONDOR_STANDIN_DIR", os.environ["CONDOR_STANDIN_DIR"])
            path = lambda p: p if not p or os.path.isabs(p) else os.path.join(iwd, p)
            truth = lambda k: c.get(k, "false").strip().lower() in ("true", "1")
            ad = {
                "MyType": "Job", "ClusterId": cluster, "ProcId": proc, "GlobalJobId": f"standin#{cluster}.{proc}#{int(time.time())}",
                "Owner": getpass.getuser(), "QDate": int(time.time()), "EnteredCurrentStatus": int(time.time()),
                "Cmd": path(c["executable"]), "Arguments": " ".join(args), "Iwd": iwd,
                # as condor_q shows them: relative to Iwd when they were given so
                "Out": c.get("output", "/dev/null"), "Err": c.get("error", "/dev/null"),
                "JobBatchName": c.get("batch_name", ""), "RequestCpus": classad_value(c.get("request_cpus", "1")),
                "StreamOut": truth("stream_output"), "StreamErr": truth("stream_error"),
                **ad_attrs,
            }
            if "periodic_remove" in c:
                ad["PeriodicRemove"] = c["periodic_remove"]
            ad["_args"], ad["_env"] = args, env
            ad["_stream_out"], ad["_stream_err"] = ad["StreamOut"], ad["StreamErr"]
            ad["_periodic_remove"] = c.get("periodic_remove")
            ad["_out_abs"], ad["_err_abs"] = path(ad["Out"]), path(ad["Err"])
            if c.get("hold", "false").lower() == "true":
                ad["JobStatus"], ad["_pid"] = 5, 0
            else:
                ad["JobStatus"], ad["_pid"], ad["_start_at"] = 1, 0, time.time() + 0.3
            db["jobs"].append(ad)
    subprocess.Popen([sys.executable, os.path.abspath(__file__), "--negotiate", str(time.time() + 0.3)],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, env=dict(os.environ))
    if terse:
        print(f"{cluster}.0 - {cluster}.{count - 1}")
    else:
        print(f"Submitting job(s){'.' * count}\n{count} job(s) submitted to cluster {cluster}.")


def public(ad):
    return {k: v for k, v in ad.items() if not k.startswith("_")}


def project(ad, wanted):
    """`-attributes A,B`: only these of each ad, where it has them (the manual: "Explicitly
    list the attributes ... which should be displayed when using the -xml, -json or -long
    options"); an ad without one of them shows none of it."""
    if wanted is None:
        return ad
    names = [w.strip() for w in wanted.split(",") if w.strip()]
    return {k: v for k, v in ad.items() if k in names}


def constraint(expr):
    """The ClassAd constraints daskctl passes: `Attr =!= undefined`, `Attr == "value"`,
    joined with `&&`. Anything else is refused, as an unparsable constraint would be."""
    tests = []
    for term in (t.strip().strip("()").strip() for t in expr.split("&&")):
        m = re.fullmatch(r'(\w+)\s*=!=\s*undefined', term, re.I)
        if m:
            tests.append(lambda ad, k=m.group(1): ad.get(k) is not None)
            continue
        m = re.fullmatch(r'(\w+)\s*==\s*"([^"]*)"', term)
        if m:
            tests.append(lambda ad, k=m.group(1), v=m.group(2): ad.get(k) == v)
            continue
        sys.exit(f"Error: Parse error of constraint expression: {expr}")
    return lambda ad: all(t(ad) for t in tests)


def option(argv, name):
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else None


def q(argv, history=False):
    with Locked() as db:
        refresh(db)
        if history:
            # newest first, every user's (condor_history reads the history file backwards)
            ads = list(reversed(db["history"])) + list(reversed(db.get("foreign_history", [])))
            ads.sort(key=lambda a: -a.get("EnteredCurrentStatus", 0))
        else:
            # the current user's jobs; every user's with -allusers (condor_q, since 8.5.x)
            ads = [a for a in db["jobs"] if "-allusers" in argv or a["Owner"] == getpass.getuser()]
    c = option(argv, "-constraint")
    if c:
        keep = constraint(c)
        ads = [a for a in ads if keep(a)]
    limit = option(argv, "-limit")
    if limit is not None:
        ads = ads[: int(limit)]
    wanted = option(argv, "-attributes")
    if "-json" in argv:
        if ads:
            print(json.dumps([project(public(a), wanted) for a in ads], indent=2))
    else:
        for a in ads:
            print(f"{a['ClusterId']}.{a['ProcId']} {a['Owner']} {a['JobStatus']} {a['Cmd']}")


def matching(db, ids):
    for ad in db["jobs"]:
        jid = f"{ad['ClusterId']}.{ad['ProcId']}"
        hit = jid if jid in ids else str(ad["ClusterId"]) if str(ad["ClusterId"]) in ids else None
        if hit:
            yield hit, ad


def rm(argv):
    """Marks jobs for removal and signals their processes; the schedd finishes the removal once
    they are gone (a later refresh), so a job may still be in the queue, JobStatus 3."""
    ids = [a for a in argv if not a.startswith("-")]
    matched = set()
    with Locked() as db:
        refresh(db)
        for hit, ad in matching(db, ids):
            matched.add(hit)
            if ad["JobStatus"] in (2, 7) and alive(ad["_pid"]):
                kill(ad, signal.SIGCONT)
                kill(ad, signal.SIGTERM)
            ad["JobStatus"] = 3
            ad["EnteredCurrentStatus"] = int(time.time())
            ad["RemoveReason"] = f"via condor_rm (by user {getpass.getuser()})"
        refresh(db)
    for i in ids:
        if i not in matched:
            continue
        if "." in i:
            print(f"Job {i} marked for removal")
        else:
            print(f"All jobs in cluster {i} have been marked for removal")
    missing = [i for i in ids if i not in matched]
    if missing:
        print(f"Couldn't find/remove all jobs matching {' '.join(missing)}", file=sys.stderr)
        sys.exit(1)


def suspend(argv, resume=False):
    """condor_suspend / condor_continue: a running job's processes are stopped (JobStatus 7)."""
    ids = [a for a in argv if not a.startswith("-")]
    with Locked() as db:
        refresh(db)
        for hit, ad in matching(db, ids):
            if resume and ad["JobStatus"] == 7:
                kill(ad, signal.SIGCONT)
                ad["JobStatus"] = 2
            elif not resume and ad["JobStatus"] == 2:
                kill(ad, signal.SIGSTOP)
                ad["JobStatus"] = 7
            ad["EnteredCurrentStatus"] = int(time.time())
            print(f"Job {hit} {'continued' if resume else 'suspended'}")


def foreign_history(n):
    """A busy submit host: N jobs of other users that ended after ours (for tests)."""
    with Locked() as db:
        now = int(time.time()) + 60
        db.setdefault("foreign_history", []).extend(
            {"MyType": "Job", "ClusterId": 900000 + i, "ProcId": 0, "Owner": "someone-else", "JobStatus": 4,
             "QDate": now, "EnteredCurrentStatus": now + i, "Cmd": "/bin/true", "JobBatchName": "other"}
            for i in range(n))


def main():
    if sys.argv[1:2] == ["--negotiate"]:
        return negotiate(float(sys.argv[2]))
    if sys.argv[1:2] == ["--foreign-history"]:
        return foreign_history(int(sys.argv[2]))
    tool = os.path.basename(sys.argv[0])
    {"condor_submit": submit, "condor_q": q, "condor_rm": rm, "condor_history": lambda a: q(a, history=True),
     "condor_suspend": suspend, "condor_continue": lambda a: suspend(a, resume=True)}[tool](sys.argv[1:])


if __name__ == "__main__":
    main()
