#!/usr/bin/env python3
"""After a smoke test: delete what the smoke workbench left, then list what remains.

    cleanup.py CLOUD NAME REGION

Only resources tagged for NAME (the smoke test's random workbench name) are touched: AWS and
Aliyun snapshots tagged mlbox:workbench=NAME; on Azure the two resource groups the role makes
(mlbox-NAME, mlbox-NAME-data), and only when they carry the tag mlbox-workbench=NAME. Prints
one JSON object: {"deleted": [...kinds and counts...], "left": {kind: count}}: counts only,
no id. Runs with the Python that has the cloud's SDK (Azure: .venv-azure).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def aws(name: str, region: str) -> dict[str, Any]:
    import boto3

    ec2 = boto3.client("ec2", region_name=region)
    tagged = [{"Name": "tag:mlbox:workbench", "Values": [name]}]
    snapshots = ec2.describe_snapshots(OwnerIds=["self"], Filters=tagged)["Snapshots"]
    for snapshot in snapshots:
        ec2.delete_snapshot(SnapshotId=snapshot["SnapshotId"])
    instances = [
        i
        for r in ec2.describe_instances(Filters=tagged)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] not in ("terminated", "shutting-down")
    ]
    left = {
        "instances": len(instances),
        "volumes": len(ec2.describe_volumes(Filters=tagged)["Volumes"]),
        "snapshots": len(ec2.describe_snapshots(OwnerIds=["self"], Filters=tagged)["Snapshots"]),
        "security_groups": len(ec2.describe_security_groups(Filters=tagged)["SecurityGroups"]),
        "key_pairs": len(ec2.describe_key_pairs(Filters=tagged)["KeyPairs"]),
        "launch_templates": len(ec2.describe_launch_templates(Filters=tagged)["LaunchTemplates"]),
    }
    return {"deleted": {"snapshots": len(snapshots)}, "left": left}


def aliyun(name: str, region: str) -> dict[str, Any]:
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkecs.request.v20140526 import (
        DeleteSnapshotRequest,
        DescribeDisksRequest,
        DescribeInstancesRequest,
        DescribeSnapshotsRequest,
    )

    key = os.environ.get("ALICLOUD_ACCESS_KEY") or os.environ.get("ALIYUN_ACCESS_KEY_ID")
    secret = os.environ.get("ALICLOUD_SECRET_KEY") or os.environ.get("ALIYUN_ACCESS_KEY_SECRET")
    client = AcsClient(key, secret, region)
    tag = [{"Key": "mlbox:workbench", "Value": name}]

    def ask(request: Any, field: str, item: str) -> list[dict[str, Any]]:
        request.set_Tags(tag)
        request.set_PageSize(100)
        answer = json.loads(client.do_action_with_exception(request))
        return answer.get(field, {}).get(item, [])

    snapshots = ask(DescribeSnapshotsRequest.DescribeSnapshotsRequest(), "Snapshots", "Snapshot")
    for snapshot in snapshots:
        request = DeleteSnapshotRequest.DeleteSnapshotRequest()
        request.set_SnapshotId(snapshot["SnapshotId"])
        request.set_Force(True)
        client.do_action_with_exception(request)
    left = {
        "instances": len(
            ask(DescribeInstancesRequest.DescribeInstancesRequest(), "Instances", "Instance")
        ),
        "disks": len(ask(DescribeDisksRequest.DescribeDisksRequest(), "Disks", "Disk")),
        "snapshots": len(
            ask(DescribeSnapshotsRequest.DescribeSnapshotsRequest(), "Snapshots", "Snapshot")
        ),
    }
    return {"deleted": {"snapshots": len(snapshots)}, "left": left}


def azure(name: str, region: str) -> dict[str, Any]:
    from azure.identity import ClientSecretCredential, DefaultAzureCredential
    from azure.mgmt.resource import ResourceManagementClient

    env = os.environ
    if env.get("AZURE_CLIENT_ID") and env.get("AZURE_SECRET") and env.get("AZURE_TENANT"):
        credential: Any = ClientSecretCredential(
            env["AZURE_TENANT"], env["AZURE_CLIENT_ID"], env["AZURE_SECRET"]
        )
    else:
        credential = DefaultAzureCredential()
    client = ResourceManagementClient(credential, env["AZURE_SUBSCRIPTION_ID"])
    deleted = 0
    for group in (f"mlbox-{name}", f"mlbox-{name}-data"):
        if not client.resource_groups.check_existence(group):
            continue
        tags = client.resource_groups.get(group).tags or {}
        if tags.get("mlbox-workbench") != name:
            continue
        client.resource_groups.begin_delete(group).result()
        deleted += 1
    left = sum(
        1 for g in client.resource_groups.list() if (g.tags or {}).get("mlbox-workbench") == name
    )
    return {"deleted": {"resource_groups": deleted}, "left": {"resource_groups": left}}


def main(argv: list[str]) -> int:
    cloud, name, region = argv
    result = {"aws": aws, "aliyun": aliyun, "azure": azure}[cloud](name, region)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
