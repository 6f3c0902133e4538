"""What the AWS tests do to moto's EC2 directly (boto3, as dask-cloudprovider would), and what
they read back to check daskctl's calls: one operation per run, JSON on stdout.

Environment: AWS_ENDPOINT_URL (moto on 127.0.0.1), test credentials, AWS_REGION.
"""
import base64
import json
import os
import sys
import urllib.request

import boto3


def ec2(region=None):
    return boto3.client("ec2", region_name=region or os.environ.get("AWS_REGION", "us-east-1"))


def instance(client, iid):
    return client.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]


def root_volume(c, i):
    root = i.get("RootDeviceName")
    vol = next((m["Ebs"]["VolumeId"] for m in i.get("BlockDeviceMappings", [])
                if m.get("DeviceName") == root and "Ebs" in m), None)
    if not vol:
        return None
    v = c.describe_volumes(VolumeIds=[vol])["Volumes"][0]
    return {"size": v["Size"], "type": v["VolumeType"]}


def main(op, *args):
    if op == "reset":
        req = urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()
        return {}
    if op == "cloudprovider":
        # dask_cloudprovider/aws/ec2.py, EC2Instance.create_vm: a 40 GB gp3 root volume, one
        # network interface asking for a public address, TagSpecifications with the default
        # instance tags {"createdBy": "dask-cloudprovider"}; then configure_vm adds Name and
        # "Dask Cluster" with CreateTags. VMCluster names dask-<uuid>-scheduler /
        # dask-<uuid>-worker-<id>.
        region, uuid, workers = args[0], args[1], int(args[2])
        c = ec2(region)
        subnet = c.describe_subnets()["Subnets"][0]
        group = c.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]},
                                                     {"Name": "vpc-id", "Values": [subnet["VpcId"]]}])["SecurityGroups"][0]["GroupId"]
        out = {}
        roles = ["scheduler"] + [f"worker-{i:08x}" for i in range(workers)]
        for role in roles:
            name = f"dask-{uuid}-{role}"
            data = f"#cloud-config\nruncmd:\n - docker run daskdev/dask dask {role.split('-')[0]} --name {name}\n"
            r = c.run_instances(
                BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "VirtualName": "sda1",
                                      "Ebs": {"DeleteOnTermination": True, "VolumeSize": 40,
                                              "VolumeType": "gp3", "Encrypted": False}}],
                ImageId="ami-12c6146b", InstanceType="t3.small", MinCount=1, MaxCount=1,
                UserData=data, InstanceInitiatedShutdownBehavior="terminate",
                NetworkInterfaces=[{"AssociatePublicIpAddress": True, "DeleteOnTermination": True,
                                    "Description": "public", "DeviceIndex": 0, "Groups": [group],
                                    "SubnetId": subnet["SubnetId"]}],
                TagSpecifications=[{"ResourceType": "instance", "Tags": [
                    {"Key": "createdBy", "Value": "dask-cloudprovider"},
                ]}],
            )
            iid = r["Instances"][0]["InstanceId"]
            c.create_tags(Resources=[iid], Tags=[{"Key": "Name", "Value": name},
                                                 {"Key": "Dask Cluster", "Value": uuid}])
            out[role] = iid
        return out
    if op == "plain":
        # an instance with no Dask markers at all
        r = ec2().run_instances(ImageId="ami-12c6146b", InstanceType="t3.small", MinCount=1, MaxCount=1)
        return r["Instances"][0]["InstanceId"]
    if op == "describe":
        c = ec2(args[1] if len(args) > 1 else None)
        i = instance(c, args[0])
        ud = c.describe_instance_attribute(InstanceId=args[0], Attribute="userData")
        value = ud.get("UserData", {}).get("Value")
        return {
            "state": i["State"]["Name"],
            "type": i["InstanceType"],
            "ami": i["ImageId"],
            "subnet": i.get("SubnetId"),
            "vpc": i.get("VpcId"),
            "groups": sorted(g["GroupId"] for g in i.get("SecurityGroups", [])),
            "key": i.get("KeyName"),
            "spot": i.get("InstanceLifecycle") == "spot",
            "private_ip": i.get("PrivateIpAddress"),
            "public_ip": i.get("PublicIpAddress"),
            "tags": {t["Key"]: t["Value"] for t in i.get("Tags", [])},
            "user_data": base64.b64decode(value).decode() if value else None,
            "root_volume": root_volume(c, i),
        }
    if op in ("terminate", "stop"):
        c = ec2()
        if op == "terminate":
            c.terminate_instances(InstanceIds=list(args))
        else:
            c.stop_instances(InstanceIds=list(args))
        return {}
    if op == "groups":
        c = ec2()
        return [
            {"id": g["GroupId"], "name": g["GroupName"], "tags": {t["Key"]: t["Value"] for t in g.get("Tags", [])}}
            for g in c.describe_security_groups()["SecurityGroups"]
            if g["GroupName"] != "default"
        ]
    if op == "lock":
        # the reconcile lock another daskctl would hold: name owner expires(RFC 3339) vpc
        name, owner, expires, vpc = args
        g = ec2().create_security_group(
            GroupName=f"daskctl-lock-{owner}-{name}",
            Description="held by another daskctl",
            VpcId=vpc,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [
                {"Key": "daskctl:lock", "Value": name},
                {"Key": "daskctl:owner", "Value": owner},
                {"Key": "daskctl:expires", "Value": expires},
            ]}],
        )
        return {"id": g["GroupId"]}
    if op == "unlock":
        ec2().delete_security_group(GroupId=args[0])
        return {}
    if op == "set-owner":
        # another user's cluster in the same account: its instances and group carry their name
        cluster, owner = args
        c = ec2()
        ids = [i["InstanceId"] for r in c.describe_instances(Filters=[
            {"Name": "tag:daskctl:cluster", "Values": [cluster]}])["Reservations"] for i in r["Instances"]]
        ids += [g["GroupId"] for g in c.describe_security_groups(Filters=[
            {"Name": "tag:daskctl:cluster", "Values": [cluster]}])["SecurityGroups"]]
        c.create_tags(Resources=ids, Tags=[{"Key": "daskctl:owner", "Value": owner}])
        return ids
    if op == "live":
        # ids of every instance not terminated, in all the given regions
        ids = []
        for region in args or [None]:
            for r in ec2(region).describe_instances()["Reservations"]:
                ids += [i["InstanceId"] for i in r["Instances"] if i["State"]["Name"] != "terminated"]
        return ids
    raise SystemExit(f"unknown op {op}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
