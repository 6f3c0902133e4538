"""The Python way, for bench/aws_bench.py to time as a command, like daskctl.

list REGIONS PAGE: page through DescribeInstances (same tag and state filters as daskctl) in
  each region, group instances into clusters by tag, print one name per line.
scale REGION N NAME: what dask-cloudprovider's EC2Cluster.scale(N) does for each new worker
  (dask_cloudprovider/aws/ec2.py, EC2Instance.create_vm): find the default VPC, its subnets and
  the security group, RunInstances of one instance tagged at launch, then DescribeInstances
  until it has an address; 16 workers at a time.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import boto3

FILTERS = [
    {"Name": "tag-key", "Values": ["daskctl:cluster", "Dask Cluster"]},
    {
        "Name": "instance-state-name",
        "Values": ["pending", "running", "stopping", "stopped", "shutting-down"],
    },
]


def list_clusters(regions, page):
    names = set()
    for region in regions.split(","):
        ec2 = boto3.client("ec2", region_name=region)
        for p in ec2.get_paginator("describe_instances").paginate(
            Filters=FILTERS, PaginationConfig={"PageSize": int(page)}
        ):
            for r in p["Reservations"]:
                for i in r["Instances"]:
                    tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                    names.add("aws/" + tags.get("daskctl:cluster", tags.get("Dask Cluster", "")))
    print("\n".join(sorted(names)))


def scale(region, n, name):
    ec2 = boto3.client("ec2", region_name=region)

    def one(k):
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0][
            "VpcId"
        ]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
        groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
            "SecurityGroups"
        ]
        r = ec2.run_instances(
            ImageId="ami-12c6146b",
            InstanceType="t3.small",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnets[0]["SubnetId"],
            SecurityGroupIds=[groups[0]["GroupId"]],
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": "Name", "Value": f"dask-{name}-worker-{k:08x}"},
                        {"Key": "Dask Cluster", "Value": name},
                        {"Key": "createdBy", "Value": "dask-cloudprovider"},
                    ],
                }
            ],
        )
        iid = r["Instances"][0]["InstanceId"]
        while True:
            i = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
            if i.get("PublicIpAddress") or i.get("PrivateIpAddress"):
                return iid

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(one, range(int(n))))
    print(len(ids))


if __name__ == "__main__":
    if sys.argv[1] == "list":
        list_clusters(sys.argv[2], sys.argv[3])
    else:
        scale(sys.argv[2], sys.argv[3], sys.argv[4])
