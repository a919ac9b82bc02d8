"""The aliyun_* modules against the project's ECS double (tests/doubles/).

The double runs in a thread of the test process; HTTP_PROXY sends the SDK's plain-HTTP
calls to it, as in the integration suite. Nothing can reach Alibaba Cloud. Resources settle
at once here (polls=0): these tests are about the modules' logic, and the transitions have
their own tests (tests/unit/doubles); aliyun_disk's tests turn them back on.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aliyunsdkcore")
pytest.importorskip("alibabacloud_ecs20140526")  # the double checks requests against it

from ansible_collections.mlbox.workbench.plugins.module_utils import aliyun as utils
from ansible_collections.mlbox.workbench.plugins.modules import (
    aliyun_disk,
    aliyun_key_pair,
    aliyun_snapshot,
    aliyun_snapshot_info,
    aliyun_workbench_info,
)

DOUBLE = Path(__file__).resolve().parents[4] / "tests" / "doubles" / "aliyun_ecs.py"
SECRET = "sk-unit-secret-value"
REGION = "cn-hangzhou"
RSA = b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01"
KEY = "ssh-rsa " + base64.b64encode(RSA + b"k" * 64).decode() + " t"
OTHER_KEY = "ssh-rsa " + base64.b64encode(RSA + b"o" * 64).decode()
IMAGE = "ubuntu_24_04_x64_20G_alibase_20250113.vhd"
VPC_ACTIONS = {"CreateVpc", "CreateVSwitch", "DescribeVpcs", "DescribeVSwitches"}


def load_double() -> Any:
    sys.path.insert(0, str(DOUBLE.parent))  # its aliyun_contract and aliyun_rules
    spec = importlib.util.spec_from_file_location("aliyun_ecs_double", DOUBLE)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Double:
    def __init__(self, mod: Any) -> None:
        self.mod = mod
        self.server = mod.serve()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def control(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def call(self, action: str, **params: str) -> dict:
        version = "2016-04-28" if action in VPC_ACTIONS else "2014-05-26"
        query = {"Action": action, "Version": version, "RegionId": REGION}
        status, body = self.mod.ECS.handle({**query, **params})
        assert status == 200, body
        return body

    def actions(self) -> list[str]:
        return [r["action"] for r in self.control("GET", "/_mlbox/requests")]


@pytest.fixture(scope="module")
def double_server() -> Iterator[Double]:
    double = Double(load_double())
    yield double
    double.server.shutdown()


@pytest.fixture
def ecs(double_server: Double, monkeypatch: pytest.MonkeyPatch) -> Double:
    double_server.control("POST", "/_mlbox/reset")
    double_server.control("POST", "/_mlbox/config", {"snapshot_polls": 0, "polls": 0})
    for name in list(os.environ):
        if name.startswith(("ALIYUN_", "ALICLOUD_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HTTP_PROXY", double_server.url)
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_ID", "ak-unit")
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", SECRET)
    monkeypatch.setenv("ALIYUN_REGION", REGION)
    # No real pause anywhere: the polling schedule is asserted instead.
    monkeypatch.setattr(aliyun_snapshot.time, "sleep", lambda s: None)
    return double_server


def instance(ecs: Double, **params: str) -> str:
    group = ecs.call("CreateSecurityGroup", SecurityGroupName="workbench-wb")["SecurityGroupId"]
    launch = {
        "InstanceType": "ecs.g7.large",
        "ImageId": IMAGE,
        "ZoneId": "cn-hangzhou-i",
        "SecurityGroupId": group,
        "SystemDisk.Category": "cloud_essd",
    }
    return ecs.call("RunInstances", **{**launch, **params})["InstanceIdSets"]["InstanceIdSet"][0]


def new_disk(ecs: Double, size: int = 20, **params: str) -> str:
    essd = {"ZoneId": "cn-hangzhou-i", "Size": str(size), "DiskCategory": "cloud_essd"}
    return ecs.call("CreateDisk", **{**essd, **params})["DiskId"]


def disk(ecs: Double, size: int = 20, **params: str) -> str:
    """A data disk once attached (ECS snapshots no disk that never was)."""
    disk_id = new_disk(ecs, size, DiskName="data", **params)
    ecs.call("AttachDisk", DiskId=disk_id, InstanceId=instance(ecs))
    return disk_id


def test_create_waits_until_accomplished_with_growing_pauses(ecs, run_module, monkeypatch):
    ecs.control("POST", "/_mlbox/config", {"snapshot_polls": 4})
    pauses: list[float] = []
    monkeypatch.setattr(aliyun_snapshot.time, "sleep", pauses.append)
    disk_id = disk(ecs)
    args = {"disk_id": disk_id, "name": "wb-1", "tags": {"mlbox:workbench": "wb"}}
    out = run_module(aliyun_snapshot.main, {**args, "poll_interval": 2, "max_poll_interval": 4})
    assert not out.failed, out.result
    snap = out.result["snapshot"]
    assert out.result["changed"] is True
    assert snap["status"] == "accomplished" and snap["disk_id"] == disk_id
    assert snap["tags"] == {"mlbox:workbench": "wb"} and snap["size_gb"] == 20
    assert pauses == [2, 3, 4]  # 1.5 times longer each time, capped
    assert ecs.actions().count("CreateSnapshot") == 1

    again = run_module(aliyun_snapshot.main, args)  # same name, same disk: found, not taken again
    assert again.result["changed"] is False and again.result["snapshot"]["id"] == snap["id"]
    assert ecs.actions().count("CreateSnapshot") == 1


def test_wait_times_out_with_a_message(ecs, run_module, monkeypatch):
    ecs.control("POST", "/_mlbox/config", {"snapshot_polls": 1000})
    clock = iter(range(0, 10_000, 7))
    monkeypatch.setattr(aliyun_snapshot.time, "monotonic", lambda: next(clock))
    out = run_module(aliyun_snapshot.main, {"disk_id": disk(ecs), "wait_timeout": 60})
    assert out.failed
    assert "still progressing" in out.result["msg"] and "wait_timeout" in out.result["msg"]


def test_failed_snapshot_fails(ecs, run_module, monkeypatch):
    ecs.control("POST", "/_mlbox/config", {"snapshot_polls": 3})
    disk_id = disk(ecs)

    def fail_it(_seconds: float) -> None:
        for snap in ecs.mod.ECS.state["snap"].values():
            snap["Status"] = "failed"

    monkeypatch.setattr(aliyun_snapshot.time, "sleep", fail_it)
    out = run_module(aliyun_snapshot.main, {"disk_id": disk_id})
    assert out.failed and "failed" in out.result["msg"]


def test_list_by_tags_and_status_oldest_first_then_delete(ecs, run_module):
    disk_id = disk(ecs)
    mine = {"Tag.1.Key": "mlbox:workbench", "Tag.1.Value": "wb"}
    first = ecs.call("CreateSnapshot", DiskId=disk_id, SnapshotName="wb-a", **mine)["SnapshotId"]
    second = ecs.call("CreateSnapshot", DiskId=disk_id, SnapshotName="wb-b", **mine)["SnapshotId"]
    ecs.call("CreateSnapshot", DiskId=disk_id, SnapshotName="other")
    out = run_module(aliyun_snapshot_info.main, {"tags": {"mlbox:workbench": "wb"}})
    assert out.result["changed"] is False
    assert [s["id"] for s in out.result["snapshots"]] == [first, second]
    by_name = run_module(aliyun_snapshot_info.main, {"disk_id": disk_id, "name": "other"})
    assert [s["name"] for s in by_name.result["snapshots"]] == ["other"]
    assert run_module(aliyun_snapshot_info.main, {"status": "failed"}).result["snapshots"] == []

    check = run_module(
        aliyun_snapshot.main, {"state": "absent", "snapshot_id": first, "_ansible_check_mode": True}
    )
    assert check.result["changed"] is True
    assert first in ecs.mod.ECS.state["snap"]
    gone = run_module(aliyun_snapshot.main, {"state": "absent", "snapshot_id": first})
    assert gone.result["changed"] is True and first not in ecs.mod.ECS.state["snap"]
    again = run_module(aliyun_snapshot.main, {"state": "absent", "snapshot_id": first})
    assert again.result["changed"] is False


def test_found_snapshot_gets_missing_tags(ecs, run_module):
    disk_id = disk(ecs)
    sid = ecs.call("CreateSnapshot", DiskId=disk_id, SnapshotName="keep")["SnapshotId"]
    out = run_module(aliyun_snapshot.main, {"snapshot_id": sid, "tags": {"k": "v"}})
    assert out.result["changed"] is True and out.result["snapshot"]["tags"] == {"k": "v"}
    assert utils.tags_dict(ecs.mod.ECS.state["snap"][sid]) == {"k": "v"}
    assert (
        run_module(aliyun_snapshot.main, {"snapshot_id": sid, "tags": {"k": "v"}}).result["changed"]
        is False
    )


def test_check_mode_creates_nothing(ecs, run_module):
    out = run_module(aliyun_snapshot.main, {"disk_id": disk(ecs), "_ansible_check_mode": True})
    assert out.result["changed"] is True
    assert "CreateSnapshot" not in ecs.actions()


def test_api_errors_carry_code_and_request_id(ecs, run_module):
    out = run_module(aliyun_snapshot.main, {"disk_id": "d-missing"})
    assert out.failed and out.result["code"] == "InvalidDiskId.NotFound"
    assert out.result["request_id"]


def test_throttling_is_retried_with_backoff(ecs, run_module):
    ecs.control(
        "POST", "/_mlbox/faults", [{"action": "CreateSnapshot", "code": "Throttling", "times": 2}]
    )
    pauses: list[float] = []
    client = utils.EcsClient("ak", SECRET, REGION, sleep=pauses.append)
    disk_id = disk(ecs)
    assert client.call("CreateSnapshot", DiskId=disk_id)["SnapshotId"]
    assert pauses == [1.0, 2.0]


@pytest.mark.parametrize(
    "env",
    [
        {
            "ALIYUN_ACCESS_KEY_ID": "ak-unit",
            "ALIYUN_ACCESS_KEY_SECRET": SECRET,
            "ALIYUN_REGION": REGION,
        },
        {
            "ALICLOUD_ACCESS_KEY": "ak-unit",
            "ALICLOUD_SECRET_KEY": SECRET,
            "ALICLOUD_REGION": REGION,
        },
    ],
)
def test_both_credential_names_work_and_the_secret_is_never_returned(
    ecs, run_module, monkeypatch, env
):
    for name in ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = run_module(aliyun_key_pair.main, {"name": "wb", "public_key": KEY})
    assert not out.failed, out.result
    assert SECRET not in json.dumps(out.result)
    assert "ImportKeyPair" in ecs.actions()


def test_missing_credentials_are_named(ecs, run_module, monkeypatch):
    monkeypatch.delenv("ALIYUN_ACCESS_KEY_SECRET")
    out = run_module(aliyun_key_pair.main, {"name": "wb", "public_key": KEY})
    assert out.failed and "ALIYUN_ACCESS_KEY_SECRET" in out.result["msg"]
    assert ecs.actions() == []


def test_secret_options_are_no_log():
    spec = utils.aliyun_argument_spec()
    assert (
        spec["secret_key"]["no_log"]
        and spec["access_key"]["no_log"]
        and spec["security_token"]["no_log"]
    )


def test_key_pair_import_is_idempotent(ecs, run_module):
    args = {"name": "wb", "public_key": KEY, "tags": {"mlbox:workbench": "wb"}}
    check = run_module(aliyun_key_pair.main, {**args, "_ansible_check_mode": True})
    assert check.result["changed"] is True and ecs.mod.ECS.state["kp"] == {}
    first = run_module(aliyun_key_pair.main, args)
    assert first.result["changed"] is True
    assert first.result["key_pair"]["fingerprint"] == aliyun_key_pair.fingerprint(KEY)
    assert first.result["key_pair"]["tags"] == {"mlbox:workbench": "wb"}
    second = run_module(aliyun_key_pair.main, args)
    assert second.result["changed"] is False
    assert ecs.actions().count("ImportKeyPair") == 1


def test_key_pair_with_another_key_fails_unless_forced(ecs, run_module):
    run_module(aliyun_key_pair.main, {"name": "wb", "public_key": KEY})
    refused = run_module(aliyun_key_pair.main, {"name": "wb", "public_key": OTHER_KEY})
    assert refused.failed and "force" in refused.result["msg"]
    forced = run_module(
        aliyun_key_pair.main, {"name": "wb", "public_key": OTHER_KEY, "force": True}
    )
    assert forced.result["changed"] is True
    assert ecs.mod.ECS.state["kp"]["wb"]["KeyPairFingerPrint"] == aliyun_key_pair.fingerprint(
        OTHER_KEY
    )


def test_key_pair_absent_and_bad_key(ecs, run_module):
    run_module(aliyun_key_pair.main, {"name": "wb", "public_key": KEY})
    gone = run_module(aliyun_key_pair.main, {"name": "wb", "state": "absent"})
    assert gone.result["changed"] is True and ecs.mod.ECS.state["kp"] == {}
    assert (
        run_module(aliyun_key_pair.main, {"name": "wb", "state": "absent"}).result["changed"]
        is False
    )
    bad = run_module(aliyun_key_pair.main, {"name": "wb", "public_key": "not a key"})
    assert bad.failed and "OpenSSH" in bad.result["msg"]


def test_double_refuses_spot_when_injected(ecs):
    ecs.control(
        "POST",
        "/_mlbox/faults",
        [
            {
                "action": "RunInstances",
                "code": "OperationDenied.NoStock",
                "match": {"SpotStrategy": "SpotAsPriceGo"},
            }
        ],
    )
    status, body = ecs.mod.ECS.handle(
        {
            "Action": "RunInstances",
            "Version": "2014-05-26",
            "RegionId": REGION,
            "SpotStrategy": "SpotAsPriceGo",
            "InstanceType": "ecs.g7.large",
        }
    )
    assert status == 403 and body["Code"] == "OperationDenied.NoStock" and body["RequestId"]
    journal = ecs.control("GET", "/_mlbox/requests")
    assert journal[-1]["code"] == "OperationDenied.NoStock"
    assert journal[-1]["params"]["SpotStrategy"] == "SpotAsPriceGo"


def test_workbench_info_returns_only_what_carries_the_tags(ecs, run_module):
    mine = {"Tag.1.Key": "mlbox:workbench", "Tag.1.Value": "wb"}
    other = {"Tag.1.Key": "mlbox:workbench", "Tag.1.Value": "wb-2"}
    vpc = ecs.call("CreateVpc", VpcName="workbench-wb", **mine)["VpcId"]
    ecs.call("CreateVpc", VpcName="workbench-wb")  # same name, no tag: not the workbench's
    ecs.call("CreateVSwitch", VpcId=vpc, ZoneId="cn-hangzhou-i", CidrBlock="172.16.1.0/24", **mine)
    group = ecs.call("CreateSecurityGroup", VpcId=vpc, SecurityGroupName="workbench-wb", **mine)
    ecs.call(
        "AuthorizeSecurityGroup",
        SecurityGroupId=group["SecurityGroupId"],
        IpProtocol="tcp",
        PortRange="22/22",
        SourceCidrIp="203.0.113.7/32",
    )
    ecs.call("ImportKeyPair", KeyPairName="workbench-wb", PublicKeyBody=KEY, **mine)
    data = disk(ecs, **mine)
    foreign = disk(ecs, **other)
    ecs.call("CreateSnapshot", DiskId=data, **mine)
    ecs.call("CreateSnapshot", DiskId=foreign, **other)

    args = {"tags": {"mlbox:workbench": "wb"}, "disk_ids": [foreign]}
    ecs.control("DELETE", "/_mlbox/requests")
    out = run_module(aliyun_workbench_info.main, {**args, "_ansible_check_mode": True})
    result = out.result
    assert not out.failed and result["changed"] is False
    assert [v["id"] for v in result["vpcs"]] == [vpc]
    assert result["vpcs"][0]["tags"] == {"mlbox:workbench": "wb"}  # the VPC API's Key/Value
    assert [v["vpc_id"] for v in result["vswitches"]] == [vpc]
    [found_group] = result["security_groups"]
    assert found_group["rules"] == [
        {
            "direction": "ingress",
            "ip_protocol": "tcp",
            "port_range": "22/22",
            "source_cidr_ip": "203.0.113.7/32",
        }
    ]
    assert [k["name"] for k in result["key_pairs"]] == ["workbench-wb"]
    assert [d["id"] for d in result["disks"]] == [data]
    assert result["disks"][0]["status"] == "in_use"
    # A disk asked for by id comes back whatever its tags, so the caller can say whose it is.
    assert [(d["id"], d["tags"]) for d in result["given_disks"]] == [
        (foreign, {"mlbox:workbench": "wb-2"})
    ]
    assert result["snapshots"] == []  # not asked for
    with_snapshots = run_module(aliyun_workbench_info.main, {**args, "snapshots": True})
    assert [s["disk_id"] for s in with_snapshots.result["snapshots"]] == [data]
    assert ecs.actions() and all(a.startswith("Describe") for a in ecs.actions())


def test_workbench_info_checks_the_region_and_the_key(ecs, run_module, monkeypatch):
    ecs.call("ImportKeyPair", KeyPairName="workbench-wb", PublicKeyBody=KEY, **{
        "Tag.1.Key": "mlbox:workbench", "Tag.1.Value": "wb"})  # fmt: skip
    args = {"tags": {"mlbox:workbench": "wb"}, "region_check": True}
    same = run_module(aliyun_workbench_info.main, {**args, "public_key": KEY}).result
    assert same["region_known"] is True and "cn-beijing" in same["regions"]
    assert "ecs.g7.large" in same["zones"][0]["instance_types"]
    assert [k["matches"] for k in same["key_pairs"]] == [True]
    other = run_module(aliyun_workbench_info.main, {**args, "public_key": OTHER_KEY}).result
    assert [k["matches"] for k in other["key_pairs"]] == [False]

    # An unknown region: said so, and nothing else asked (it would only fail there).
    monkeypatch.setenv("ALIYUN_REGION", "xx-nowhere-1")
    ecs.control("DELETE", "/_mlbox/requests")
    nowhere = run_module(aliyun_workbench_info.main, args).result
    assert nowhere["region_known"] is False and nowhere["zones"] == []
    assert nowhere["key_pairs"] == [] and nowhere["disks"] == []
    assert ecs.actions() == ["DescribeRegions"]


def test_workbench_info_refuses_an_empty_tag_filter(ecs, run_module):
    out = run_module(aliyun_workbench_info.main, {"tags": {}})
    assert out.failed and "tags" in out.result["msg"]
    assert ecs.actions() == []


def test_workbench_info_finds_an_untagged_disk_named_for_the_instance(ecs, run_module):
    """A run killed between CreateDisk and its tagging leaves a disk named for the instance
    but without the tags: disk_name_prefix returns it as untagged_disks, so teardown can tag
    and handle it; a disk named for another instance, or already tagged, is not among them."""
    mine = {"Tag.1.Key": "mlbox:workbench", "Tag.1.Value": "wb"}
    vpc = ecs.call("CreateVpc", VpcName="workbench-wb", **mine)["VpcId"]
    vsw = ecs.call(
        "CreateVSwitch", VpcId=vpc, ZoneId="cn-hangzhou-i", CidrBlock="172.16.1.0/24", **mine
    )["VSwitchId"]
    group = ecs.call("CreateSecurityGroup", VpcId=vpc, **mine)["SecurityGroupId"]
    inst = instance(ecs, SecurityGroupId=group, VSwitchId=vsw, **mine)
    prefix = "workbench-wb-data-"
    untagged = {"DiskId": new_disk(ecs, DiskName=prefix + inst)}
    tagged_one = {"DiskId": new_disk(ecs, DiskName=prefix + inst, **mine)}
    new_disk(ecs, DiskName=prefix + "i-someoneelse")

    args = {"tags": {"mlbox:workbench": "wb"}}
    found = run_module(aliyun_workbench_info.main, {**args, "disk_name_prefix": prefix}).result
    assert [d["id"] for d in found["untagged_disks"]] == [untagged["DiskId"]]
    assert [d["id"] for d in found["disks"]] == [tagged_one["DiskId"]]
    without = run_module(aliyun_workbench_info.main, args).result
    assert without["untagged_disks"] == []


def test_snapshot_of_a_disk_never_attached_is_skipped_not_failed(ecs, run_module):
    """ECS refuses it (IncorrectDiskStatus.NeverAttached); it holds only what it was made of"""
    out = run_module(aliyun_snapshot.main, {"disk_id": new_disk(ecs), "name": "wb-empty"})
    assert not out.failed, out.result
    assert out.result["changed"] is False and out.result["snapshot"] == {}
    assert out.result["skipped_reason"] == "never_attached"


def test_a_snapshot_a_disk_was_made_from_is_kept_unless_forced(ecs, run_module):
    disk_id = disk(ecs)
    sid = ecs.call("CreateSnapshot", DiskId=disk_id, SnapshotName="wb-source")["SnapshotId"]
    new_disk(ecs, SnapshotId=sid)
    kept = run_module(aliyun_snapshot.main, {"state": "absent", "snapshot_id": sid})
    assert not kept.failed, kept.result
    assert kept.result["changed"] is False
    assert kept.result["skipped_reason"] == "disk_created_from_it"
    assert sid in ecs.mod.ECS.state["snap"]
    forced = run_module(
        aliyun_snapshot.main, {"state": "absent", "snapshot_id": sid, "force": True}
    )
    assert forced.result["changed"] is True and sid not in ecs.mod.ECS.state["snap"]


@pytest.fixture
def slow(ecs: Double) -> Double:
    """Transitions on: each step of a disk or an instance takes two reads."""
    ecs.control("POST", "/_mlbox/config", {"polls": 2})
    return ecs


def test_disk_is_created_tagged_then_attached_and_the_attachment_verified(slow, run_module):
    inst = instance(slow)  # still Pending: the module waits until it runs
    args = {
        "name": "workbench-wb-data-" + inst,
        "zone_id": "cn-hangzhou-i",
        "size_gb": 20,
        "performance_level": "PL0",
        "tags": {"mlbox:workbench": "wb", "mlbox:instance": inst},
        "instance_id": inst,
    }
    out = run_module(aliyun_disk.main, args)
    assert not out.failed, out.result
    made = out.result["disk"]
    assert out.result["changed"] is True
    assert (made["status"], made["instance_id"]) == ("in_use", inst)
    assert made["category"] == "cloud_essd" and made["performance_level"] == "PL0"
    assert made["tags"] == {"mlbox:workbench": "wb", "mlbox:instance": inst}
    assert made["device"].startswith("/dev/xvd")
    journal = slow.control("GET", "/_mlbox/requests")
    [create] = [c["params"] for c in journal if c["action"] == "CreateDisk"]
    assert create["Tag.1.Key"] and create["PerformanceLevel"] == "PL0"
    # The disk was attached only once it was Available and the instance Running.
    seen = [c["action"] for c in journal]
    assert seen.count("AttachDisk") == 1
    attach_at = seen.index("AttachDisk")
    assert "DescribeInstances" in seen[:attach_at]

    again = run_module(aliyun_disk.main, args)  # found by name, attached: nothing to do
    assert again.result["changed"] is False and again.result["disk"]["id"] == made["id"]


def test_disk_attached_elsewhere_or_missing_fails_clearly(ecs, run_module):
    held = disk(ecs)
    holder = ecs.mod.ECS.state["disk"][held]["InstanceId"]
    other = instance(ecs)
    out = run_module(aliyun_disk.main, {"disk_id": held, "instance_id": other})
    assert out.failed and f"attached to {holder}" in out.result["msg"]
    assert ecs.actions().count("AttachDisk") == 1  # the one disk() made
    gone = run_module(aliyun_disk.main, {"disk_id": "d-nope", "instance_id": other})
    assert gone.failed and "does not exist" in gone.result["msg"]


def test_disk_attach_that_never_happens_fails_with_its_state(slow, run_module):
    """the attachment is verified: a disk stuck Attaching fails the task within its timeout"""
    slow.control("POST", "/_mlbox/config", {"polls": 0})
    inst = instance(slow)
    disk_id = new_disk(slow)
    slow.control("POST", "/_mlbox/config", {"polls": 10_000})
    out = run_module(aliyun_disk.main, {"disk_id": disk_id, "instance_id": inst, "timeout": 0.5})
    assert out.failed
    assert "did not happen within 0.5 s" in out.result["msg"], out.result
    assert f"disk {disk_id} is Attaching" in out.result["msg"]


def test_disk_delete_waits_and_never_deletes_a_held_disk(slow, run_module):
    slow.control("POST", "/_mlbox/config", {"polls": 0})
    held = disk(slow)
    slow.control("POST", "/_mlbox/config", {"polls": 2})
    refused = run_module(aliyun_disk.main, {"state": "absent", "disk_id": held})
    assert refused.failed and "not deleted while an instance holds it" in refused.result["msg"]
    assert held in slow.mod.ECS.state["disk"]
    free = new_disk(slow)  # still Creating: waited for, then deleted
    out = run_module(aliyun_disk.main, {"state": "absent", "disk_id": free})
    assert out.result["changed"] is True and free not in slow.mod.ECS.state["disk"]
    again = run_module(aliyun_disk.main, {"state": "absent", "disk_id": free})
    assert again.result["changed"] is False


def test_disk_check_mode_makes_nothing(ecs, run_module):
    args = {"name": "workbench-wb-data-x", "zone_id": "cn-hangzhou-i", "size_gb": 20}
    out = run_module(aliyun_disk.main, {**args, "_ansible_check_mode": True})
    assert out.result["changed"] is True and ecs.mod.ECS.state["disk"] == {}


def test_workbench_info_resolves_the_newest_ubuntu_lts_image(ecs, run_module):
    args = {"tags": {"mlbox:workbench": "wb"}, "instance_type": "ecs.g7.large"}
    newest = run_module(aliyun_workbench_info.main, {**args, "image": "ubuntu-lts"}).result
    # 24.10 is newer but not LTS, the arm64 build of 24.04 not x86_64, 22.04 older.
    assert newest["image"]["id"] == "ubuntu_24_04_x64_20G_alibase_20250113.vhd"
    assert newest["image"]["size_gb"] == 20
    given = "ubuntu_22_04_x64_20G_alibase_20240926.vhd"
    found = run_module(aliyun_workbench_info.main, {**args, "image": given}).result
    assert found["image"]["id"] == given
    missing = run_module(aliyun_workbench_info.main, {**args, "image": "ubuntu_x.vhd"}).result
    assert missing["image"] == {}


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (
            ["ubuntu_22_04_x64_20G_alibase_20240101.vhd"],
            "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
        ),
        (["ubuntu_23_04_x64_20G_alibase_20240101.vhd"], None),
        (["ubuntu_24_04_arm64_20G_alibase_20250101.vhd"], None),
        (
            [
                "ubuntu_20_04_x64_20G_alibase_20250101.vhd",
                "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
            ],
            "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
        ),
        (["debian_12_6_x64_20G_alibase_20240823.vhd"], None),
    ],
)
def test_newest_ubuntu_lts(ids, expected):
    images = [
        {
            "ImageId": i,
            "Architecture": "arm64" if "arm64" in i else "x86_64",
            "Status": "Available",
            "CreationTime": "20" + i.rsplit("_", 1)[1][2:8],
        }
        for i in ids
    ]
    chosen = utils.newest_ubuntu_lts(images)
    assert (chosen["id"] if chosen else None) == expected
