"""Synthetic facility queues for Grid Engine, PBS and HTCondor (see facility.py), made from
captured records in bench/records/ the way facility.py makes Slurm's: n jobs, ~1,666 users,
30% array tasks, 1% Dask jobs (daskctl's scheduler and workers, dask-gateway's jobs,
dask-jobqueue workers), the rest not Dask.

- sge: `qstat -xml -u '*'` and `qstat -j` of Son of Grid Engine 8.1.9 on the test bed
  (sge-8.1.9-qstat.xml, -qstat-j.txt): one `job_list` per job or running array task.
- pbs: `qstat -f` of Slurm 22.05.8's Torque wrappers on the test bed
  (pbs-slurm-22.05.8-wrapper-qstat-f.txt), with daskctl's jobs given the Variable_List line
  PBS Pro and Torque print (the wrapper prints none).
- lsf: `bjobs -o "..." -json -u all` of the project's LSF stand-in (lsf-standin-bjobs.json;
  no LSF daemons can run here; the stand-in prints the records IBM's reference documents).
- htcondor: `condor_q -json -attributes ...` of the project's condor_q stand-in (no HTCondor
  daemons can run here; the stand-in prints the job ad attributes the HTCondor manual names),
  projected to the attributes daskctl asks for, as a real schedd projects them.

Each `synth_*` returns {file name: content} and the stand-in commands as {tool: shell body}
(`$Q` is the directory the files are in)."""

import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDS = os.path.join(HERE, "records")
USERS = 1666


def kind_of(i):
    """What job i is: 1 in 100 is Dask's (five kinds in turn), 30 in 100 an array task."""
    if i % 100 == 7:
        return (
            "daskctl-scheduler",
            "daskctl-worker",
            "gateway-scheduler",
            "gateway-worker",
            "jobqueue",
        )[(i // 100) % 5]
    return "array" if i % 10 < 3 else "plain"


def user_of(i):
    return f"u{(i * 7919) % USERS:04d}"


def job_name(kind, i):
    if kind.startswith("daskctl"):
        return f"c{i}-{kind.split('-')[1]}"
    return {
        "gateway-scheduler": "dask-gateway",
        "gateway-worker": "dask-gateway",
        "jobqueue": "dask-worker",
        "array": "vasp_relax",
        "plain": "gmx",
    }[kind]


def read(name):
    with open(os.path.join(RECORDS, name)) as f:
        return f.read()


def sub_tag(block, tag, value):
    return re.sub(f"<{tag}>[^<]*</{tag}>", f"<{tag}>{value}</{tag}>", block)


def synth_sge(n):
    xml = read("sge-8.1.9-qstat.xml")
    blocks = {}
    for b in re.findall(r"    <job_list state=\"[a-z]+\">.*?</job_list>\n", xml, re.S):
        blocks.setdefault(re.search(r"<JB_name>([^<]*)</JB_name>", b).group(1), b)
    details = {}
    for d in read("sge-8.1.9-qstat-j.txt").split("=" * 62 + "\n"):
        m = re.search(r"^job_name:\s+(\S+)", d, re.M)
        if m:
            details.setdefault(m.group(1), d)
    template = {
        "daskctl-scheduler": "rec-scheduler",
        "daskctl-worker": "rec-worker",
        "gateway-scheduler": "dask-worker",
        "gateway-worker": "dask-worker",
        "jobqueue": "dask-worker",
        "array": "vasp_relax",
        "plain": "gmx",
    }
    running, pending, detail = [], [], []
    for i in range(n):
        kind, user, number = kind_of(i), user_of(i), 100000 + i
        rec = template[kind]
        b = blocks[rec]
        for tag, value in (
            ("JB_job_number", number),
            ("JB_owner", user),
            ("JB_name", job_name(kind, i)),
        ):
            b = sub_tag(b, tag, value)
        if kind == "array":
            b = sub_tag(b, "tasks", i % 8 + 1)
        (pending if 'state="pending"' in b else running).append(b)
        if not kind.startswith(("array", "plain")):
            d = details[rec]
            d = re.sub(r"^(job_number:\s+)\S+", rf"\g<1>{number}", d, flags=re.M)
            d = re.sub(r"^(owner:\s+)\S+", rf"\g<1>{user}", d, flags=re.M)
            d = re.sub(r"^(job_name:\s+)\S+", rf"\g<1>{job_name(kind, i)}", d, flags=re.M)
            d = d.replace("/root/.daskctl/sge/rec", f"/home/{user}/.daskctl/sge/c{i}")
            d = d.replace("cluster=rec;", f"cluster=c{i};")
            detail.append(d)
    head = xml.split("  <queue_info>\n", 1)[0]
    out = (
        head
        + "  <queue_info>\n"
        + "".join(running)
        + "  </queue_info>\n  <job_info>\n"
        + "".join(pending)
        + "  </job_info>\n</job_info>\n"
    )
    files = {"qstat.xml": out, "qstat-j.txt": "".join("=" * 62 + "\n" + d for d in detail)}
    tools = {
        "qstat": 'case "$*" in\n  *-xml*) exec cat "$Q/qstat.xml" ;;\nesac\n'
        'exec cat "$Q/qstat-j.txt"',
        "qsub": "exit 1",
        "qdel": "exit 1",
    }
    return files, tools


def synth_pbs(n):
    text = read("pbs-slurm-22.05.8-wrapper-qstat-f.txt")
    blocks = {}
    for b in text.split("\n\n"):
        m = re.search(r"Job_Name = (\S+)", b)
        if m:
            blocks.setdefault(m.group(1), b.strip("\n") + "\n")
    template = {
        "daskctl-scheduler": "rep-scheduler",
        "daskctl-worker": "rep-worker",
        "gateway-scheduler": "dask-worker",
        "gateway-worker": "dask-worker",
        "jobqueue": "dask-worker",
        "array": "vasp_relax",
        "plain": "gmx",
    }
    out = []
    for i in range(n):
        kind, user = kind_of(i), user_of(i)
        b = blocks[template[kind]]
        b = re.sub(r"^Job Id:\t\S+", f"Job Id:\t{100000 + i}", b)
        b = re.sub(r"Job_Name = \S+", f"Job_Name = {job_name(kind, i)}", b)
        b = re.sub(r"Job_Owner = [^@]+@", f"Job_Owner = {user}@", b)
        if kind.startswith("daskctl"):
            # daskctl's marker, as PBS Pro and Torque print the `-v DASKCTL=...` it submits
            # with (the wrapper drops Variable_List)
            d = f"/home/{user}/.daskctl/pbs/c{i}"
            role = kind.split("-")[1]
            b += (
                f"\tVariable_List = PBS_O_HOME=/home/{user},PBS_O_WORKDIR={d},"
                f"DASKCTL=daskctl:v1;cluster=c{i};role={role};id=aff514af402b;dir={d}\n"
            )
        out.append(b)
    files = {"qstat-f.txt": "\n".join(out)}
    # the wrapper knows neither -F json nor -t: as it answers them
    tools = {
        "qstat": 'case "$*" in\n  *-F*|*-t*) echo "Unknown option: t" >&2; exit 2 ;;\nesac\n'
        'exec cat "$Q/qstat-f.txt"',
        "qsub": "exit 1",
        "qdel": "exit 1",
    }
    return files, tools


def synth_htcondor(n):
    ads = {a.get("JobBatchName", ""): a for a in json.loads(read("htcondor-standin-condor_q.json"))}
    template = {
        "daskctl-scheduler": "rec-scheduler",
        "daskctl-worker": "rec-worker",
        "gateway-scheduler": "gmx",
        "gateway-worker": "gmx",
        "jobqueue": "gmx",
        "array": "",
        "plain": "gmx",
    }
    out = []
    for i in range(n):
        kind, user = kind_of(i), user_of(i)
        ad = dict(ads[template[kind]])
        ad.update(ClusterId=100000 + i, ProcId=i % 8 if kind == "array" else 0, Owner=user)
        if kind != "array":
            ad["JobBatchName"] = job_name(kind, i)
        for k in ("Cmd", "Iwd", "Out", "Err", "DaskctlMarker"):
            if k in ad:
                ad[k] = ad[k].replace(
                    "/root/.daskctl/htcondor/rec", f"/home/{user}/.daskctl/htcondor/c{i}"
                )
                ad[k] = ad[k].replace("cluster=rec;", f"cluster=c{i};")
        if kind == "jobqueue":
            # dask-jobqueue's HTCondorCluster names its workers in the ad (htcondor.py)
            ad["DaskWorkerName"] = f"htcondor--{100000 + i}.0--"
        out.append(ad)
    files = {"condor_q.json": json.dumps(out, indent=2)}
    tools = {
        "condor_q": 'exec cat "$Q/condor_q.json"',
        "condor_history": "exit 0",
        "condor_submit": "exit 1",
        "condor_rm": "exit 1",
    }
    return files, tools


def synth_lsf(n):
    doc = json.loads(read("lsf-standin-bjobs.json"))
    recs = {}
    for r in doc["RECORDS"]:
        recs.setdefault(re.sub(r"\[\d+\]$", "", r["JOB_NAME"]), r)
    template = {
        "daskctl-scheduler": "rec-scheduler",
        "daskctl-worker": "rec-worker",
        "gateway-scheduler": "dask-worker",
        "gateway-worker": "dask-worker",
        "jobqueue": "dask-worker",
        "array": "vasp_relax",
        "plain": "gmx",
    }
    out = []
    for i in range(n):
        kind, user = kind_of(i), user_of(i)
        r = dict(recs[template[kind]])
        index = i % 8 + 1 if kind in ("array", "daskctl-worker") else 0
        name = job_name(kind, i)
        running = i % 2 == 0
        r.update(
            JOBID=str(100000 + i),
            JOBINDEX=str(index),
            USER=user,
            JOB_NAME=f"{name}[{index}]" if index else name,
            STAT="RUN" if running else "PEND",
            START_TIME=r["SUBMIT_TIME"] if running else "",
        )
        for k in ("JOB_DESCRIPTION", "OUTPUT_FILE", "SUB_CWD"):
            r[k] = r[k].replace("/root/.daskctl/lsf/rec", f"/home/{user}/.daskctl/lsf/c{i}")
            r[k] = (
                r[k]
                .replace("cluster=rec;", f"cluster=c{i};")
                .replace("/tmp/lsfrec", f"/home/{user}")
            )
        out.append(r)
    files = {"bjobs.json": json.dumps({"COMMAND": "bjobs", "JOBS": n, "RECORDS": out}, indent=2)}
    tools = {
        # bjobs -script: a dask-jobqueue batch script naming a closed loopback port
        "bjobs": 'case "$*" in\n  *-script*) printf \'#!/usr/bin/env bash\\n#BSUB -J dask-worker\\n'
        "python -m distributed.cli.dask_worker tcp://127.0.0.1:9 --name jq-x\\n' ;;\n"
        '  *) exec cat "$Q/bjobs.json" ;;\nesac',
        "bsub": "exit 1",
        "bkill": "exit 1",
    }
    return files, tools
