"""An in-process ECS/VPC double and RPC calls to it, as aliyunsdkcore would send them."""

from __future__ import annotations

import base64
from typing import Any

from aliyun_ecs import Ecs

REGION = "cn-hangzhou"
ZONE = "cn-hangzhou-h"
IMAGE = "ubuntu_24_04_x64_20G_alibase_20250113.vhd"
VPC_ACTIONS = {
    "CreateVpc",
    "DescribeVpcs",
    "DescribeVpcAttribute",
    "ModifyVpcAttribute",
    "DeleteVpc",
    "CreateVSwitch",
    "DescribeVSwitches",
    "DescribeVSwitchAttributes",
    "ModifyVSwitchAttribute",
    "DeleteVSwitch",
}


class Refused(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('Code')}: {body.get('Message')}")
        self.status, self.code, self.message = status, body.get("Code"), body.get("Message")


def encode(params: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        if key == "Tags":
            for n, (k, v) in enumerate(value.items(), 1):
                out[f"Tag.{n}.Key"], out[f"Tag.{n}.Value"] = k, v
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def public_key(kind: str = "ssh-rsa") -> str:
    name = kind.encode()
    blob = len(name).to_bytes(4, "big") + name + b"\x00\x00\x00\x03\x01\x00\x01" + b"k" * 64
    return f"{kind} {base64.b64encode(blob).decode()} test"


class Account:
    """One empty account; call() answers like the API or raises Refused."""

    def __init__(self, **settings: int) -> None:
        self.ecs = Ecs()
        self.ecs.settings.update(settings)

    def answer(self, action: str, **params: Any) -> tuple[int, dict[str, Any]]:
        version = "2016-04-28" if action in VPC_ACTIONS else "2014-05-26"
        query = {"Action": action, "Version": version, "RegionId": REGION, "Format": "JSON"}
        return self.ecs.handle({**query, **encode(params)})

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        status, body = self.answer(action, **params)
        if status != 200:
            raise Refused(status, body)
        return body

    def refused(self, action: str, **params: Any) -> Refused:
        status, body = self.answer(action, **params)
        assert status != 200, (action, body)
        return Refused(status, body)

    # ---- a workbench's pieces, settled (each Describe is one read)
    def settle(self, kind: str, key: str, status: str) -> dict[str, Any]:
        action, listed, sub, ids = {
            "inst": ("DescribeInstances", "Instances", "Instance", "InstanceIds"),
            "disk": ("DescribeDisks", "Disks", "Disk", "DiskIds"),
        }[kind]
        seen = []
        for _attempt in range(20):
            [item] = self.call(action, **{ids: f'["{key}"]'})[listed][sub]
            seen.append(item["Status"])
            if item["Status"] == status:
                return item
        raise AssertionError(f"{key} never became {status}: {seen}")

    def network(self) -> tuple[str, str]:
        vpc = self.call("CreateVpc", VpcName="workbench-t", CidrBlock="172.16.0.0/16")["VpcId"]
        vsw = self.call("CreateVSwitch", VpcId=vpc, ZoneId=ZONE, CidrBlock="172.16.1.0/24")[
            "VSwitchId"
        ]
        group = self.call("CreateSecurityGroup", VpcId=vpc, SecurityGroupName="workbench-t")
        return vsw, group["SecurityGroupId"]

    def instance(self, settle: bool = True, **params: Any) -> str:
        vsw, group = self.network()
        if "workbench-t" not in self.ecs.state["kp"]:
            self.call("ImportKeyPair", KeyPairName="workbench-t", PublicKeyBody=public_key())
        launch = {
            "InstanceType": "ecs.g7.large",
            "ImageId": IMAGE,
            "SecurityGroupId": group,
            "VSwitchId": vsw,
            "KeyPairName": "workbench-t",
            "SystemDisk.Category": "cloud_essd",
            "InternetMaxBandwidthOut": 10,
            **params,
        }
        [i] = self.call("RunInstances", **launch)["InstanceIdSets"]["InstanceIdSet"]
        if settle:
            self.settle("inst", i, "Running")
        return i

    def disk(self, settle: bool = True, **params: Any) -> str:
        create = {"ZoneId": ZONE, "DiskCategory": "cloud_essd", "Size": 20, **params}
        disk = self.call("CreateDisk", **create)["DiskId"]
        if settle:
            self.settle("disk", disk, "Available")
        return disk

    def attached(self, instance: str, disk: str) -> None:
        self.call("AttachDisk", DiskId=disk, InstanceId=instance)
        self.settle("disk", disk, "In_use")
