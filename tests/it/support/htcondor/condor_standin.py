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
  the custom attributes. condor_q shows the current user's jobs.
- condor_rm ID...: "Job C.P marked for removal" / "All jobs in cluster C have been marked for
  removal"; exit status 1 when nothing matched.
State lives in $CONDOR_STANDIN_DIR (jobs.json, guarded by a lock file).
"""

import fcntl
import getpass
import json
import os
import re
import signal
import subprocess
import sys
import time

STATE = os.environ.get("CONDOR_STANDIN_DIR") or sys.exit("CONDOR_STANDIN_DIR is not set")


class Locked:
    def __enter__(self):
        os.makedirs(STATE, exist_ok=True)
        self.f = open(os.path.join(STATE, "lock"), "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        path = os.path.join(STATE, "jobs.json")
        self.db = json.load(open(path)) if os.path.exists(path) else {"next": 1, "jobs": [], "history": []}
        return self.db

    def __exit__(self, *exc):
        tmp = os.path.join(STATE, "jobs.json.tmp")
        json.dump(self.db, open(tmp, "w"))
        os.replace(tmp, os.path.join(STATE, "jobs.json"))
        self.f.close()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def refresh(db):
    """Running jobs whose process ended are Completed and move to the history."""
    keep = []
    for ad in db["jobs"]:
        if ad["JobStatus"] == 2 and not alive(ad["_pid"]):
            ad["JobStatus"] = 4
            ad["EnteredCurrentStatus"] = int(time.time())
            db["history"].append(ad)
        else:
            keep.append(ad)
    db["jobs"] = keep


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
            env = dict(os.environ) if c.get("getenv", "false").lower() == "true" else {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
            env_v = c.get("environment", "")
            pairs = split_new_syntax(env_v[1:-1]) if env_v.startswith('"') else [p for p in env_v.split(";") if p]
            env.update(p.split("=", 1) for p in pairs if "=" in p)
            path = lambda p: p if not p or os.path.isabs(p) else os.path.join(iwd, p)
            ad = {
                "MyType": "Job", "ClusterId": cluster, "ProcId": proc, "GlobalJobId": f"standin#{cluster}.{proc}#{int(time.time())}",
                "Owner": getpass.getuser(), "QDate": int(time.time()), "EnteredCurrentStatus": int(time.time()),
                "Cmd": path(c["executable"]), "Arguments": " ".join(args), "Iwd": iwd,
                "Out": path(c.get("output", "/dev/null")), "Err": path(c.get("error", "/dev/null")),
                "JobBatchName": c.get("batch_name", ""), "RequestCpus": classad_value(c.get("request_cpus", "1")),
                **ad_attrs,
            }
            if c.get("hold", "false").lower() == "true":
                ad["JobStatus"], ad["_pid"] = 5, 0
            else:
                out = open(ad["Out"], "ab")
                err = out if ad["Err"] == ad["Out"] else open(ad["Err"], "ab")
                p = subprocess.Popen([ad["Cmd"], *args], cwd=iwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
                ad["JobStatus"], ad["_pid"] = 2, p.pid
            db["jobs"].append(ad)
    if terse:
        print(f"{cluster}.0 - {cluster}.{count - 1}")
    else:
        print(f"Submitting job(s){'.' * count}\n{count} job(s) submitted to cluster {cluster}.")


def public(ad):
    return {k: v for k, v in ad.items() if not k.startswith("_")}


def q(argv, history=False):
    with Locked() as db:
        refresh(db)
        ads = db["history"] if history else [a for a in db["jobs"] if a["Owner"] == getpass.getuser()]
    if "-json" in argv:
        if ads:
            print(json.dumps([public(a) for a in ads], indent=2))
    else:
        for a in ads:
            print(f"{a['ClusterId']}.{a['ProcId']} {a['Owner']} {a['JobStatus']} {a['Cmd']}")


def rm(argv):
    ids = [a for a in argv if not a.startswith("-")]
    matched = set()
    with Locked() as db:
        refresh(db)
        keep = []
        for ad in db["jobs"]:
            jid = f"{ad['ClusterId']}.{ad['ProcId']}"
            hit = jid if jid in ids else str(ad["ClusterId"]) if str(ad["ClusterId"]) in ids else None
            if hit:
                matched.add(hit)
                if ad["JobStatus"] == 2 and alive(ad["_pid"]):
                    try:
                        os.killpg(ad["_pid"], signal.SIGTERM)
                    except ProcessLookupError:
                        pass
                    deadline = time.time() + 10
                    while alive(ad["_pid"]) and time.time() < deadline:
                        time.sleep(0.05)
                    if alive(ad["_pid"]):
                        os.killpg(ad["_pid"], signal.SIGKILL)
                ad["JobStatus"] = 3
                ad["EnteredCurrentStatus"] = int(time.time())
                db["history"].append(ad)
            else:
                keep.append(ad)
        db["jobs"] = keep
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


def main():
    tool = os.path.basename(sys.argv[0])
    {"condor_submit": submit, "condor_q": q, "condor_rm": rm, "condor_history": lambda a: q(a, history=True)}[tool](sys.argv[1:])


if __name__ == "__main__":
    main()
