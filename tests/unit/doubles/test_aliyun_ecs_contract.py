"""The ECS/VPC double against the vendor's SDK models: every action it serves answers what
the SDK's <Action>ResponseBody holds unchanged, and requests outside the SDK's
<Action>Request models are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aliyun_account import IMAGE, REGION, VPC_ACTIONS, ZONE, Account, public_key
from aliyun_contract import answer_problem, request_problem
from aliyun_ecs import Ecs


def ready(a: Account) -> dict[str, str]:
    """An instance with a data disk attached, a snapshot of it, a free disk: ids by kind."""
    instance = a.instance()
    disk = a.disk()
    a.attached(instance, disk)
    snap = a.call("CreateSnapshot", DiskId=disk, SnapshotName="wb-snap")["SnapshotId"]
    a.call("DescribeSnapshots", SnapshotIds=f'["{snap}"]')
    inst = a.ecs.state["inst"][instance]
    return {
        "free": a.disk(),
        "inst": instance,
        "disk": disk,
        "snap": snap,
        "sg": inst["SecurityGroupIds"]["SecurityGroupId"][0],
        "vsw": inst["VpcAttributes"]["VSwitchId"],
        "vpc": inst["VpcAttributes"]["VpcId"],
    }


# Every action the double serves, with parameters a client sends (ids from ready()).
CALLS: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "DescribeRegions": lambda r: {},
    "DescribeZones": lambda r: {},
    "DescribeImages": lambda r: {
        "ImageOwnerAlias": "system",
        "OSType": "linux",
        "Architecture": "x86_64",
        "InstanceType": "ecs.g7.large",
    },
    "DescribeAvailableResource": lambda r: {
        "DestinationResource": "InstanceType",
        "InstanceType": "ecs.gn6i-c4g1.xlarge",
        "InstanceChargeType": "PostPaid",
        "SpotStrategy": "SpotAsPriceGo",
    },
    "DescribePrice": lambda r: {
        "ResourceType": "instance",
        "InstanceType": "ecs.g7.large",
        "SpotStrategy": "SpotAsPriceGo",
        "ZoneId": ZONE,
    },
    "DescribeSpotPriceHistory": lambda r: {
        "NetworkType": "vpc",
        "InstanceType": "ecs.gn6i-c4g1.xlarge",
        "OSType": "linux",
    },
    "DescribeInstanceTypes": lambda r: {},
    "CreateVpc": lambda r: {"VpcName": "workbench-x", "CidrBlock": "172.16.0.0/16"},
    "DescribeVpcs": lambda r: {"VpcId": r["vpc"]},
    "DescribeVpcAttribute": lambda r: {"VpcId": r["vpc"]},
    "ModifyVpcAttribute": lambda r: {"VpcId": r["vpc"], "Description": "changed"},
    "CreateVSwitch": lambda r: {"VpcId": r["vpc"], "ZoneId": ZONE, "CidrBlock": "172.16.2.0/24"},
    "DescribeVSwitches": lambda r: {"VpcId": r["vpc"]},
    "DescribeVSwitchAttributes": lambda r: {"VSwitchId": r["vsw"]},
    "ModifyVSwitchAttribute": lambda r: {"VSwitchId": r["vsw"], "Description": "changed"},
    "CreateSecurityGroup": lambda r: {"VpcId": r["vpc"], "SecurityGroupName": "workbench-y"},
    "DescribeSecurityGroups": lambda r: {"VpcId": r["vpc"]},
    "DescribeSecurityGroupAttribute": lambda r: {"SecurityGroupId": r["sg"]},
    "ModifySecurityGroupAttribute": lambda r: {"SecurityGroupId": r["sg"], "Description": "x2"},
    "AuthorizeSecurityGroup": lambda r: {
        "SecurityGroupId": r["sg"],
        "IpProtocol": "tcp",
        "PortRange": "22/22",
        "SourceCidrIp": "203.0.113.7/32",
    },
    "AuthorizeSecurityGroupEgress": lambda r: {
        "SecurityGroupId": r["sg"],
        "IpProtocol": "tcp",
        "PortRange": "443/443",
        "DestCidrIp": "0.0.0.0/0",
    },
    "RevokeSecurityGroup": lambda r: {
        "SecurityGroupId": r["sg"],
        "IpProtocol": "tcp",
        "PortRange": "22/22",
        "SourceCidrIp": "203.0.113.7/32",
    },
    "ImportKeyPair": lambda r: {"KeyPairName": "workbench-z", "PublicKeyBody": public_key()},
    "DescribeKeyPairs": lambda r: {"KeyPairName": "workbench-t"},
    "CreateDisk": lambda r: {"ZoneId": ZONE, "DiskCategory": "cloud_essd", "Size": 40},
    "AttachDisk": lambda r: {"DiskId": r["free"], "InstanceId": r["inst"]},
    "DescribeDisks": lambda r: {"DiskIds": f'["{r["disk"]}"]'},
    "ModifyDiskAttribute": lambda r: {"DiskId": r["disk"], "DiskName": "workbench-data"},
    "CreateSnapshot": lambda r: {"DiskId": r["disk"], "SnapshotName": "wb-snap-2"},
    "DescribeSnapshots": lambda r: {"DiskId": r["disk"]},
    "RunInstances": lambda r: {
        "InstanceType": "ecs.g7.large",
        "ImageId": IMAGE,
        "SecurityGroupId": r["sg"],
        "VSwitchId": r["vsw"],
        "SystemDisk.Category": "cloud_essd",
        "SpotStrategy": "SpotAsPriceGo",
    },
    "DescribeInstances": lambda r: {"InstanceIds": f'["{r["inst"]}"]'},
    "DescribeInstanceAttribute": lambda r: {"InstanceId": r["inst"]},
    "DescribeUserData": lambda r: {"InstanceId": r["inst"]},
    "ModifyInstanceAttribute": lambda r: {"InstanceId": r["inst"], "Description": "changed"},
    "JoinSecurityGroup": lambda r: {"InstanceId": r["inst"], "SecurityGroupId": r["sg"]},
    "AllocatePublicIpAddress": lambda r: {"InstanceId": r["inst"]},
    "ListTagResources": lambda r: {"ResourceType": "disk", "ResourceId.1": r["disk"]},
    "TagResources": lambda r: {
        "ResourceType": "disk",
        "ResourceId.1": r["disk"],
        "Tag.1.Key": "k",
        "Tag.1.Value": "v",
    },
    "UntagResources": lambda r: {
        "ResourceType": "disk",
        "ResourceId.1": r["disk"],
        "TagKey.1": "k",
    },
    "DescribeTags": lambda r: {"ResourceType": "disk", "ResourceId": r["disk"]},
    "AddTags": lambda r: {
        "ResourceType": "disk",
        "ResourceId": r["disk"],
        "Tag.1.Key": "k",
        "Tag.1.Value": "v",
    },
    "LeaveSecurityGroup": lambda r: {"InstanceId": r["inst"], "SecurityGroupId": r["sg"]},
    "DetachDisk": lambda r: {"DiskId": r["disk"], "InstanceId": r["inst"]},
    "StopInstance": lambda r: {"InstanceId": r["inst"]},
    "StartInstance": lambda r: {"InstanceId": r["inst"]},
    "DeleteSnapshot": lambda r: {"SnapshotId": r["snap"]},
    "DeleteInstance": lambda r: {"InstanceId": r["inst"], "Force": "true"},
    "DeleteInstances": lambda r: {"InstanceId.1": r["inst"], "Force": "true"},
    "DeleteDisk": lambda r: {"DiskId": r["disk"]},
    "DeleteKeyPairs": lambda r: {"KeyPairNames": '["workbench-t"]'},
    "DeleteSecurityGroup": lambda r: {"SecurityGroupId": r["sg"]},
    "DeleteVSwitch": lambda r: {"VSwitchId": r["vsw"]},
    "DeleteVpc": lambda r: {"VpcId": r["vpc"]},
}
# What must hold before the call (the rest needs only ready()).
BEFORE: dict[str, Callable[[Account, dict[str, str]], None]] = {
    "StartInstance": lambda a, r: (
        a.call("StopInstance", InstanceId=r["inst"]),
        a.settle("inst", r["inst"], "Stopped"),
    ),
    "DeleteDisk": lambda a, r: (
        a.call("DetachDisk", DiskId=r["disk"], InstanceId=r["inst"]),
        a.settle("disk", r["disk"], "Available"),
    ),
    "DeleteSecurityGroup": lambda a, r: a.call(
        "DeleteInstance", InstanceId=r["inst"], Force="true"
    ),
    "DeleteVSwitch": lambda a, r: a.call("DeleteInstance", InstanceId=r["inst"], Force="true"),
    "DeleteVpc": lambda a, r: (
        a.call("DeleteInstance", InstanceId=r["inst"], Force="true"),
        a.call("DeleteVSwitch", VSwitchId=r["vsw"]),
    ),
}


def served() -> set[str]:
    return {name[2:] for name in dir(Ecs) if name.startswith("a_")}


def test_every_served_action_is_exercised() -> None:
    assert served() == set(CALLS), served() ^ set(CALLS)


@pytest.mark.parametrize("action", sorted(CALLS))
def test_the_answer_round_trips_through_the_vendor_model(action: str) -> None:
    """<Action>ResponseBody().from_map(answer).to_map() == answer, types as the model's"""
    a = Account()
    ids = ready(a)
    if action in BEFORE:
        BEFORE[action](a, ids)
    params = CALLS[action](ids)
    status, body = a.answer(action, **params)
    assert status == 200, body
    product = "vpc" if action in VPC_ACTIONS else "ecs"
    assert answer_problem(product, action, body) is None
    sent = {"RegionId": REGION, **{k: str(v) for k, v in params.items()}}
    assert request_problem(product, action, sent) is None


def test_an_unknown_parameter_is_refused() -> None:
    a = Account()
    refused = a.refused("CreateDisk", ZoneId=ZONE, Size=20, DiskType="data")
    assert (refused.status, refused.code) == (400, "InvalidParameter")
    assert "DiskType" in refused.message
    # Nested and listed names are the model's flattened ones.
    refused = a.refused("RunInstances", **{"SystemDisk.Kind": "x", "InstanceType": "ecs.g7.large"})
    assert refused.code == "InvalidParameter" and "SystemDisk.Kind" in refused.message


def test_a_value_of_the_wrong_type_is_refused() -> None:
    refused = Account().refused("CreateDisk", ZoneId=ZONE, Size="twenty")
    assert (refused.code, refused.status) == ("InvalidParameter", 400)
    assert '"Size"' in refused.message


def test_a_missing_required_parameter_is_refused() -> None:
    refused = Account().refused("ImportKeyPair", KeyPairName="workbench-t")
    assert (refused.code, refused.status) == ("MissingParameter", 400)
    assert "PublicKeyBody" in refused.message


def test_an_action_the_api_lacks_is_refused() -> None:
    refused = Account().refused("CreateVolume", ZoneId=ZONE)
    assert (refused.code, refused.status) == ("InvalidAction.NotFound", 404)


def test_a_vpc_action_is_checked_against_the_vpc_model() -> None:
    a = Account()
    # VpcName is a CreateVpc parameter of VPC 2016-04-28; Size is not.
    assert a.call("CreateVpc", VpcName="workbench-v")["VpcId"]
    refused = a.refused("CreateVpc", VpcName="workbench-w", Size=20)
    assert refused.code == "InvalidParameter"


def test_an_answer_the_model_does_not_hold_is_named() -> None:
    """the checker itself: an invented field, a missing list, a mistyped value"""
    body = {"RequestId": "r", "DiskId": "d-1", "Invented": 1}
    assert "Invented" in (answer_problem("ecs", "CreateDisk", body) or "")
    disks = {"RequestId": "r", "Disks": {"Disk": [{"DiskId": "d", "Size": "20"}]}}
    assert "Size" in (answer_problem("ecs", "DescribeDisks", disks) or "")
    ok = {"RequestId": "r", "Disks": {"Disk": [{"DiskId": "d", "Size": 20}]}}
    assert answer_problem("ecs", "DescribeDisks", ok) is None
