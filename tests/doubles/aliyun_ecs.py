"""A stateful double of the Alibaba Cloud ECS and VPC RPC APIs, for tests.

aliyunsdkcore (under footmark, alibaba.alicloud and our own aliyun_* modules) speaks plain
HTTP by default and honours HTTP_PROXY, so pointing HTTP_PROXY at this server sends every
ECS / VPC call here: a proxied request arrives with the absolute URL of the real endpoint,
and the Action, its parameters and the answer are those of the real RPC protocol (JSON
bodies, errors as {Code, Message, RequestId, HostId} with the HTTP status the API uses).

Controls, on the server's own address (not through the proxy):
  GET    /_mlbox/requests   the journal: [{action, params, access_key, status, code}] in order
                            (DescribeSnapshots also: seen = {snapshot id: status answered})
  DELETE /_mlbox/requests   forget the journal
  POST   /_mlbox/faults     [{action, code, message?, status?, match?: {param: value}, times?}]
                            or [{snapshot: "failed" | "progressing"}]: what a snapshot becomes
                            once its looks are spent (failed, or it never finishes), instead of
                            accomplished; the latest such fault wins
  DELETE /_mlbox/faults     no faults (a snapshot held "progressing" completes on its next look)
  POST   /_mlbox/reset      empty account, no faults, empty journal
  GET    /_mlbox/state      every resource held, by kind
  POST   /_mlbox/config     {"snapshot_polls": N}: a snapshot is "progressing" for N looks

Run: python tests/doubles/aliyun_ecs.py [--port 0]; prints "port=N" once it listens.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import hashlib
import itertools
import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REGIONS = {
    "cn-hangzhou": ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"],
    "cn-beijing": ["cn-beijing-g", "cn-beijing-h"],
    "cn-shanghai": ["cn-shanghai-l", "cn-shanghai-m"],
    "ap-southeast-1": ["ap-southeast-1a", "ap-southeast-1b"],
}
INSTANCE_TYPES = ["ecs.g7.large", "ecs.g7.xlarge", "ecs.c7.large", "ecs.gn6i-c4g1.xlarge"]
# Parameters that say nothing about the call itself (signature, client bookkeeping).
NOISE = {
    "Signature",
    "SignatureNonce",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureType",
    "AccessKeyId",
    "Timestamp",
    "Format",
    "Version",
    "Action",
    "SecurityToken",
}


class ApiError(Exception):
    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message or code, status


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def id_list(params: dict[str, str], key: str) -> list[str] | None:
    """List parameters arrive as JSON arrays ('["a","b"]'); None when absent."""
    raw = params.get(key)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = [x.strip(" \"'") for x in raw.strip("[]").split(",") if x.strip()]
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def tags_of(params: dict[str, str]) -> list[dict[str, str]]:
    out, n = [], 1
    while f"Tag.{n}.Key" in params:
        out.append({"TagKey": params[f"Tag.{n}.Key"], "TagValue": params.get(f"Tag.{n}.Value", "")})
        n += 1
    return out


def has_tags(resource: dict[str, Any], wanted: list[dict[str, str]]) -> bool:
    held = {t["TagKey"]: t["TagValue"] for t in resource["Tags"]["Tag"]}
    return all(held.get(t["TagKey"]) == t["TagValue"] for t in wanted)


def vpc_view(resource: dict[str, Any]) -> dict[str, Any]:
    """The VPC API spells tags Key / Value where ECS says TagKey / TagValue."""
    tags = [{"Key": t["TagKey"], "Value": t["TagValue"]} for t in resource["Tags"]["Tag"]]
    return {**resource, "Tags": {"Tag": tags}}


def page(items: list[dict[str, Any]], key: str, sub: str, params: dict[str, str]) -> dict:
    size = int(params.get("PageSize") or params.get("MaxResults") or 10)
    number = int(params.get("PageNumber") or 1)
    chunk = items[(number - 1) * size : number * size]
    return {
        "TotalCount": len(items),
        "PageNumber": number,
        "PageSize": size,
        key: {sub: chunk},
    }


class Ecs:
    """The account: resources by kind, and the actions that read and change them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        self.state: dict[str, dict[str, dict[str, Any]]] = {
            k: {} for k in ("vpc", "vsw", "sg", "kp", "disk", "snap", "inst")
        }
        self.journal: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        self.snapshot_polls = 1
        self.counter = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-dbl{next(self.counter):08d}"

    # ---- dispatch
    def handle(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        action = params.get("Action", "")
        with self.lock:
            entry = {
                "action": action,
                "params": {k: v for k, v in params.items() if k not in NOISE},
                "access_key": params.get("AccessKeyId", ""),  # the id, never the secret
            }
            self.journal.append(entry)
            try:
                self.check_fault(action, params)
                region = params.get("RegionId")
                if region and region not in REGIONS and action != "DescribeRegions":
                    raise ApiError(
                        "InvalidRegionId.NotFound", "The specified RegionId does not exist.", 404
                    )
                handler = getattr(self, "a_" + action, None)
                if handler is None:
                    raise ApiError(
                        "InvalidAction.NotFound", f"The double does not implement {action}.", 404
                    )
                status, body = 200, handler(params)
                if action == "DescribeSnapshots":  # what a waiter was told, for ordering checks
                    entry["seen"] = {
                        x["SnapshotId"]: x["Status"] for x in body["Snapshots"]["Snapshot"]
                    }
            except ApiError as e:
                status, body = (
                    e.status,
                    {"Code": e.code, "Message": e.message, "HostId": "ecs.aliyuncs.com"},
                )
            entry["status"], entry["code"] = status, body.get("Code", "")
        return status, {**body, "RequestId": str(uuid.uuid4()).upper()}

    def check_fault(self, action: str, params: dict[str, str]) -> None:
        for fault in self.faults:
            if fault.get("action") != action or fault.get("times", 1) == 0:
                continue
            if any(params.get(k) != str(v) for k, v in (fault.get("match") or {}).items()):
                continue
            if fault.get("times", -1) > 0:
                fault["times"] -= 1
            raise ApiError(fault["code"], fault.get("message", ""), int(fault.get("status", 403)))

    def snapshot_end(self) -> str:
        """What a snapshot becomes once its looks are spent: accomplished unless a fault says."""
        ends = [f["snapshot"] for f in self.faults if f.get("snapshot")]
        return ends[-1] if ends else "accomplished"

    def settle(self, snap: dict[str, Any]) -> None:
        """A progressing snapshot whose looks are spent ends as snapshot_end() says."""
        if snap["Status"] != "progressing" or snap["_polls"] > 0:
            return
        end = self.snapshot_end()
        if end == "accomplished":
            snap.update(Status="accomplished", Progress="100%")
        elif end == "failed":
            snap.update(Status="failed")

    def get(self, kind: str, key: str | None, code: str) -> dict[str, Any]:
        found = self.state[kind].get(key or "")
        if found is None:
            raise ApiError(code, f"The specified resource {key} does not exist.", 404)
        return found

    def zone(self, params: dict[str, str]) -> str:
        zone = params.get("ZoneId", "")
        if zone and zone not in REGIONS.get(params.get("RegionId", ""), []):
            raise ApiError("InvalidZoneId.NotFound", f"The zone {zone} does not exist.", 404)
        return zone

    # ---- regions and zones
    def a_DescribeRegions(self, p: dict[str, str]) -> dict:
        regions = [
            {
                "RegionId": r,
                "LocalName": r,
                "RegionEndpoint": f"ecs.{r}.aliyuncs.com",
                "Status": "available",
            }
            for r in REGIONS
        ]
        return {"Regions": {"Region": regions}}

    def a_DescribeZones(self, p: dict[str, str]) -> dict:
        zones = [
            {
                "ZoneId": z,
                "LocalName": z,
                "AvailableInstanceTypes": {"InstanceTypes": INSTANCE_TYPES},
                "AvailableDiskCategories": {"DiskCategories": ["cloud_essd", "cloud_efficiency"]},
            }
            for z in REGIONS[p["RegionId"]]
        ]
        return {"Zones": {"Zone": zones}}

    # ---- VPC and vSwitch (the VPC API, same protocol)
    def a_CreateVpc(self, p: dict[str, str]) -> dict:
        i = self.new_id("vpc")
        self.state["vpc"][i] = {
            "VpcId": i,
            "VpcName": p.get("VpcName", ""),
            "CidrBlock": p.get("CidrBlock", "172.16.0.0/12"),
            "Description": p.get("Description", ""),
            "RegionId": p["RegionId"],
            "Status": "Available",
            "IsDefault": False,
            "CreationTime": now(),
            "VSwitchIds": {"VSwitchId": []},
            "VRouterId": self.new_id("vrt"),
            "Tags": {"Tag": tags_of(p)},
        }
        return {"VpcId": i, "VRouterId": self.state["vpc"][i]["VRouterId"], "RouteTableId": ""}

    def a_DescribeVpcs(self, p: dict[str, str]) -> dict:
        ids = (p.get("VpcId") or "").split(",") if p.get("VpcId") else None
        vpcs = [
            v
            for v in self.state["vpc"].values()
            if (ids is None or v["VpcId"] in ids)
            and (not p.get("VpcName") or v["VpcName"] == p["VpcName"])
            and has_tags(v, tags_of(p))
        ]
        return page([vpc_view(v) for v in vpcs], "Vpcs", "Vpc", p)

    def a_DescribeVpcAttribute(self, p: dict[str, str]) -> dict:
        return vpc_view(self.get("vpc", p.get("VpcId"), "InvalidVpcId.NotFound"))

    def a_ModifyVpcAttribute(self, p: dict[str, str]) -> dict:
        vpc = self.get("vpc", p.get("VpcId"), "InvalidVpcId.NotFound")
        for key in ("VpcName", "Description"):
            if key in p:
                vpc[key] = p[key]
        return {}

    def a_DeleteVpc(self, p: dict[str, str]) -> dict:
        vpc = self.get("vpc", p.get("VpcId"), "InvalidVpcId.NotFound")
        if vpc["VSwitchIds"]["VSwitchId"]:
            raise ApiError("DependencyViolation.VSwitch", "The VPC still has vSwitches.")
        del self.state["vpc"][vpc["VpcId"]]
        return {}

    def a_CreateVSwitch(self, p: dict[str, str]) -> dict:
        vpc = self.get("vpc", p.get("VpcId"), "InvalidVpcId.NotFound")
        i = self.new_id("vsw")
        self.state["vsw"][i] = {
            "VSwitchId": i,
            "VSwitchName": p.get("VSwitchName", ""),
            "VpcId": vpc["VpcId"],
            "ZoneId": self.zone(p),
            "CidrBlock": p.get("CidrBlock", ""),
            "Description": p.get("Description", ""),
            "Status": "Available",
            "AvailableIpAddressCount": 250,
            "IsDefault": False,
            "CreationTime": now(),
            "Tags": {"Tag": tags_of(p)},
        }
        vpc["VSwitchIds"]["VSwitchId"].append(i)
        return {"VSwitchId": i}

    def a_DescribeVSwitches(self, p: dict[str, str]) -> dict:
        switches = [
            s
            for s in self.state["vsw"].values()
            if (not p.get("VpcId") or s["VpcId"] == p["VpcId"])
            and (not p.get("VSwitchId") or s["VSwitchId"] == p["VSwitchId"])
            and (not p.get("ZoneId") or s["ZoneId"] == p["ZoneId"])
            and (not p.get("VSwitchName") or s["VSwitchName"] == p["VSwitchName"])
            and has_tags(s, tags_of(p))
        ]
        return page([vpc_view(s) for s in switches], "VSwitches", "VSwitch", p)

    def a_DescribeVSwitchAttributes(self, p: dict[str, str]) -> dict:
        return vpc_view(self.get("vsw", p.get("VSwitchId"), "InvalidVSwitchId.NotFound"))

    def a_ModifyVSwitchAttribute(self, p: dict[str, str]) -> dict:
        vsw = self.get("vsw", p.get("VSwitchId"), "InvalidVSwitchId.NotFound")
        for key in ("VSwitchName", "Description"):
            if key in p:
                vsw[key] = p[key]
        return {}

    def a_DeleteVSwitch(self, p: dict[str, str]) -> dict:
        vsw = self.get("vsw", p.get("VSwitchId"), "InvalidVSwitchId.NotFound")
        if any(
            x["VpcAttributes"]["VSwitchId"] == vsw["VSwitchId"] for x in self.state["inst"].values()
        ):
            raise ApiError("DependencyViolation", "Instances still use the vSwitch.")
        self.state["vpc"][vsw["VpcId"]]["VSwitchIds"]["VSwitchId"].remove(vsw["VSwitchId"])
        del self.state["vsw"][vsw["VSwitchId"]]
        return {}

    # ---- security groups
    def a_CreateSecurityGroup(self, p: dict[str, str]) -> dict:
        i = self.new_id("sg")
        self.state["sg"][i] = {
            "SecurityGroupId": i,
            "SecurityGroupName": p.get("SecurityGroupName", ""),
            "Description": p.get("Description", ""),
            "VpcId": p.get("VpcId", ""),
            "CreationTime": now(),
            "SecurityGroupType": "normal",
            "Tags": {"Tag": tags_of(p)},
            "Permissions": [],
        }
        return {"SecurityGroupId": i}

    def public_sg(self, group: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in group.items() if k != "Permissions"}

    def a_DescribeSecurityGroups(self, p: dict[str, str]) -> dict:
        ids = id_list(p, "SecurityGroupIds")
        groups = [
            self.public_sg(g)
            for g in self.state["sg"].values()
            if (ids is None or g["SecurityGroupId"] in ids)
            and (not p.get("SecurityGroupName") or g["SecurityGroupName"] == p["SecurityGroupName"])
            and (not p.get("VpcId") or g["VpcId"] == p["VpcId"])
            and has_tags(g, tags_of(p))
        ]
        return page(groups, "SecurityGroups", "SecurityGroup", p)

    def a_DescribeSecurityGroupAttribute(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        direction = p.get("Direction", "all")
        perms = [
            r for r in group["Permissions"] if direction == "all" or r["Direction"] == direction
        ]
        return {
            **self.public_sg(group),
            "InnerAccessPolicy": "Accept",
            "Permissions": {"Permission": perms},
        }

    def a_ModifySecurityGroupAttribute(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        for key in ("SecurityGroupName", "Description"):
            if key in p:
                group[key] = p[key]
        return {}

    @staticmethod
    def rule(p: dict[str, str], direction: str) -> dict[str, str]:
        # The API answers protocols in upper case whatever was sent.
        return {
            "Direction": direction,
            "IpProtocol": p.get("IpProtocol", "").upper(),
            "PortRange": p.get("PortRange", ""),
            "SourceCidrIp": p.get("SourceCidrIp", ""),
            "DestCidrIp": p.get("DestCidrIp", ""),
            "Policy": p.get("Policy", "Accept"),
            "Priority": p.get("Priority", "1"),
            "NicType": p.get("NicType", "internet"),
            "Description": p.get("Description", ""),
        }

    @staticmethod
    def same_rule(a: dict[str, str], b: dict[str, str]) -> bool:
        keys = ("Direction", "IpProtocol", "PortRange", "SourceCidrIp", "DestCidrIp")
        return all(a[k] == b[k] for k in keys)

    def a_AuthorizeSecurityGroup(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        new = self.rule(p, "ingress")
        if not any(self.same_rule(new, r) for r in group["Permissions"]):
            group["Permissions"].append(new)
        return {}

    def a_AuthorizeSecurityGroupEgress(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        new = self.rule(p, "egress")
        if not any(self.same_rule(new, r) for r in group["Permissions"]):
            group["Permissions"].append(new)
        return {}

    def a_RevokeSecurityGroup(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        gone = self.rule(p, "ingress")
        group["Permissions"] = [r for r in group["Permissions"] if not self.same_rule(gone, r)]
        return {}

    def a_DeleteSecurityGroup(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        if any(
            group["SecurityGroupId"] in x["SecurityGroupIds"]["SecurityGroupId"]
            for x in self.state["inst"].values()
        ):
            raise ApiError("DependencyViolation", "Instances are still in the security group.")
        del self.state["sg"][group["SecurityGroupId"]]
        return {}

    # ---- key pairs
    def a_ImportKeyPair(self, p: dict[str, str]) -> dict:
        name = p.get("KeyPairName", "")
        if name in self.state["kp"]:
            raise ApiError("KeyPair.AlreadyExist", "The key pair already exists.")
        body = p.get("PublicKeyBody", "")
        if not body.startswith(("ssh-", "ecdsa-")):
            raise ApiError("InvalidPublicKeyBody.Malformed", "The public key is not valid.")
        try:  # ECS: the MD5 of the key blob, in hex
            fingerprint = hashlib.md5(base64.b64decode(body.split()[1], validate=True)).hexdigest()
        except (IndexError, ValueError):
            raise ApiError(
                "InvalidPublicKeyBody.Malformed", "The public key is not valid."
            ) from None
        self.state["kp"][name] = {
            "KeyPairName": name,
            "KeyPairFingerPrint": fingerprint,
            "CreationTime": now(),
            "ResourceGroupId": "",
            "Tags": {"Tag": tags_of(p)},
        }
        return {"KeyPairName": name, "KeyPairFingerPrint": fingerprint}

    def a_DescribeKeyPairs(self, p: dict[str, str]) -> dict:
        pairs = [
            k
            for k in self.state["kp"].values()
            if (not p.get("KeyPairName") or k["KeyPairName"] == p["KeyPairName"])
            and has_tags(k, tags_of(p))
        ]
        return page(pairs, "KeyPairs", "KeyPair", p)

    def a_DeleteKeyPairs(self, p: dict[str, str]) -> dict:
        for name in id_list(p, "KeyPairNames") or []:
            self.state["kp"].pop(name, None)
        return {}

    def a_AttachKeyPair(self, p: dict[str, str]) -> dict:
        for i in id_list(p, "InstanceIds") or []:
            self.get("inst", i, "InvalidInstanceId.NotFound")["KeyPairName"] = p.get(
                "KeyPairName", ""
            )
        return {"TotalCount": "1", "FailCount": "0", "Results": {"Result": []}}

    # ---- disks
    def a_CreateDisk(self, p: dict[str, str]) -> dict:
        size = int(p.get("Size") or 0)
        source = p.get("SnapshotId", "")
        if source:
            snap = self.get("snap", source, "InvalidSnapshotId.NotFound")
            if snap["Status"] != "accomplished":
                raise ApiError("IncorrectSnapshotStatus", "The snapshot is not accomplished.")
            size = max(size, int(snap["SourceDiskSize"]))
        if size < 20:
            raise ApiError(
                "InvalidSize.ValueNotSupported", "The disk size must be at least 20 GiB."
            )
        i = self.new_id("d")
        self.state["disk"][i] = {
            "DiskId": i,
            "DiskName": p.get("DiskName", ""),
            "Description": p.get("Description", ""),
            "ZoneId": self.zone(p),
            "RegionId": p["RegionId"],
            "Category": p.get("DiskCategory", "cloud_efficiency"),
            "Size": size,
            "SourceSnapshotId": source,
            "Status": "Available",
            "Type": "data",
            "InstanceId": "",
            "Device": "",
            "DeleteWithInstance": False,
            "Portable": True,
            "Encrypted": truthy(p.get("Encrypted", "false")),
            "CreationTime": now(),
            "AttachedTime": "",
            "DetachedTime": "",
            "SerialNumber": uuid.uuid4().hex[:20],
            "Tags": {"Tag": tags_of(p)},
        }
        return {"DiskId": i}

    def a_DescribeDisks(self, p: dict[str, str]) -> dict:
        ids = id_list(p, "DiskIds")
        disks = [
            d
            for d in self.state["disk"].values()
            if (ids is None or d["DiskId"] in ids)
            and (not p.get("DiskName") or d["DiskName"] == p["DiskName"])
            and (not p.get("InstanceId") or d["InstanceId"] == p["InstanceId"])
            and (not p.get("ZoneId") or d["ZoneId"] == p["ZoneId"])
            and (not p.get("DiskType") or p["DiskType"] == "all" or d["Type"] == p["DiskType"])
            and (not p.get("Status") or d["Status"] == p["Status"])
            and has_tags(d, tags_of(p))
        ]
        return page(disks, "Disks", "Disk", p)

    def a_AttachDisk(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        inst = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        if disk["Status"] != "Available":
            raise ApiError("IncorrectDiskStatus", "The disk is in use.", 403)
        if disk["ZoneId"] != inst["ZoneId"]:
            raise ApiError(
                "InvalidDiskId.NotInSameZone",
                "The disk and the instance are in different zones.",
                403,
            )
        used = [d for d in self.state["disk"].values() if d["InstanceId"] == inst["InstanceId"]]
        disk.update(
            Status="In_use",
            InstanceId=inst["InstanceId"],
            Device="/dev/xvd" + "abcdefghij"[len(used)],
            AttachedTime=now(),
            DeleteWithInstance=truthy(p.get("DeleteWithInstance", "false")),
        )
        return {}

    def a_DetachDisk(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        if disk["Status"] != "In_use":
            raise ApiError("IncorrectDiskStatus", "The disk is not attached.", 403)
        disk.update(Status="Available", InstanceId="", Device="", DetachedTime=now())
        return {}

    def a_ModifyDiskAttribute(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        for key in ("DiskName", "Description"):
            if key in p:
                disk[key] = p[key]
        if "DeleteWithInstance" in p:
            disk["DeleteWithInstance"] = truthy(p["DeleteWithInstance"])
        return {}

    def a_DeleteDisk(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        if disk["Status"] != "Available":
            raise ApiError("IncorrectDiskStatus", "The disk is in use.", 403)
        del self.state["disk"][disk["DiskId"]]
        return {}

    # ---- snapshots
    def a_CreateSnapshot(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        i = self.new_id("s")
        self.state["snap"][i] = {
            "SnapshotId": i,
            "SnapshotName": p.get("SnapshotName", ""),
            "Description": p.get("Description", ""),
            "SourceDiskId": disk["DiskId"],
            "SourceDiskSize": str(disk["Size"]),
            "SourceDiskType": disk["Type"],
            "Status": "progressing",
            "Progress": "0%",
            "CreationTime": now(),
            "Usage": "none",
            "Tags": {"Tag": tags_of(p)},
            "_polls": self.snapshot_polls,
        }
        self.settle(self.state["snap"][i])
        return {"SnapshotId": i}

    def a_DescribeSnapshots(self, p: dict[str, str]) -> dict:
        ids = id_list(p, "SnapshotIds")
        found = [
            s
            for s in self.state["snap"].values()
            if (ids is None or s["SnapshotId"] in ids)
            and (not p.get("DiskId") or s["SourceDiskId"] == p["DiskId"])
            and (not p.get("SnapshotName") or s["SnapshotName"] == p["SnapshotName"])
            and (not p.get("Status") or p["Status"] == "all" or s["Status"] == p["Status"])
            and has_tags(s, tags_of(p))
        ]
        for snap in found:  # a snapshot ends after being looked at snapshot_polls times
            if snap["Status"] == "progressing":
                snap["_polls"] = max(snap["_polls"] - 1, 0)
                self.settle(snap)
        view = [{k: v for k, v in s.items() if not k.startswith("_")} for s in found]
        return page(view, "Snapshots", "Snapshot", p)

    def a_DeleteSnapshot(self, p: dict[str, str]) -> dict:
        snap = self.get("snap", p.get("SnapshotId"), "InvalidSnapshotId.NotFound")
        if any(
            d["SourceSnapshotId"] == snap["SnapshotId"] for d in self.state["disk"].values()
        ) and not truthy(p.get("Force", "false")):
            raise ApiError(
                "SnapshotCreatedDisk", "A disk was created from the snapshot; use Force.", 403
            )
        del self.state["snap"][snap["SnapshotId"]]
        return {}

    # ---- instances
    def a_DescribeAvailableResource(self, p: dict[str, str]) -> dict:
        zones = [
            {"ZoneId": z, "Status": "Available", "StatusCategory": "WithStock"}
            for z in REGIONS[p["RegionId"]]
        ]
        return {"AvailableZones": {"AvailableZone": zones}}

    def a_DescribeInstanceTypes(self, p: dict[str, str]) -> dict:
        types = [
            {"InstanceTypeId": t, "CpuCoreCount": 2, "MemorySize": 8.0} for t in INSTANCE_TYPES
        ]
        return {"InstanceTypes": {"InstanceType": types}}

    def a_RunInstances(self, p: dict[str, str]) -> dict:
        if p.get("InstanceType") not in INSTANCE_TYPES:
            raise ApiError("InvalidInstanceType.NotFound", "The instance type does not exist.", 404)
        group = p.get("SecurityGroupId")
        self.get("sg", group, "InvalidSecurityGroupId.NotFound")
        if p.get("KeyPairName"):
            self.get("kp", p["KeyPairName"], "InvalidKeyPairName.NotFound")
        vsw = (
            self.get("vsw", p.get("VSwitchId"), "InvalidVSwitchId.NotFound")
            if p.get("VSwitchId")
            else None
        )
        zone = vsw["ZoneId"] if vsw else self.zone(p) or REGIONS[p["RegionId"]][0]
        strategy = p.get("SpotStrategy", "NoSpot")
        if strategy == "SpotWithPriceLimit" and not p.get("SpotPriceLimit"):
            raise ApiError(
                "InvalidSpotPriceLimit.LowerThanPublicPrice", "A price limit is required."
            )
        ids = []
        for _instance in range(int(p.get("Amount") or 1)):
            i = self.new_id("i")
            n = len(self.state["inst"]) + 10
            bandwidth = int(p.get("InternetMaxBandwidthOut") or 0)
            self.state["inst"][i] = {
                "InstanceId": i,
                "InstanceName": p.get("InstanceName", i),
                "HostName": p.get("HostName", i),
                "Description": p.get("Description", ""),
                "Status": "Running",
                "ZoneId": zone,
                "RegionId": p["RegionId"],
                "InstanceType": p["InstanceType"],
                "ImageId": p.get("ImageId", ""),
                "KeyPairName": p.get("KeyPairName", ""),
                "InstanceChargeType": p.get("InstanceChargeType", "PostPaid"),
                "SpotStrategy": strategy,
                "SpotPriceLimit": float(p.get("SpotPriceLimit") or 0),
                "SpotInterruptionBehavior": "Terminate",
                "InternetChargeType": p.get("InternetChargeType", "PayByTraffic"),
                "InternetMaxBandwidthOut": bandwidth,
                "InternetMaxBandwidthIn": 200,
                "SecurityGroupIds": {"SecurityGroupId": [group]},
                "PublicIpAddress": {"IpAddress": [f"198.51.100.{n}"] if bandwidth > 0 else []},
                "InnerIpAddress": {"IpAddress": []},
                "EipAddress": {"IpAddress": "", "AllocationId": "", "InternetChargeType": ""},
                "VpcAttributes": {
                    "VpcId": vsw["VpcId"] if vsw else "",
                    "VSwitchId": vsw["VSwitchId"] if vsw else "",
                    "PrivateIpAddress": {"IpAddress": [f"10.0.0.{n}"]},
                    "NatIpAddress": "",
                },
                "NetworkInterfaces": {"NetworkInterface": []},
                "OperationLocks": {"LockReason": []},
                "Tags": {"Tag": tags_of(p)},
                "CreationTime": now(),
                "OSName": "Ubuntu 22.04 64 bit",
                "OSType": "linux",
                "Cpu": 2,
                "Memory": 8192,
                "IoOptimized": True,
                "UserData": p.get("UserData", ""),
            }
            root = self.new_id("d")
            self.state["disk"][root] = {
                "DiskId": root,
                "DiskName": "",
                "Description": "",
                "ZoneId": zone,
                "RegionId": p["RegionId"],
                "Category": p.get("SystemDisk.Category", "cloud_efficiency"),
                "Size": int(p.get("SystemDisk.Size") or 40),
                "SourceSnapshotId": "",
                "Status": "In_use",
                "Type": "system",
                "InstanceId": i,
                "Device": "/dev/xvda",
                "DeleteWithInstance": True,
                "Portable": False,
                "Encrypted": False,
                "CreationTime": now(),
                "AttachedTime": now(),
                "DetachedTime": "",
                "SerialNumber": uuid.uuid4().hex[:20],
                "Tags": {"Tag": []},
            }
            ids.append(i)
        return {"InstanceIdSets": {"InstanceIdSet": ids}, "TradePrice": 0.1}

    def a_DescribeInstances(self, p: dict[str, str]) -> dict:
        ids = id_list(p, "InstanceIds")
        found = [
            {k: v for k, v in x.items() if k != "UserData"}
            for x in self.state["inst"].values()
            if (ids is None or x["InstanceId"] in ids)
            and (not p.get("InstanceName") or x["InstanceName"] == p["InstanceName"])
            and (not p.get("ZoneId") or x["ZoneId"] == p["ZoneId"])
            and (not p.get("Status") or x["Status"] == p["Status"])
            and has_tags(x, tags_of(p))
        ]
        return page(found, "Instances", "Instance", p)

    def a_DescribeInstanceAttribute(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        return {k: v for k, v in x.items() if k != "UserData"}

    def a_DescribeUserData(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        return {"InstanceId": x["InstanceId"], "RegionId": x["RegionId"], "UserData": x["UserData"]}

    def a_ModifyInstanceAttribute(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        for key in ("InstanceName", "Description", "HostName"):
            if p.get(key):
                x[key] = p[key]
        return {}

    def a_StopInstance(self, p: dict[str, str]) -> dict:
        self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")["Status"] = "Stopped"
        return {}

    def a_StartInstance(self, p: dict[str, str]) -> dict:
        self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")["Status"] = "Running"
        return {}

    def a_DeleteInstance(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        if x["Status"] != "Stopped" and not truthy(p.get("Force", "false")):
            raise ApiError("IncorrectInstanceStatus", "The instance must be stopped first.", 403)
        for disk in list(self.state["disk"].values()):
            if disk["InstanceId"] == x["InstanceId"]:
                if disk["DeleteWithInstance"]:
                    del self.state["disk"][disk["DiskId"]]
                else:
                    disk.update(Status="Available", InstanceId="", Device="", DetachedTime=now())
        del self.state["inst"][x["InstanceId"]]
        return {}

    def a_DeleteInstances(self, p: dict[str, str]) -> dict:
        for i in id_list(p, "InstanceId") or []:
            self.a_DeleteInstance({**p, "InstanceId": i})
        return {}

    def a_JoinSecurityGroup(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        if p["SecurityGroupId"] not in x["SecurityGroupIds"]["SecurityGroupId"]:
            x["SecurityGroupIds"]["SecurityGroupId"].append(p["SecurityGroupId"])
        return {}

    def a_LeaveSecurityGroup(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        groups = x["SecurityGroupIds"]["SecurityGroupId"]
        if p.get("SecurityGroupId") in groups:
            groups.remove(p["SecurityGroupId"])
        return {}

    def a_AllocatePublicIpAddress(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        if not x["PublicIpAddress"]["IpAddress"]:
            x["PublicIpAddress"]["IpAddress"] = [f"198.51.100.{200 + len(self.state['inst'])}"]
        return {"IpAddress": x["PublicIpAddress"]["IpAddress"][0]}

    # ---- tags
    def resource(self, resource_id: str | None) -> dict[str, Any] | None:
        for kind in ("inst", "disk", "sg", "snap", "vpc", "vsw", "kp"):
            if resource_id in self.state[kind]:
                return self.state[kind][resource_id]
        return None

    def resource_ids(self, p: dict[str, str]) -> list[str]:
        out, n = [], 1
        while f"ResourceId.{n}" in p:
            out.append(p[f"ResourceId.{n}"])
            n += 1
        return out

    def a_ListTagResources(self, p: dict[str, str]) -> dict:
        found = []
        for rid in self.resource_ids(p):
            res = self.resource(rid)
            for tag in res["Tags"]["Tag"] if res else []:
                found.append({"ResourceId": rid, "ResourceType": p.get("ResourceType", ""), **tag})
        return {"TagResources": {"TagResource": found}, "NextToken": ""}

    def a_TagResources(self, p: dict[str, str]) -> dict:
        for rid in self.resource_ids(p):
            res = self.resource(rid)
            if res is None:
                raise ApiError("InvalidResourceId.NotFound", f"{rid} does not exist.", 404)
            for tag in tags_of(p):
                res["Tags"]["Tag"] = [
                    t for t in res["Tags"]["Tag"] if t["TagKey"] != tag["TagKey"]
                ] + [tag]
        return {}

    def a_UntagResources(self, p: dict[str, str]) -> dict:
        keys = [v for k, v in p.items() if k.startswith("TagKey.")]
        for rid in self.resource_ids(p):
            res = self.resource(rid)
            if res is not None:
                res["Tags"]["Tag"] = [t for t in res["Tags"]["Tag"] if t["TagKey"] not in keys]
        return {}

    def a_DescribeTags(self, p: dict[str, str]) -> dict:
        res = self.resource(p.get("ResourceId"))
        tags = [
            {"TagKey": t["TagKey"], "TagValue": t["TagValue"]}
            for t in (res["Tags"]["Tag"] if res else [])
        ]
        return {"Tags": {"Tag": tags}, "TotalCount": len(tags), "PageNumber": 1, "PageSize": 50}

    def a_AddTags(self, p: dict[str, str]) -> dict:
        res = self.get(
            {"instance": "inst", "disk": "disk", "snapshot": "snap", "securitygroup": "sg"}.get(
                p.get("ResourceType", ""), "inst"
            ),
            p.get("ResourceId"),
            "InvalidResourceId.NotFound",
        )
        for tag in tags_of(p):
            res["Tags"]["Tag"] = [t for t in res["Tags"]["Tag"] if t["TagKey"] != tag["TagKey"]] + [
                tag
            ]
        return {}

    # ---- controls
    def snapshot_of_state(self) -> dict[str, list[str]]:
        return {kind: sorted(items) for kind, items in self.state.items()}


ECS = Ecs()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def control(self, path: str, body: bytes) -> None:
        method = self.command
        with ECS.lock:
            if path == "/_mlbox/requests" and method == "GET":
                return self.send(200, ECS.journal)
            if path == "/_mlbox/requests" and method == "DELETE":
                ECS.journal = []
                return self.send(200, {})
            if path == "/_mlbox/faults" and method == "POST":
                faults = json.loads(body or b"[]")
                ECS.faults.extend(faults if isinstance(faults, list) else [faults])
                return self.send(200, ECS.faults)
            if path == "/_mlbox/faults" and method == "DELETE":
                ECS.faults = []
                return self.send(200, {})
            if path == "/_mlbox/reset" and method == "POST":
                ECS.reset()
                return self.send(200, {})
            if path == "/_mlbox/state" and method == "GET":
                return self.send(200, ECS.state)
            if path == "/_mlbox/config" and method == "POST":
                ECS.snapshot_polls = int(
                    json.loads(body or b"{}").get("snapshot_polls", ECS.snapshot_polls)
                )
                return self.send(200, {})
        return self.send(404, {"error": f"no control {method} {path}"})

    def handle_any(self) -> None:
        url = urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/_mlbox/"):
            return self.control(url.path, body)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if body:
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        status, answer = ECS.handle(params)
        return self.send(status, answer)

    do_GET = do_POST = do_DELETE = handle_any

    def log_message(self, *args: Any) -> None:
        pass


def serve(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = serve(args.host, args.port)
    print(f"port={server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
