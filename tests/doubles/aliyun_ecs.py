"""A stateful double of the Alibaba Cloud ECS and VPC RPC APIs, for tests.

aliyunsdkcore (under footmark, alibaba.alicloud and our own aliyun_* modules) speaks plain
HTTP by default and honours HTTP_PROXY, so pointing HTTP_PROXY at this server sends every
ECS / VPC call here: a proxied request arrives with the absolute URL of the real endpoint,
and the Action, its parameters and the answer are those of the real RPC protocol (JSON
bodies, errors as {Code, Message, RequestId, HostId} with the HTTP status the API uses).

Faithful to the vendor's contract (see aliyun_contract.py and aliyun_rules.py):
- every request is checked against the SDK's <Action>Request model of its API version (the
  Version parameter: 2014-05-26 ECS, 2016-04-28 VPC): an unknown parameter, a mistyped value
  or a missing required one is refused (InvalidParameter / MissingParameter), as is an action
  the API does not have;
- every answer must come back unchanged from the SDK's <Action>ResponseBody model, or the
  double answers 500 with what is wrong (a bug of the double, never hidden);
- the documented rules (aliyun_rules.RULES: key types, names, disk categories per instance
  family, sizes per category and performance level, snapshot, attach, detach and delete
  preconditions, quotas) refuse with the API's own code, status and message;
- asynchronous by default: instances go Pending -> Starting -> Running, disks Creating ->
  Available, attachments Attaching -> In_use, detachments Detaching -> Available, snapshots
  progressing -> accomplished, each step taking `polls` reads of the resource (a Describe*
  that returns it), never wall-clock time; {"polls": 0} makes everything instant, for a test
  that says why.

- prices (DescribePrice for instance and disk, DescribeSpotPriceHistory, and
  DescribeAvailableResource's per-zone stock) come from the double's PRICE_BOOK (test data,
  not Alibaba's prices), shaped and checked like every other answer; a client that reaches
  the double directly (MLBOX_ALIYUN_ECS_ENDPOINT, scripts/mlbox_cli/pricing.py) is answered
  as one that comes through the proxy.

Controls, on the server's own address (not through the proxy):
  GET    /_mlbox/requests   the journal: [{action, params, access_key, at, status, code}] in
                            order (at: the double's monotonic clock, in seconds)
                            (DescribeSnapshots also: seen = {snapshot id: status answered})
  DELETE /_mlbox/requests   forget the journal
  POST   /_mlbox/faults     [{action, code, message?, status?, match?: {param: value}, times?}]
                            (code from aliyun_rules.FAULTS, else the control answers 400)
                            or [{snapshot: "failed" | "progressing"}]: what a snapshot becomes
                            once its looks are spent (failed, or it never finishes), instead of
                            accomplished; the latest such fault wins
  DELETE /_mlbox/faults     no faults (a snapshot held "progressing" completes on its next look)
  POST   /_mlbox/reset      empty account, no faults, empty journal, default settings
  GET    /_mlbox/state      every resource held, by kind
  POST   /_mlbox/config     {"snapshot_polls": N}: a snapshot is "progressing" for N looks;
                            {"polls": N}: reads per step of the other transitions (default 1)

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
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aliyun_contract import VERSIONS, answer_problem, request_problem
from aliyun_rules import (
    DATA_DISK_SIZES,
    DEFAULT_DATA_CATEGORY,
    DEFAULT_PERFORMANCE_LEVEL,
    DEFAULT_SYSTEM_CATEGORY,
    DEFAULT_SYSTEM_SIZE,
    FAMILY_DISKS,
    FAULTS,
    INSTANCE_TYPES,
    KEY_TYPES,
    NAME_RULES,
    PERFORMANCE_LEVELS,
    QUOTAS,
    RULES,
    SYSTEM_DISK_SIZES,
    name_ok,
)

REGIONS = {
    "cn-hangzhou": ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"],
    "cn-beijing": ["cn-beijing-g", "cn-beijing-h"],
    "cn-shanghai": ["cn-shanghai-l", "cn-shanghai-m"],
    "ap-southeast-1": ["ap-southeast-1a", "ap-southeast-1b"],
}
# The public (system) images of every region, as DescribeImages lists them: Ubuntu LTS and
# non-LTS releases, x86_64 and arm64, older and newer builds, and other distributions.
IMAGES = [
    # (ImageId, OSNameEn, Platform, Architecture, Size GiB, CreationTime)
    (
        "ubuntu_20_04_x64_20G_alibase_20240508.vhd",
        "Ubuntu  20.04 64 bit",
        "Ubuntu",
        "x86_64",
        20,
        "2024-05-08T09:00:00Z",
    ),
    (
        "ubuntu_22_04_x64_20G_alibase_20240130.vhd",
        "Ubuntu  22.04 64 bit",
        "Ubuntu",
        "x86_64",
        20,
        "2024-01-30T09:00:00Z",
    ),
    (
        "ubuntu_22_04_x64_20G_alibase_20240926.vhd",
        "Ubuntu  22.04 64 bit",
        "Ubuntu",
        "x86_64",
        20,
        "2024-09-26T09:00:00Z",
    ),
    (
        "ubuntu_24_04_x64_20G_alibase_20240812.vhd",
        "Ubuntu  24.04 64 bit",
        "Ubuntu",
        "x86_64",
        20,
        "2024-08-12T09:00:00Z",
    ),
    (
        "ubuntu_24_04_x64_20G_alibase_20250113.vhd",
        "Ubuntu  24.04 64 bit",
        "Ubuntu",
        "x86_64",
        20,
        "2025-01-13T09:00:00Z",
    ),
    (
        "ubuntu_24_04_arm64_20G_alibase_20250113.vhd",
        "Ubuntu  24.04 64 bit ARM",
        "Ubuntu",
        "arm64",
        20,
        "2025-01-13T10:00:00Z",
    ),
    (
        "ubuntu_24_10_x64_20G_alibase_20250210.vhd",
        "Ubuntu  24.10 64 bit",
        "Ubuntu",
        "x86_64",
        20,
        "2025-02-10T09:00:00Z",
    ),
    (
        "debian_12_6_x64_20G_alibase_20240823.vhd",
        "Debian  12.6 64 bit",
        "Debian",
        "x86_64",
        20,
        "2024-08-23T09:00:00Z",
    ),
    (
        "aliyun_3_x64_20G_alibase_20250117.vhd",
        "Alibaba Cloud Linux  3.2104 LTS 64 bit",
        "Aliyun",
        "x86_64",
        40,
        "2025-01-17T09:00:00Z",
    ),
]
# Parameters that say nothing about the call itself (signature, client bookkeeping): left
# out of the journal.
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
    "on",  # footmark's stray copy of Action (aliyun_contract.TOLERATED)
}
# The double's price book (test data, not the vendor's prices): pay-as-you-go CNY per hour
# by instance type; spot is that times a factor per zone (the zone's place in REGIONS), so
# zones differ and the cheapest is known; disks CNY per GiB-month by category. Stock: every
# zone WithStock except those in NO_STOCK (DescribeAvailableResource's StatusCategory).
PRICE_BOOK = {
    "ecs.g7.large": 0.69,
    "ecs.g7.xlarge": 1.38,
    "ecs.c7.large": 0.56,
    "ecs.r7.large": 0.91,
    "ecs.g6.large": 0.63,
    "ecs.gn6i-c4g1.xlarge": 8.9,
}
SPOT_FACTORS = (0.3, 0.2, 0.25)
DISK_PRICE_BOOK = {"cloud_essd": 1.0, "cloud_ssd": 1.0, "cloud_efficiency": 0.35, "cloud": 0.3}
NO_STOCK = {"cn-beijing-h"}
SETTLED = {"inst": "Running", "disk": None}
DEFAULTS = {"snapshot_polls": 1, "polls": 1}


class ApiError(Exception):
    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message or code, status


def refuse(rule: str, detail: str = "") -> ApiError:
    """The API's answer when a documented rule (aliyun_rules.RULES) fires."""
    row = RULES[rule]
    return ApiError(row.code, row.message + (f" ({detail})" if detail else ""), row.status)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def id_list(params: dict[str, str], key: str) -> list[str] | None:
    """List parameters arrive as JSON arrays ('["a","b"]') or as Key.1, Key.2; None if absent."""
    raw = params.get(key)
    if not raw:
        numbered, n = [], 1
        while f"{key}.{n}" in params:
            numbered.append(params[f"{key}.{n}"])
            n += 1
        return numbered or None
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


def tag_filter(params: dict[str, str]) -> list[dict[str, str | None]]:
    """Tag.N.Key / Tag.N.Value of a Describe*: a key without a value matches any value
    (sdk:ListTagResourcesRequestTag: "If you specify only Tag.N.Key, all resources
    associated with the tag key are returned")."""
    out: list[dict[str, str | None]] = []
    n = 1
    while f"Tag.{n}.Key" in params:
        out.append({"TagKey": params[f"Tag.{n}.Key"], "TagValue": params.get(f"Tag.{n}.Value")})
        n += 1
    return out


def has_tags(resource: dict[str, Any], wanted: list[dict[str, str | None]]) -> bool:
    held = {t["TagKey"]: t["TagValue"] for t in resource["Tags"]["Tag"]}
    return all(t["TagKey"] in held and t["TagValue"] in (None, held[t["TagKey"]]) for t in wanted)


def public(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as the API shows it: without the double's own bookkeeping (_keys)."""
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def vpc_view(resource: dict[str, Any]) -> dict[str, Any]:
    """The VPC API spells tags Key / Value where ECS says TagKey / TagValue."""
    tags = [{"Key": t["TagKey"], "Value": t["TagValue"]} for t in resource["Tags"]["Tag"]]
    return {**public(resource), "Tags": {"Tag": tags}}


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


def family(instance_type: str) -> str:
    return INSTANCE_TYPES[instance_type][0]


def check_name(params: dict[str, str], key: str) -> None:
    if key in params and not name_ok(key, params[key]):
        raise refuse(NAME_RULES[key], f"{key}={params[key]!r}")


def size_range(table: dict, category: str, level: str) -> tuple[int, int] | None:
    return table.get((category, level if category == "cloud_essd" else ""))


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
        self.settings = dict(DEFAULTS)
        self.counter = itertools.count(1)

    @property
    def snapshot_polls(self) -> int:
        return self.settings["snapshot_polls"]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-dbl{next(self.counter):08d}"

    # ---- dispatch
    def handle(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        action = params.get("Action", "")
        product = VERSIONS.get(params.get("Version", ""), "")
        with self.lock:
            entry = {
                "action": action,
                "params": {k: v for k, v in params.items() if k not in NOISE},
                "access_key": params.get("AccessKeyId", ""),  # the id, never the secret
                "at": round(time.monotonic(), 3),
            }
            self.journal.append(entry)
            try:
                if not product:
                    raise ApiError(
                        "InvalidVersion",
                        f"Specified parameter Version {params.get('Version')!r} is not valid.",
                    )
                problem = request_problem(product, action, params)
                if problem:
                    raise ApiError(*problem, 404 if problem[0].startswith("InvalidAction") else 400)
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
                body = {**body, "RequestId": str(uuid.uuid4()).upper()}
                wrong = answer_problem(product, action, body)
                if wrong:  # the double's own bug: loud, never an answer the SDK would not hold
                    raise ApiError("InternalError", f"double answer to {action}: {wrong}", 500)
                if action == "DescribeSnapshots":  # what a waiter was told, for ordering checks
                    entry["seen"] = {
                        x["SnapshotId"]: x["Status"] for x in body["Snapshots"]["Snapshot"]
                    }
            except ApiError as e:
                status, body = (
                    e.status,
                    {
                        "Code": e.code,
                        "Message": e.message,
                        "HostId": f"{product or 'ecs'}.aliyuncs.com",
                        "RequestId": str(uuid.uuid4()).upper(),
                    },
                )
            entry["status"], entry["code"] = status, body.get("Code", "")
        return status, body

    def check_fault(self, action: str, params: dict[str, str]) -> None:
        for fault in self.faults:
            if fault.get("action") != action or fault.get("times", 1) == 0:
                continue
            if any(params.get(k) != str(v) for k, v in (fault.get("match") or {}).items()):
                continue
            if fault.get("times", -1) > 0:
                fault["times"] -= 1
            known = FAULTS[fault["code"]]
            raise ApiError(
                fault["code"],
                fault.get("message") or known.message,
                int(fault.get("status") or known.status),
            )

    def add_faults(self, faults: list[dict[str, Any]]) -> None:
        for fault in faults:
            if "snapshot" not in fault and fault.get("code") not in FAULTS:
                raise ValueError(
                    f"{fault.get('code')!r} is in no error table the double knows"
                    " (aliyun_rules.FAULTS)"
                )
        self.faults.extend(faults)

    # ---- transitions: each step takes `polls` reads of the resource
    def begin(self, res: dict[str, Any], steps: list[str], done: Any = None) -> None:
        """res shows steps[0] now, then each next step after `polls` reads; done() at the end."""
        polls = self.settings["polls"]
        res["Status"] = steps[0]
        res["_steps"], res["_left"], res["_done"] = steps[1:], polls, done
        if polls <= 0:
            while res["_steps"]:
                res["Status"] = res["_steps"].pop(0)
            self.finish(res)

    def finish(self, res: dict[str, Any]) -> None:
        done = res.pop("_done", None)
        res.pop("_steps", None)
        res.pop("_left", None)
        if done:
            done()

    def looked_at(self, res: dict[str, Any]) -> None:
        """One read of res: its current step is counted, the next one may begin."""
        if "_steps" not in res:
            return
        res["_left"] -= 1
        if res["_left"] > 0:
            return
        if res["_steps"]:
            res["Status"] = res["_steps"].pop(0)
            res["_left"] = self.settings["polls"]
        if not res["_steps"]:
            self.finish(res)

    def read(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What a Describe* shows of items (before their read is counted)."""
        shown = [public(x) for x in items]
        for x in items:
            self.looked_at(x)
        return shown

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
            snap.update(Status="accomplished", Progress="100%", Available=True)
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
            raise ApiError("InvalidZoneId.NotFound", "The specified zoneId does not exist.", 404)
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
        categories = sorted({c for cats in FAMILY_DISKS.values() for c in cats})
        zones = [
            {
                "ZoneId": z,
                "LocalName": z,
                "AvailableInstanceTypes": {"InstanceTypes": list(INSTANCE_TYPES)},
                "AvailableDiskCategories": {"DiskCategories": categories},
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
        return {
            "VpcId": i,
            "VRouterId": self.state["vpc"][i]["VRouterId"],
            "RouteTableId": "",
            "ResourceGroupId": "",
        }

    def a_DescribeVpcs(self, p: dict[str, str]) -> dict:
        ids = (p.get("VpcId") or "").split(",") if p.get("VpcId") else None
        vpcs = [
            v
            for v in self.state["vpc"].values()
            if (ids is None or v["VpcId"] in ids)
            and (not p.get("VpcName") or v["VpcName"] == p["VpcName"])
            and has_tags(v, tag_filter(p))
        ]
        return page([vpc_view(v) for v in vpcs], "Vpcs", "Vpc", p)

    def a_DescribeVpcAttribute(self, p: dict[str, str]) -> dict:
        vpc = vpc_view(self.get("vpc", p.get("VpcId"), "InvalidVpcId.NotFound"))
        return {k: v for k, v in vpc.items() if k not in ("VSwitchIds", "Tags")}

    def a_ModifyVpcAttribute(self, p: dict[str, str]) -> dict:
        vpc = self.get("vpc", p.get("VpcId"), "InvalidVpcId.NotFound")
        for key in ("VpcName", "Description"):
            if key in p:
                vpc[key] = p[key]
        return {}

    def a_DeleteVpc(self, p: dict[str, str]) -> dict:
        vpc = self.get("vpc", p.get("VpcId"), "InvalidVpcId.NotFound")
        if vpc["VSwitchIds"]["VSwitchId"]:
            raise refuse("vpc-has-vswitches")
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
            and has_tags(s, tag_filter(p))
        ]
        return page([vpc_view(s) for s in switches], "VSwitches", "VSwitch", p)

    def a_DescribeVSwitchAttributes(self, p: dict[str, str]) -> dict:
        vsw = vpc_view(self.get("vsw", p.get("VSwitchId"), "InvalidVSwitchId.NotFound"))
        return {k: v for k, v in vsw.items() if k != "Tags"}

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
            raise refuse("vswitch-in-use")
        self.state["vpc"][vsw["VpcId"]]["VSwitchIds"]["VSwitchId"].remove(vsw["VSwitchId"])
        del self.state["vsw"][vsw["VSwitchId"]]
        return {}

    # ---- security groups
    def a_CreateSecurityGroup(self, p: dict[str, str]) -> dict:
        check_name(p, "SecurityGroupName")
        i = self.new_id("sg")
        self.state["sg"][i] = {
            "SecurityGroupId": i,
            "SecurityGroupName": p.get("SecurityGroupName", ""),
            "Description": p.get("Description", ""),
            "VpcId": p.get("VpcId", ""),
            "CreationTime": now(),
            "SecurityGroupType": "normal",
            "Tags": {"Tag": tags_of(p)},
            "_permissions": [],
        }
        return {"SecurityGroupId": i}

    def a_DescribeSecurityGroups(self, p: dict[str, str]) -> dict:
        ids = id_list(p, "SecurityGroupIds")
        groups = [
            public(g)
            for g in self.state["sg"].values()
            if (ids is None or g["SecurityGroupId"] in ids)
            and (not p.get("SecurityGroupName") or g["SecurityGroupName"] == p["SecurityGroupName"])
            and (not p.get("VpcId") or g["VpcId"] == p["VpcId"])
            and has_tags(g, tag_filter(p))
        ]
        return {**page(groups, "SecurityGroups", "SecurityGroup", p), "RegionId": p["RegionId"]}

    def a_DescribeSecurityGroupAttribute(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        direction = p.get("Direction", "all")
        perms = [
            r for r in group["_permissions"] if direction == "all" or r["Direction"] == direction
        ]
        return {
            "SecurityGroupId": group["SecurityGroupId"],
            "SecurityGroupName": group["SecurityGroupName"],
            "Description": group["Description"],
            "VpcId": group["VpcId"],
            "RegionId": p["RegionId"],
            "InnerAccessPolicy": "Accept",
            "Permissions": {"Permission": perms},
        }

    def a_ModifySecurityGroupAttribute(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        check_name(p, "SecurityGroupName")
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
        if not any(self.same_rule(new, r) for r in group["_permissions"]):
            group["_permissions"].append(new)
        return {}

    def a_AuthorizeSecurityGroupEgress(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        new = self.rule(p, "egress")
        if not any(self.same_rule(new, r) for r in group["_permissions"]):
            group["_permissions"].append(new)
        return {}

    def a_RevokeSecurityGroup(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        gone = self.rule(p, "ingress")
        group["_permissions"] = [r for r in group["_permissions"] if not self.same_rule(gone, r)]
        return {}

    def a_DeleteSecurityGroup(self, p: dict[str, str]) -> dict:
        group = self.get("sg", p.get("SecurityGroupId"), "InvalidSecurityGroupId.NotFound")
        if any(
            group["SecurityGroupId"] in x["SecurityGroupIds"]["SecurityGroupId"]
            for x in self.state["inst"].values()
        ):
            raise refuse("security-group-in-use")
        del self.state["sg"][group["SecurityGroupId"]]
        return {}

    # ---- key pairs
    def a_ImportKeyPair(self, p: dict[str, str]) -> dict:
        name = p["KeyPairName"]
        check_name(p, "KeyPairName")
        if name in self.state["kp"]:
            raise refuse("key-pair-exists")
        parts = p["PublicKeyBody"].split()
        if len(parts) < 2 or parts[0] not in KEY_TYPES:
            raise refuse("key-type", f"type {parts[0] if parts else ''!r}")
        try:  # ECS: the MD5 of the key blob, in hex
            blob = base64.b64decode(parts[1], validate=True)
        except ValueError:
            raise refuse("key-type", "not base64") from None
        if not blob.startswith(len(parts[0]).to_bytes(4, "big") + parts[0].encode()):
            raise refuse("key-type", "the blob is not of the type named")
        fingerprint = hashlib.md5(blob).hexdigest()
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
            public(k)
            for k in self.state["kp"].values()
            if (not p.get("KeyPairName") or k["KeyPairName"] == p["KeyPairName"])
            and has_tags(k, tag_filter(p))
        ]
        return page(pairs, "KeyPairs", "KeyPair", p)

    def a_DeleteKeyPairs(self, p: dict[str, str]) -> dict:
        for name in id_list(p, "KeyPairNames") or []:
            self.state["kp"].pop(name, None)
        return {}

    # ---- images
    def image_view(self, row: tuple, region: str) -> dict[str, Any]:
        image_id, os_name, platform, arch, size, created = row
        return {
            "ImageId": image_id,
            "ImageName": image_id,
            "ImageFamily": "acs:" + image_id.split("_20G_")[0],
            "ImageVersion": created[:10].replace("-", ""),
            "ImageOwnerAlias": "system",
            "Description": "",
            "OSName": os_name,
            "OSNameEn": os_name,
            "OSType": "linux",
            "Platform": platform,
            "Architecture": arch,
            "Size": size,
            "Status": "Available",
            "Progress": "100%",
            "Usage": "instance",
            "CreationTime": created,
            "IsSupportCloudinit": True,
            "IsSupportIoOptimized": True,
            "IsPublic": True,
            "IsCopied": False,
            "IsSelfShared": "",
            "IsSubscribed": False,
            "BootMode": "BIOS",
            "LoginAsNonRootSupported": True,
            "ResourceGroupId": "",
        }

    def image(self, image_id: str) -> tuple | None:
        return next((row for row in IMAGES if row[0] == image_id), None)

    def a_DescribeImages(self, p: dict[str, str]) -> dict:
        ids = (p.get("ImageId") or "").split(",") if p.get("ImageId") else None
        arch = p.get("Architecture", "")
        wanted_type = p.get("InstanceType", "")
        type_arch = "x86_64" if wanted_type in INSTANCE_TYPES else None
        images = [
            self.image_view(row, p["RegionId"])
            for row in IMAGES
            if (ids is None or row[0] in ids)
            and (p.get("ImageOwnerAlias", "system") in ("system", ""))
            and (not arch or arch == row[3])
            and (not p.get("OSType") or p["OSType"] == "linux")
            and (not p.get("ImageName") or p["ImageName"] == row[0])
            and (not wanted_type or type_arch == row[3])
            and (not p.get("Status") or p["Status"] == "Available")
        ]
        # The API lists the newest first.
        images.sort(key=lambda i: i["CreationTime"], reverse=True)
        return {**page(images, "Images", "Image", p), "RegionId": p["RegionId"]}

    # ---- disks
    def new_disk(self, p: dict[str, Any], **fields: Any) -> dict[str, Any]:
        i = self.new_id("d")
        disk = {
            "DiskId": i,
            "DiskName": "",
            "Description": "",
            "ZoneId": "",
            "RegionId": p["RegionId"],
            "Category": DEFAULT_DATA_CATEGORY,
            "PerformanceLevel": "",
            "Size": 0,
            "SourceSnapshotId": "",
            "Status": "Available",
            "Type": "data",
            "InstanceId": "",
            "Device": "",
            "DeleteWithInstance": False,
            "Portable": True,
            "Encrypted": False,
            "CreationTime": now(),
            "AttachedTime": "",
            "DetachedTime": "",
            "SerialNumber": uuid.uuid4().hex[:20],
            "Tags": {"Tag": []},
            "_attached_once": False,
        }
        disk.update(fields)
        self.state["disk"][i] = disk
        return disk

    def a_CreateDisk(self, p: dict[str, str]) -> dict:
        check_name(p, "DiskName")
        category = p.get("DiskCategory", DEFAULT_DATA_CATEGORY)
        level = p.get("PerformanceLevel", "")
        if level and (category != "cloud_essd" or level not in PERFORMANCE_LEVELS):
            raise refuse("performance-level", f"{category} {level}")
        if category == "cloud_essd":
            level = level or DEFAULT_PERFORMANCE_LEVEL
        size = int(p.get("Size") or 0)
        source = p.get("SnapshotId", "")
        if source:
            snap = self.get("snap", source, "InvalidSnapshotId.NotFound")
            if snap["Status"] != "accomplished":
                raise refuse("snapshot-not-ready", source)
            size = max(size, int(snap["SourceDiskSize"]))
        limits = size_range(DATA_DISK_SIZES, category, level)
        if limits is None or not limits[0] <= size <= limits[1]:
            raise refuse("data-disk-size", f"{category} {level} {size} GiB, allowed {limits}")
        zone = self.zone(p)
        if not zone:
            raise ApiError(
                "MissingParameter",
                "The input parameter ZoneId that is mandatory for processing this request"
                " is not supplied.",
            )
        disk = self.new_disk(
            p,
            DiskName=p.get("DiskName", ""),
            Description=p.get("Description", ""),
            ZoneId=zone,
            Category=category,
            PerformanceLevel=level,
            Size=size,
            SourceSnapshotId=source,
            Encrypted=truthy(p.get("Encrypted", "false")),
            Tags={"Tag": tags_of(p)},
        )
        self.begin(disk, ["Creating", "Available"])
        return {"DiskId": disk["DiskId"]}

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
            and (not p.get("Category") or d["Category"] == p["Category"])
            and (not p.get("Status") or p["Status"] == "All" or d["Status"] == p["Status"])
            and (not p.get("SnapshotId") or d["SourceSnapshotId"] == p["SnapshotId"])
            and has_tags(d, tag_filter(p))
        ]
        answer = page(disks, "Disks", "Disk", p)
        answer["Disks"]["Disk"] = self.read(answer["Disks"]["Disk"])
        return answer

    def a_AttachDisk(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        inst = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        if not disk["Portable"]:
            raise refuse("attach-portable")
        if disk["Status"] != "Available":
            raise refuse("attach-disk-status", f"{disk['DiskId']} is {disk['Status']}")
        if inst["Status"] not in ("Running", "Stopped"):
            raise refuse("attach-instance-status", f"{inst['InstanceId']} is {inst['Status']}")
        if disk["ZoneId"] != inst["ZoneId"]:
            raise refuse("attach-zone")
        if disk["Category"] not in FAMILY_DISKS[family(inst["InstanceType"])]:
            raise refuse("disk-category-family", f"{disk['Category']} on {inst['InstanceType']}")
        used = [d for d in self.state["disk"].values() if d["InstanceId"] == inst["InstanceId"]]
        if len([d for d in used if d["Type"] == "data"]) >= QUOTAS["data_disks_per_instance"]:
            raise refuse("attach-disk-quota")
        disk.update(
            InstanceId=inst["InstanceId"],
            DeleteWithInstance=truthy(p.get("DeleteWithInstance", "false")),
            _attached_once=True,
        )

        def attached() -> None:
            disk.update(Device="/dev/xvd" + "abcdefghijklmnopq"[len(used)], AttachedTime=now())

        self.begin(disk, ["Attaching", "In_use"], attached)
        return {}

    def a_DetachDisk(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        if disk["Status"] != "In_use":
            raise refuse("detach-disk-status", f"{disk['DiskId']} is {disk['Status']}")
        inst = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        if inst["Status"] not in ("Running", "Stopped"):
            raise refuse("detach-instance-status", f"{inst['InstanceId']} is {inst['Status']}")

        def detached() -> None:
            disk.update(InstanceId="", Device="", DetachedTime=now())

        self.begin(disk, ["Detaching", "Available"], detached)
        return {}

    def a_ModifyDiskAttribute(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        check_name(p, "DiskName")
        for key in ("DiskName", "Description"):
            if key in p:
                disk[key] = p[key]
        if "DeleteWithInstance" in p:
            disk["DeleteWithInstance"] = truthy(p["DeleteWithInstance"])
        return {}

    def a_DeleteDisk(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        if disk["Status"] != "Available":
            raise refuse("delete-disk-status", f"{disk['DiskId']} is {disk['Status']}")
        del self.state["disk"][disk["DiskId"]]
        return {}

    # ---- snapshots
    def a_CreateSnapshot(self, p: dict[str, str]) -> dict:
        disk = self.get("disk", p.get("DiskId"), "InvalidDiskId.NotFound")
        check_name(p, "SnapshotName")
        if disk["Status"] not in ("In_use", "Available"):
            raise refuse("snapshot-disk-status", f"{disk['DiskId']} is {disk['Status']}")
        if disk["Portable"] and not disk["_attached_once"]:
            raise refuse("snapshot-never-attached", disk["DiskId"])
        if disk["InstanceId"]:
            inst = self.state["inst"][disk["InstanceId"]]
            if inst["Status"] not in ("Running", "Stopped"):
                raise refuse(
                    "snapshot-instance-status", f"{inst['InstanceId']} is {inst['Status']}"
                )
        taken = [s for s in self.state["snap"].values() if s["SourceDiskId"] == disk["DiskId"]]
        if any(s["Status"] == "progressing" for s in taken):
            raise refuse("snapshot-in-progress")
        if len(taken) >= QUOTAS["snapshots_per_disk"]:
            raise refuse("snapshot-quota")
        i = self.new_id("s")
        self.state["snap"][i] = {
            "SnapshotId": i,
            "SnapshotName": p.get("SnapshotName", ""),
            "Description": p.get("Description", ""),
            "SourceDiskId": disk["DiskId"],
            "SourceDiskSize": str(disk["Size"]),
            "SourceDiskType": disk["Type"],
            "Category": "standard",
            "Status": "progressing",
            "Progress": "0%",
            "Available": False,
            "InstantAccess": False,
            "Encrypted": disk["Encrypted"],
            "CreationTime": now(),
            "Usage": "none",
            "RegionId": p["RegionId"],
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
            and has_tags(s, tag_filter(p))
        ]
        for snap in found:  # a snapshot ends after being looked at snapshot_polls times
            if snap["Status"] == "progressing":
                snap["_polls"] = max(snap["_polls"] - 1, 0)
                done = 100 - 100 * snap["_polls"] // max(self.snapshot_polls, 1)
                snap["Progress"] = f"{min(done, 99)}%"
                self.settle(snap)
        used = {d["SourceSnapshotId"] for d in self.state["disk"].values()}
        view = [
            {**public(s), "Usage": "disk" if s["SnapshotId"] in used else "none"} for s in found
        ]
        return page(view, "Snapshots", "Snapshot", p)

    def a_DeleteSnapshot(self, p: dict[str, str]) -> dict:
        snap = self.get("snap", p.get("SnapshotId"), "InvalidSnapshotId.NotFound")
        if any(
            d["SourceSnapshotId"] == snap["SnapshotId"] for d in self.state["disk"].values()
        ) and not truthy(p.get("Force", "false")):
            raise refuse("snapshot-created-disk", snap["SnapshotId"])
        del self.state["snap"][snap["SnapshotId"]]
        return {}

    # ---- instances
    def a_DescribeAvailableResource(self, p: dict[str, str]) -> dict:
        zones = []
        for z in REGIONS[p["RegionId"]]:
            stock = "WithoutStock" if z in NO_STOCK else "WithStock"
            zone: dict[str, Any] = {
                "ZoneId": z,
                "RegionId": p["RegionId"],
                "Status": "Available" if stock == "WithStock" else "SoldOut",
                "StatusCategory": stock,
            }
            wanted = p.get("InstanceType")
            if p["DestinationResource"] == "InstanceType" and wanted in INSTANCE_TYPES:
                supported = {
                    "Value": wanted,
                    "Status": zone["Status"],
                    "StatusCategory": stock,
                }
                zone["AvailableResources"] = {
                    "AvailableResource": [
                        {
                            "Type": "InstanceType",
                            "SupportedResources": {"SupportedResource": [supported]},
                        }
                    ]
                }
            zones.append(zone)
        return {"AvailableZones": {"AvailableZone": zones}}

    # ---- prices (sdk:DescribePriceRequest, sdk:DescribeSpotPriceHistoryRequest)
    def hourly(self, instance_type: str | None) -> float:
        if instance_type not in PRICE_BOOK:
            raise ApiError(
                "InvalidInstanceType.NotFound", "The specified InstanceType does not exist.", 404
            )
        return PRICE_BOOK[instance_type]

    def spot_price(self, instance_type: str, zone: str, region: str) -> float:
        factor = SPOT_FACTORS[REGIONS[region].index(zone) % len(SPOT_FACTORS)]
        return round(self.hourly(instance_type) * factor, 4)

    def a_DescribePrice(self, p: dict[str, str]) -> dict:
        kind = p.get("ResourceType", "instance")
        unit = p.get("PriceUnit", "Hour")
        if kind == "instance":
            zone = self.zone(p)
            price = self.hourly(p.get("InstanceType"))
            if p.get("SpotStrategy", "NoSpot") != "NoSpot":
                price = self.spot_price(
                    p["InstanceType"], zone or REGIONS[p["RegionId"]][0], p["RegionId"]
                )
            if unit == "Month":
                price *= 730
        elif kind == "disk":
            category, size = p.get("DataDisk.1.Category"), p.get("DataDisk.1.Size")
            if not category or not size:
                raise ApiError(
                    "MissingParameter", "DataDisk.1.Category and DataDisk.1.Size are needed."
                )
            if category not in DISK_PRICE_BOOK:
                raise ApiError(
                    "InvalidDataDiskCategory.ValueNotSupported", "The category is not valid."
                )
            price = DISK_PRICE_BOOK[category] * int(size) / (1 if unit == "Month" else 730)
        else:
            raise ApiError("InvalidResourceType.ValueNotSupported", f"{kind} is not priced here.")
        price = round(price, 4)
        return {
            "PriceInfo": {
                "Price": {
                    "Currency": "CNY",
                    "OriginalPrice": price,
                    "DiscountPrice": 0.0,
                    "TradePrice": price,
                },
                "Rules": {"Rule": []},
            }
        }

    def a_DescribeSpotPriceHistory(self, p: dict[str, str]) -> dict:
        self.hourly(p["InstanceType"])
        region = p["RegionId"]
        zones = [self.zone(p)] if p.get("ZoneId") else REGIONS[region]
        rows = []
        for zone in zones:
            for hours_ago in (2, 1, 0):  # a history, newest last, the latest the current one
                stamp = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
                    hours=hours_ago
                )
                price = self.spot_price(p["InstanceType"], zone, region) * (1 + 0.05 * hours_ago)
                rows.append(
                    {
                        "ZoneId": zone,
                        "InstanceType": p["InstanceType"],
                        "IoOptimized": "optimized",
                        "NetworkType": p["NetworkType"],
                        "Timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "SpotPrice": round(price, 4),
                        "OriginPrice": self.hourly(p["InstanceType"]),
                    }
                )
        return {"Currency": "CNY", "NextOffset": 0, "SpotPrices": {"SpotPriceType": rows}}

    def a_DescribeInstanceTypes(self, p: dict[str, str]) -> dict:
        types = [
            {
                "InstanceTypeId": t,
                "InstanceTypeFamily": fam,
                "CpuCoreCount": cpus,
                "MemorySize": memory,
                "CpuArchitecture": arch,
            }
            for t, (fam, cpus, memory, arch) in INSTANCE_TYPES.items()
        ]
        return {"InstanceTypes": {"InstanceType": types}, "NextToken": ""}

    def check_system_disk(self, p: dict[str, str], instance_type: str, image: tuple) -> tuple:
        category = p.get("SystemDisk.Category", DEFAULT_SYSTEM_CATEGORY)
        level = p.get("SystemDisk.PerformanceLevel", "")
        if level and (category != "cloud_essd" or level not in PERFORMANCE_LEVELS):
            raise refuse("performance-level", f"system disk {category} {level}")
        if category == "cloud_essd":
            level = level or DEFAULT_PERFORMANCE_LEVEL
        if category not in FAMILY_DISKS[family(instance_type)]:
            raise refuse("disk-category-family", f"system disk {category} on {instance_type}")
        size = int(p.get("SystemDisk.Size") or max(DEFAULT_SYSTEM_SIZE, image[4]))
        if size < image[4]:
            raise refuse("system-disk-image-size", f"{size} < {image[4]} GiB")
        limits = size_range(SYSTEM_DISK_SIZES, category, level)
        if limits is None or not limits[0] <= size <= limits[1]:
            raise refuse("system-disk-size", f"{category} {level} {size} GiB, allowed {limits}")
        for n in itertools.count(1):
            if f"DataDisk.{n}.Category" not in p and f"DataDisk.{n}.Size" not in p:
                break
            data = p.get(f"DataDisk.{n}.Category", DEFAULT_SYSTEM_CATEGORY)
            if data not in FAMILY_DISKS[family(instance_type)]:
                raise refuse("disk-category-family", f"DataDisk.{n} {data} on {instance_type}")
        return category, level, size

    def a_RunInstances(self, p: dict[str, str]) -> dict:
        instance_type = p.get("InstanceType", "")
        if instance_type not in INSTANCE_TYPES:
            raise refuse("instance-type-exists", instance_type)
        image = self.image(p.get("ImageId", ""))
        if image is None:
            raise refuse("image-exists", p.get("ImageId", ""))
        if image[3] != "x86_64":
            raise refuse("image-instance-type", f"{image[0]} on {instance_type}")
        for key in ("InstanceName", "HostName"):
            check_name(p, key)
        category, level, size = self.check_system_disk(p, instance_type, image)
        group = p.get("SecurityGroupId")
        self.get("sg", group, "InvalidSecurityGroupId.NotFound")
        if p.get("KeyPairName"):
            self.get("kp", p["KeyPairName"], "InvalidKeyPairName.NotFound")
        vsw = (
            self.get("vsw", p.get("VSwitchId"), "InvalidVSwitchId.NotExist")
            if p.get("VSwitchId")
            else None
        )
        zone = vsw["ZoneId"] if vsw else self.zone(p) or REGIONS[p["RegionId"]][0]
        strategy = p.get("SpotStrategy", "NoSpot")
        ids = []
        fam, cpus, memory, _architecture = INSTANCE_TYPES[instance_type]
        for _instance in range(int(p.get("Amount") or 1)):
            i = self.new_id("i")
            n = len(self.state["inst"]) + 10
            bandwidth = int(p.get("InternetMaxBandwidthOut") or 0)
            inst = self.state["inst"][i] = {
                "InstanceId": i,
                "InstanceName": p.get("InstanceName", i),
                "HostName": p.get("HostName", i),
                "Description": p.get("Description", ""),
                "Status": "Pending",
                "ZoneId": zone,
                "RegionId": p["RegionId"],
                "InstanceType": instance_type,
                "InstanceTypeFamily": fam,
                "ImageId": image[0],
                "KeyPairName": p.get("KeyPairName", ""),
                "InstanceChargeType": p.get("InstanceChargeType", "PostPaid"),
                "SpotStrategy": strategy,
                "SpotPriceLimit": float(p.get("SpotPriceLimit") or 0),
                "SpotInterruptionBehavior": "Terminate",
                "InternetChargeType": p.get("InternetChargeType", "PayByTraffic"),
                "InternetMaxBandwidthOut": bandwidth,
                "InternetMaxBandwidthIn": 200,
                "InstanceNetworkType": "vpc",
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
                "OperationLocks": {"LockReason": []},
                "Tags": {"Tag": tags_of(p)},
                "CreationTime": now(),
                "OSName": image[1],
                "OSNameEn": image[1],
                "OSType": "linux",
                "Cpu": cpus,
                "Memory": int(memory * 1024),
                "IoOptimized": True,
                "_user_data": p.get("UserData", ""),
            }
            self.begin(inst, ["Pending", "Starting", "Running"])
            self.new_disk(
                p,
                ZoneId=zone,
                Category=category,
                PerformanceLevel=level,
                Size=size,
                Status="In_use",
                Type="system",
                InstanceId=i,
                Device="/dev/xvda",
                DeleteWithInstance=True,
                Portable=False,
                AttachedTime=now(),
                _attached_once=True,
            )
            ids.append(i)
        return {"InstanceIdSets": {"InstanceIdSet": ids}, "TradePrice": 0.1, "OrderId": ""}

    def a_DescribeInstances(self, p: dict[str, str]) -> dict:
        ids = id_list(p, "InstanceIds")
        found = [
            x
            for x in self.state["inst"].values()
            if (ids is None or x["InstanceId"] in ids)
            and (not p.get("InstanceName") or x["InstanceName"] == p["InstanceName"])
            and (not p.get("ZoneId") or x["ZoneId"] == p["ZoneId"])
            and (not p.get("Status") or x["Status"] == p["Status"])
            and has_tags(x, tag_filter(p))
        ]
        answer = page(found, "Instances", "Instance", p)
        answer["Instances"]["Instance"] = self.read(answer["Instances"]["Instance"])
        return answer

    def a_DescribeInstanceAttribute(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        keep = [
            "InstanceId",
            "InstanceName",
            "HostName",
            "Description",
            "Status",
            "ZoneId",
            "RegionId",
            "InstanceType",
            "ImageId",
            "InstanceChargeType",
            "InternetChargeType",
            "SecurityGroupIds",
            "PublicIpAddress",
            "InnerIpAddress",
            "EipAddress",
            "VpcAttributes",
            "OperationLocks",
            "CreationTime",
            "Cpu",
            "Memory",
            "InstanceNetworkType",
        ]
        [shown] = self.read([x])
        # This answer spells IoOptimized as a string where DescribeInstances has a bool.
        return {**{k: shown[k] for k in keep if k in shown}, "IoOptimized": "optimized"}

    def a_DescribeUserData(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        return {
            "InstanceId": x["InstanceId"],
            "RegionId": x["RegionId"],
            "UserData": x["_user_data"],
        }

    def a_ModifyInstanceAttribute(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        for key in ("InstanceName", "HostName"):
            check_name(p, key)
        for key in ("InstanceName", "Description", "HostName"):
            if p.get(key):
                x[key] = p[key]
        return {}

    def a_StopInstance(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        if x["Status"] != "Running":
            raise refuse("attach-instance-status", f"{x['InstanceId']} is {x['Status']}")
        self.begin(x, ["Stopping", "Stopped"])
        return {}

    def a_StartInstance(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        if x["Status"] != "Stopped":
            raise refuse("attach-instance-status", f"{x['InstanceId']} is {x['Status']}")
        self.begin(x, ["Starting", "Running"])
        return {}

    def a_DeleteInstance(self, p: dict[str, str]) -> dict:
        x = self.get("inst", p.get("InstanceId"), "InvalidInstanceId.NotFound")
        if x["Status"] in ("Pending", "Starting"):
            raise refuse("delete-instance-initializing", x["InstanceId"])
        if x["Status"] != "Stopped" and not truthy(p.get("Force", "false")):
            raise refuse("delete-instance-status", f"{x['InstanceId']} is {x['Status']}")
        # Released: the disks it takes along go, the others are detached and kept.
        for disk in list(self.state["disk"].values()):
            if disk["InstanceId"] == x["InstanceId"]:
                if disk["DeleteWithInstance"]:
                    del self.state["disk"][disk["DiskId"]]
                else:
                    self.finish(disk)
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
                item = {"ResourceId": rid, "ResourceType": p.get("ResourceType", ""), **tag}
                if VERSIONS.get(p.get("Version", "")) == "vpc":
                    item = {
                        "ResourceId": rid,
                        "ResourceType": p.get("ResourceType", ""),
                        "TagKey": tag["TagKey"],
                        "TagValue": tag["TagValue"],
                    }
                found.append(item)
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
    def state_view(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every resource as the API shows it (a security group with its Permissions)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for kind, items in self.state.items():
            out[kind] = {}
            for key, res in items.items():
                view = public(res)
                if kind == "sg":
                    view["Permissions"] = res["_permissions"]
                out[kind][key] = view
        return out


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
                try:
                    ECS.add_faults(faults if isinstance(faults, list) else [faults])
                except ValueError as e:
                    return self.send(400, {"error": str(e)})
                return self.send(200, ECS.faults)
            if path == "/_mlbox/faults" and method == "DELETE":
                ECS.faults = []
                return self.send(200, {})
            if path == "/_mlbox/reset" and method == "POST":
                ECS.reset()
                return self.send(200, {})
            if path == "/_mlbox/state" and method == "GET":
                return self.send(200, ECS.state_view())
            if path == "/_mlbox/config" and method == "POST":
                settings = json.loads(body or b"{}")
                unknown = set(settings) - set(DEFAULTS)
                if unknown:
                    return self.send(400, {"error": f"no setting {sorted(unknown)}"})
                ECS.settings.update({k: int(v) for k, v in settings.items()})
                return self.send(200, ECS.settings)
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
