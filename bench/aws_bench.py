"""daskctl's AWS backend against moto, beside boto3 doing the same work as the Python tools do.

list:  500 instances (100 clusters of 1 scheduler + 4 workers) in us-east-1 and eu-west-1;
       `daskctl list -b aws --region us-east-1,eu-west-1` with pages of 100, against a boto3
       CLI script that pages through DescribeInstances with the same filters and groups by tag.
scale: a cluster with 0 workers to 100: `daskctl scale`, against what dask-cloudprovider's
       EC2Cluster.scale(100) does per worker (look up VPC, subnets and group, RunInstances of
       one, DescribeInstances until it has an address), 16 at a time.
API calls are the requests in moto's log during one run; times are medians of --runs.
"""

import argparse
import os
import pwd
import statistics
import subprocess
import sys
import time
import urllib.request

import boto3

REGIONS = ["us-east-1", "eu-west-1"]
AMI = "ami-12c6146b"
HERE = os.path.dirname(os.path.abspath(__file__))


def calls(log):
    with open(log) as f:
        return sum(1 for line in f if '"POST / HTTP' in line)


def timed(argv, env, log):
    before = calls(log)
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed ({p.returncode}): {p.stderr.decode()}")
    return dt, calls(log) - before, p.stdout.decode()


def seed(owner):
    for region in REGIONS:
        ec2 = boto3.client("ec2", region_name=region)
        for i in range(50):
            name = f"bench-{region}-{i}"
            for role, count in (("scheduler", 1), ("worker", 4)):
                tags = [
                    {"Key": "daskctl:cluster", "Value": name},
                    {"Key": "daskctl:role", "Value": role},
                    {"Key": "daskctl:owner", "Value": owner},
                    {"Key": "Name", "Value": f"daskctl-{name}-{role}"},
                ]
                ec2.run_instances(
                    ImageId=AMI,
                    InstanceType="t3.small",
                    MinCount=count,
                    MaxCount=count,
                    TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
                )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--daskctl", required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=a.endpoint,
        AWS_EC2_METADATA_DISABLED="true",
        NO_COLOR="1",
        DASKCTL_CONFIG="/nonexistent/daskctl-bench.toml",
        DASKCTL_BACKENDS__AWS__PAGE_SIZE="100",
        DASKCTL_PROBE_LOOPBACK_ONLY="1",
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(a.endpoint + "/moto-api/", timeout=1).read()
            break
        except Exception:
            if time.time() > deadline:
                sys.exit("bench: moto did not start")
            time.sleep(0.1)
    owner = pwd.getpwuid(os.getuid()).pw_name
    seed(owner)
    daskctl = os.path.abspath(a.daskctl)
    py = sys.executable
    ours = [daskctl, "list", "-b", "aws", "--region", ",".join(REGIONS), "--no-probe", "-o", "name"]
    theirs = [py, os.path.join(HERE, "aws_baseline.py"), "list", ",".join(REGIONS), "100"]

    def series(argv):
        timed(argv, env, a.log)
        runs = [timed(argv, env, a.log) for _ in range(a.runs)]
        n = len(runs[-1][2].split())
        if n != 100:
            sys.exit(f"bench: {argv[0]} listed {n} clusters, not 100:\n{runs[-1][2]}")
        return statistics.median(r[0] for r in runs), runs[-1][1]

    ours_t, ours_calls = series(ours)
    theirs_t, theirs_calls = series(theirs)
    print(f"list, 500 instances in 2 regions, pages of 100 (median of {a.runs}):")
    print(f"  daskctl list     {ours_t * 1000:8.1f} ms   {ours_calls:3d} API calls")
    print(f"  boto3 script     {theirs_t * 1000:8.1f} ms   {theirs_calls:3d} API calls")
    print(f"  ratio            {theirs_t / ours_t:8.1f}x")

    up_ours, up_theirs = [], []
    for i in range(max(1, a.runs // 2)):
        name = f"bench-scale-{i}"
        timed(
            [
                daskctl,
                "create",
                "aws",
                "--name",
                name,
                "--workers",
                "0",
                "--ami",
                AMI,
                "--no-probe",
            ],
            env,
            a.log,
        )
        t, c, _ = timed([daskctl, "scale", f"aws/{name}", "100", "--no-probe"], env, a.log)
        up_ours.append((t, c))
        t, c, _ = timed(
            [py, os.path.join(HERE, "aws_baseline.py"), "scale", "us-east-1", "100", f"cp-{i}"],
            env,
            a.log,
        )
        up_theirs.append((t, c))
    ot = statistics.median(t for t, _ in up_ours)
    tt = statistics.median(t for t, _ in up_theirs)
    print(f"scale 0 -> 100 workers (median of {len(up_ours)}):")
    print(f"  daskctl scale             {ot:6.2f} s   {up_ours[-1][1]:4d} API calls")
    print(f"  cloudprovider-style boto3 {tt:6.2f} s   {up_theirs[-1][1]:4d} API calls")
    print(f"  ratio                     {tt / ot:6.1f}x")


if __name__ == "__main__":
    main()
