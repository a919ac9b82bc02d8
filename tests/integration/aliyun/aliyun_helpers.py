"""Helpers for the cloud_aliyun integration tests: the ECS/VPC double's controls and runs.

Nothing here can reach Alibaba Cloud: every run gets HTTP_PROXY pointing at the local double
(tests/doubles/aliyun_ecs.py), which answers every ECS and VPC RPC call, and dummy keys.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from playbook_run import Run, killed_when, playbook_args, run_playbook

ROOT = Path(__file__).resolve().parents[3]
DOUBLE = ROOT / "tests" / "doubles" / "aliyun_ecs.py"
# footmark's fixed pause after a launch, skipped for the double (see its docstring).
PAUSE_SHIM = ROOT / "tests" / "doubles" / "vendor_pauses"
REGION = "cn-hangzhou"
ACCESS_KEY = "LTAI-test-access-key"
SECRET = "aliyun-secret-never-shown-4f9c2e"
TAG = "mlbox:workbench"
# A public Ubuntu image the double lists (DescribeImages), for calls made straight to it.
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

# Calls that create, change or delete something; a run that stops in validation sends none.
MUTATING = re.compile(
    r"^(Create|Run|Import|Allocate|Attach|Detach|Authorize|Revoke|Delete|Modify|Join|Leave"
    r"|Start|Stop|Reboot|Tag|Untag|AddTags|RemoveTags|Reset|Replace|Release|Associate"
    r"|Unassociate)"
)
KINDS = {
    "vpc": "VpcId",
    "vsw": "VSwitchId",
    "sg": "SecurityGroupId",
    "kp": "KeyPairName",
    "disk": "DiskId",
    "snap": "SnapshotId",
    "inst": "InstanceId",
}


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["TagKey"]: t["TagValue"] for t in resource["Tags"]["Tag"]}


class Double:
    """The running ECS/VPC double: its URL, its controls, and RPC calls straight to it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _control(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def reset(self) -> None:
        self._control("POST", "/_mlbox/reset")

    def configure(self, **settings: int) -> None:
        """e.g. snapshot_polls=N: a new snapshot is progressing for N looks."""
        self._control("POST", "/_mlbox/config", settings)

    def inject(self, *faults: dict[str, Any]) -> None:
        self._control("POST", "/_mlbox/faults", list(faults))

    def clear_faults(self) -> None:
        self._control("DELETE", "/_mlbox/faults")

    def requests(self) -> list[dict[str, Any]]:
        return self._control("GET", "/_mlbox/requests")

    def forget_requests(self) -> None:
        self._control("DELETE", "/_mlbox/requests")

    def actions(self) -> list[str]:
        return [call["action"] for call in self.requests()]

    def calls(self, action: str) -> list[dict[str, str]]:
        return [c["params"] for c in self.requests() if c["action"] == action]

    def mutations(self) -> list[str]:
        return [c["action"] for c in self.requests() if MUTATING.match(c["action"])]

    def state(self) -> dict[str, dict[str, dict[str, Any]]]:
        return self._control("GET", "/_mlbox/state")

    def inventory(self) -> dict[str, dict[str, Any]]:
        """Every resource held, by kind, with its state (a deep copy to compare later)."""
        return self.state()

    def tagged(self, kind: str, name: str) -> list[dict[str, Any]]:
        """The resources of one kind that carry mlbox:workbench=name."""
        return [r for r in self.state()[kind].values() if tags_of(r).get(TAG) == name]

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        """One RPC call, as the SDK would send it (the double does not check signatures)."""
        version = "2016-04-28" if action in VPC_ACTIONS else "2014-05-26"
        query = {"Action": action, "Version": version, "RegionId": REGION, "Format": "JSON"}
        for key, value in params.items():
            if key == "Tags":
                for n, (k, v) in enumerate(value.items(), 1):
                    query[f"Tag.{n}.Key"], query[f"Tag.{n}.Value"] = k, v
            else:
                query[key] = str(value)
        url = self.url + "/?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    def settled(self, kind: str, key: str, status: str) -> None:
        """Read the resource until it shows status (the double settles over reads)."""
        action, listed, sub, ids = {
            "inst": ("DescribeInstances", "Instances", "Instance", "InstanceIds"),
            "disk": ("DescribeDisks", "Disks", "Disk", "DiskIds"),
        }[kind]
        for _attempt in range(20):
            [item] = self.call(action, **{ids: json.dumps([key])})[listed][sub]
            if item["Status"] == status:
                return
        raise AssertionError(f"{kind} {key} never became {status}")


def public_key_body() -> str:
    blob = b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01" + b"d" * 64
    return "ssh-rsa " + base64.b64encode(blob).decode() + " decoy"


def make_disk(double: Double, tags: dict[str, str] | None = None, **params: Any) -> str:
    """A 20 GiB ESSD in zone h, settled (Available)."""
    essd = {"ZoneId": f"{REGION}-h", "Size": 20, "DiskCategory": "cloud_essd", **params}
    disk = double.call("CreateDisk", **essd, **({"Tags": tags} if tags else {}))["DiskId"]
    double.settled("disk", disk, "Available")
    return disk


def make_instance(double: Double, **params: Any) -> str:
    """A running g7 instance in zone h (a security group of its own, no vSwitch)."""
    group = double.call("CreateSecurityGroup", SecurityGroupName="someone")
    [instance] = double.call(
        "RunInstances",
        InstanceType="ecs.g7.large",
        ImageId=IMAGE,
        ZoneId=f"{REGION}-h",
        SecurityGroupId=group["SecurityGroupId"],
        **{"SystemDisk.Category": "cloud_essd", **params},
    )["InstanceIdSets"]["InstanceIdSet"]
    double.settled("inst", instance, "Running")
    return instance


def attach(double: Double, disk: str, instance: str) -> None:
    double.call("AttachDisk", DiskId=disk, InstanceId=instance)
    double.settled("disk", disk, "In_use")


def decoys(double: Double, name: str = "someone-else") -> dict[str, str]:
    """A whole workbench of another name, plus an untagged disk: teardown leaves them alone."""
    tags = {TAG: name}
    resource = f"workbench-{name}"
    vpc = double.call("CreateVpc", VpcName=resource, CidrBlock="172.16.0.0/16", Tags=tags)
    vsw = double.call(
        "CreateVSwitch",
        VpcId=vpc["VpcId"],
        ZoneId=f"{REGION}-h",
        CidrBlock="172.16.1.0/24",
        VSwitchName=f"{resource}-{REGION}-h",
        Tags=tags,
    )
    group = double.call(
        "CreateSecurityGroup", VpcId=vpc["VpcId"], SecurityGroupName=resource, Tags=tags
    )
    double.call("ImportKeyPair", KeyPairName=resource, PublicKeyBody=public_key_body(), Tags=tags)
    essd = {"ZoneId": f"{REGION}-h", "Size": 20, "DiskCategory": "cloud_essd"}
    disk = double.call("CreateDisk", DiskName=f"{resource}-data", Tags=tags, **essd)
    untagged = double.call("CreateDisk", DiskName="plain", **essd)
    [instance] = double.call(
        "RunInstances",
        InstanceType="ecs.g7.large",
        ImageId=IMAGE,
        SecurityGroupId=group["SecurityGroupId"],
        VSwitchId=vsw["VSwitchId"],
        KeyPairName=resource,
        InstanceName=resource,
        Tags=tags,
        **{"SystemDisk.Category": "cloud_essd"},
    )["InstanceIdSets"]["InstanceIdSet"]
    double.settled("inst", instance, "Running")
    double.settled("disk", disk["DiskId"], "Available")
    double.settled("disk", untagged["DiskId"], "Available")
    double.call("AttachDisk", DiskId=disk["DiskId"], InstanceId=instance)
    double.settled("disk", disk["DiskId"], "In_use")
    snapshot = double.call("CreateSnapshot", DiskId=disk["DiskId"], Tags=tags)
    return {
        "vpc": vpc["VpcId"],
        "vsw": vsw["VSwitchId"],
        "sg": group["SecurityGroupId"],
        "kp": resource,
        "disk": disk["DiskId"],
        "untagged_disk": untagged["DiskId"],
        "inst": instance,
        "snap": snapshot["SnapshotId"],
    }


DRIVER = Path(__file__).resolve().parent / "driver.yml"
ALLOWED_CIDR = "203.0.113.7/32"


class Workbench:
    """The cloud_aliyun entry points for one workbench name, run as ansible-playbook would."""

    def __init__(self, name: str, env: dict[str, str], ssh_key: Path) -> None:
        self.name = name
        self.env = env
        self.base_vars: dict[str, Any] = {
            "cloud": "aliyun",
            "workbench_name": name,
            "workbench_configure": False,
            "workbench_allowed_cidr": ALLOWED_CIDR,
            "workbench_ssh_key_path": str(ssh_key),
            "workbench_region": REGION,
        }

    def run(self, entry: str, env: dict[str, str] | None = None, **extra: Any) -> Run:
        extra_vars = {**self.base_vars, "cloud_aliyun_entry": entry, **extra}
        return run_playbook(DRIVER, extra_vars, env or self.env)

    def up(self, **extra: Any) -> Run:
        return self.run("up", **extra)

    def kill_at(self, double: Double, action: str, entry: str, **extra: Any) -> None:
        """Start an entry point, SIGKILL it (and its modules) once the double sees action."""
        extra_vars = {**self.base_vars, "cloud_aliyun_entry": entry, **extra}
        killed_when(playbook_args(DRIVER, extra_vars), self.env, lambda: action in double.actions())

    def down(self, **extra: Any) -> Run:
        return self.run("down", **extra)

    def disks(self, **extra: Any) -> Run:
        return self.run("disks", **extra)
