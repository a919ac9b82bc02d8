"""Every documented rule of the ECS/VPC double fires, with the API's code, status and message;
every fault of the catalogue can be injected and nothing else can; resources settle after
reads, not time."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aliyun_account import IMAGE, ZONE, Account, Refused, public_key
from aliyun_rules import FAULTS, RULES, name_ok


def attached_disk(a: Account) -> tuple[str, str]:
    instance = a.instance()
    disk = a.disk()
    a.attached(instance, disk)
    return instance, disk


def snapshot(a: Account, disk: str, name: str = "wb-snap") -> str:
    return a.call("CreateSnapshot", DiskId=disk, SnapshotName=name)["SnapshotId"]


def launch(a: Account, **params: str) -> Refused:
    vsw, group = a.network()
    base = {
        "InstanceType": "ecs.g7.large",
        "ImageId": IMAGE,
        "SecurityGroupId": group,
        "VSwitchId": vsw,
        "SystemDisk.Category": "cloud_essd",
    }
    return a.refused("RunInstances", **{**base, **params})


def in_progress(a: Account) -> Refused:
    _instance, disk = attached_disk(a)
    a.ecs.settings["snapshot_polls"] = 5
    snapshot(a, disk)
    return a.refused("CreateSnapshot", DiskId=disk, SnapshotName="wb-second")


def quota_snapshots(a: Account) -> Refused:
    _instance, disk = attached_disk(a)
    a.ecs.settings["snapshot_polls"] = 0
    for n in range(256):
        snapshot(a, disk, f"wb-{n}")
    return a.refused("CreateSnapshot", DiskId=disk, SnapshotName="wb-too-many")


def quota_disks(a: Account) -> Refused:
    instance = a.instance()
    a.ecs.settings["polls"] = 0
    for _disk in range(16):
        a.call("AttachDisk", DiskId=a.disk(), InstanceId=instance)
    return a.refused("AttachDisk", DiskId=a.disk(), InstanceId=instance)


def snapshot_of_creating_disk(a: Account) -> Refused:
    _instance, disk = attached_disk(a)
    a.call("DetachDisk", DiskId=disk, InstanceId=a.ecs.state["disk"][disk]["InstanceId"])
    return a.refused("CreateSnapshot", DiskId=disk, SnapshotName="wb-detaching")


def snapshot_of_stopping_instance(a: Account) -> Refused:
    instance, disk = attached_disk(a)
    a.call("StopInstance", InstanceId=instance)
    return a.refused("CreateSnapshot", DiskId=disk, SnapshotName="wb-stopping")


def restored_then_pruned(a: Account) -> Refused:
    _instance, disk = attached_disk(a)
    snap = snapshot(a, disk)
    a.call("DescribeSnapshots", SnapshotIds=f'["{snap}"]')
    a.disk(SnapshotId=snap)
    return a.refused("DeleteSnapshot", SnapshotId=snap)


def restore_unfinished(a: Account) -> Refused:
    _instance, disk = attached_disk(a)
    a.ecs.settings["snapshot_polls"] = 5
    snap = snapshot(a, disk)
    return a.refused("CreateDisk", ZoneId=ZONE, DiskCategory="cloud_essd", SnapshotId=snap)


def attach_to(a: Account, zone: str = ZONE, category: str = "cloud_essd") -> Refused:
    instance = a.instance()
    disk = a.disk(ZoneId=zone, DiskCategory=category, Size=40)
    return a.refused("AttachDisk", DiskId=disk, InstanceId=instance)


def attach_to_pending(a: Account) -> Refused:
    instance = a.instance(settle=False)
    return a.refused("AttachDisk", DiskId=a.disk(), InstanceId=instance)


def detach_free(a: Account) -> Refused:
    instance = a.instance()
    return a.refused("DetachDisk", DiskId=a.disk(), InstanceId=instance)


def detach_from_stopping(a: Account) -> Refused:
    instance, disk = attached_disk(a)
    a.call("StopInstance", InstanceId=instance)
    return a.refused("DetachDisk", DiskId=disk, InstanceId=instance)


def delete_in_use(a: Account) -> Refused:
    _instance, disk = attached_disk(a)
    return a.refused("DeleteDisk", DiskId=disk)


def system_disk(a: Account) -> Refused:
    instance = a.instance()
    [root] = [d for d in a.ecs.state["disk"].values() if d["InstanceId"] == instance]
    other = a.instance()
    a.ecs.state["disk"][root["DiskId"]]["Status"] = "Available"  # as if detached
    return a.refused("AttachDisk", DiskId=root["DiskId"], InstanceId=other)


def delete_group_in_use(a: Account) -> Refused:
    instance = a.instance()
    group = a.ecs.state["inst"][instance]["SecurityGroupIds"]["SecurityGroupId"][0]
    return a.refused("DeleteSecurityGroup", SecurityGroupId=group)


def delete_vswitch_in_use(a: Account) -> Refused:
    instance = a.instance()
    return a.refused(
        "DeleteVSwitch", VSwitchId=a.ecs.state["inst"][instance]["VpcAttributes"]["VSwitchId"]
    )


def delete_vpc_with_vswitch(a: Account) -> Refused:
    a.network()
    [vpc] = a.ecs.state["vpc"]
    return a.refused("DeleteVpc", VpcId=vpc)


TRIGGERS: dict[str, Callable[[Account], Refused]] = {
    "key-type": lambda a: a.refused(
        "ImportKeyPair", KeyPairName="workbench-t", PublicKeyBody=public_key("ssh-ed25519")
    ),
    "key-pair-name": lambda a: a.refused(
        "ImportKeyPair", KeyPairName="1-workbench", PublicKeyBody=public_key()
    ),
    "key-pair-exists": lambda a: (
        a.call("ImportKeyPair", KeyPairName="workbench-t", PublicKeyBody=public_key()),
        a.refused("ImportKeyPair", KeyPairName="workbench-t", PublicKeyBody=public_key()),
    )[1],
    "disk-name": lambda a: a.refused("CreateDisk", ZoneId=ZONE, Size=20, DiskName="-data"),
    "snapshot-name": lambda a: a.refused(
        "CreateSnapshot", DiskId=attached_disk(a)[1], SnapshotName="auto-20250101"
    ),
    "instance-name": lambda a: launch(a, InstanceName="workbench/one"),
    "host-name": lambda a: launch(a, HostName="workbench--one"),
    "security-group-name": lambda a: a.refused(
        "CreateSecurityGroup", SecurityGroupName="https://workbench"
    ),
    "disk-category-family": lambda a: launch(a, **{"SystemDisk.Category": "cloud_efficiency"}),
    "system-disk-size": lambda a: launch(a, **{"SystemDisk.Size": "4096"}),
    "system-disk-image-size": lambda a: launch(
        a,
        ImageId="aliyun_3_x64_20G_alibase_20250117.vhd",
        **{"SystemDisk.Size": "30"},
    ),
    "data-disk-size": lambda a: a.refused(
        "CreateDisk", ZoneId=ZONE, DiskCategory="cloud_essd", PerformanceLevel="PL2", Size=100
    ),
    "performance-level": lambda a: a.refused(
        "CreateDisk", ZoneId=ZONE, DiskCategory="cloud_efficiency", PerformanceLevel="PL1", Size=40
    ),
    "image-exists": lambda a: launch(a, ImageId="ubuntu_22_04_x64_20G_alibase_20240101.vhd"),
    "image-instance-type": lambda a: launch(
        a, ImageId="ubuntu_24_04_arm64_20G_alibase_20250113.vhd"
    ),
    "instance-type-exists": lambda a: launch(a, InstanceType="ecs.g99.large"),
    "snapshot-never-attached": lambda a: a.refused(
        "CreateSnapshot", DiskId=a.disk(), SnapshotName="wb-empty"
    ),
    "snapshot-in-progress": in_progress,
    "snapshot-disk-status": snapshot_of_creating_disk,
    "snapshot-instance-status": snapshot_of_stopping_instance,
    "snapshot-quota": quota_snapshots,
    "snapshot-created-disk": restored_then_pruned,
    "snapshot-not-ready": restore_unfinished,
    "attach-disk-status": lambda a: a.refused(
        "AttachDisk", DiskId=a.disk(settle=False), InstanceId=a.instance()
    ),
    "attach-instance-status": attach_to_pending,
    "attach-zone": lambda a: attach_to(a, zone="cn-hangzhou-i"),
    "attach-portable": system_disk,
    "attach-disk-quota": quota_disks,
    "detach-disk-status": detach_free,
    "detach-instance-status": detach_from_stopping,
    "delete-disk-status": delete_in_use,
    "delete-instance-status": lambda a: a.refused("DeleteInstance", InstanceId=a.instance()),
    "delete-instance-initializing": lambda a: a.refused(
        "DeleteInstance", InstanceId=a.instance(settle=False), Force="true"
    ),
    "vpc-has-vswitches": delete_vpc_with_vswitch,
    "vswitch-in-use": delete_vswitch_in_use,
    "security-group-in-use": delete_group_in_use,
}


def test_every_rule_has_a_trigger() -> None:
    assert set(TRIGGERS) == set(RULES), set(TRIGGERS) ^ set(RULES)


def test_every_rule_cites_a_source() -> None:
    for name, rule in RULES.items():
        assert rule.source.split(":")[0] in ("sdk", "api", "family", "gardener-codes"), name


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rule_fires_with_the_apis_answer(rule: str) -> None:
    refused = TRIGGERS[rule](Account())
    row = RULES[rule]
    assert (refused.code, refused.status) == (row.code, row.status), refused
    assert refused.message.startswith(row.message), refused.message


def test_the_disk_category_rule_holds_for_data_disks_too() -> None:
    """an ultra disk attached to a g7 (ESSD only) is refused; to a g6 it is not"""
    refused = attach_to(Account(), category="cloud_efficiency")
    assert refused.code == RULES["disk-category-family"].code
    a = Account()
    instance = a.instance(
        InstanceType="ecs.g6.large", **{"SystemDisk.Category": "cloud_efficiency"}
    )
    disk = a.disk(DiskCategory="cloud_efficiency")
    a.attached(instance, disk)


@pytest.mark.parametrize(
    ("level", "smallest"), [("PL0", 1), ("PL1", 20), ("PL2", 461), ("PL3", 1261)]
)
def test_essd_sizes_follow_the_performance_level(level: str, smallest: int) -> None:
    a = Account(polls=0)
    essd = {"ZoneId": ZONE, "DiskCategory": "cloud_essd", "PerformanceLevel": level}
    a.call("CreateDisk", **essd, Size=smallest)
    refused = a.refused("CreateDisk", **essd, Size=smallest - 1)
    assert refused.code == RULES["data-disk-size"].code
    assert a.refused("CreateDisk", **essd, Size=65537).code == RULES["data-disk-size"].code


@pytest.mark.parametrize(
    ("kind", "name", "ok"),
    [
        ("SnapshotName", "workbench-mlbox-20250101T000000Z", True),
        ("SnapshotName", "autumn-20250101", True),
        ("SnapshotName", "Auto-20250101", False),
        ("SnapshotName", "http://x", False),
        ("SnapshotName", "m", False),
        ("KeyPairName", "workbench-mlbox", True),
        ("KeyPairName", "9lives", False),
        ("DiskName", "workbench-mlbox-data-i-abc", True),
        ("HostName", "workbench-mlbox", True),
        ("HostName", "workbench.", False),
        ("InstanceName", "x" * 129, False),
    ],
)
def test_name_rules(kind: str, name: str, ok: bool) -> None:
    assert name_ok(kind, name) is ok


@pytest.mark.parametrize("kind", ["ssh-rsa", "ecdsa-sha2-nistp256", "ssh-dss"])
def test_the_key_types_ecs_accepts(kind: str) -> None:
    answer = Account().call(
        "ImportKeyPair", KeyPairName="workbench-t", PublicKeyBody=public_key(kind)
    )
    assert len(answer["KeyPairFingerPrint"]) == 32


@pytest.mark.parametrize("code", sorted(FAULTS))
def test_every_fault_of_the_catalogue_can_be_injected(code: str) -> None:
    a = Account()
    a.ecs.add_faults([{"action": "RunInstances", "code": code, "times": 1}])
    refused = launch(a)
    assert (refused.code, refused.status, refused.message) == (
        code,
        FAULTS[code].status,
        FAULTS[code].message,
    )


def test_a_code_in_no_error_table_cannot_be_injected() -> None:
    """the role's old OperationDenied.SpotNotAllowed is in no source"""
    with pytest.raises(ValueError, match="no error table"):
        Account().ecs.add_faults(
            [{"action": "RunInstances", "code": "OperationDenied.SpotNotAllowed"}]
        )


def test_an_instance_starts_over_several_reads() -> None:
    a = Account(polls=2)
    instance = a.instance(settle=False)
    seen = [
        a.call("DescribeInstances", InstanceIds=f'["{instance}"]')["Instances"]["Instance"][0][
            "Status"
        ]
        for _poll in range(6)
    ]
    assert seen == ["Pending", "Pending", "Starting", "Starting", "Running", "Running"]


def test_a_disk_is_created_then_attached_over_reads() -> None:
    a = Account(polls=1)
    instance = a.instance()
    disk = a.disk(settle=False)
    assert a.settle("disk", disk, "Available")["Status"] == "Available"
    a.call("AttachDisk", DiskId=disk, InstanceId=instance)
    [first] = a.call("DescribeDisks", DiskIds=f'["{disk}"]')["Disks"]["Disk"]
    assert (first["Status"], first["InstanceId"], first["Device"]) == ("Attaching", instance, "")
    [then] = a.call("DescribeDisks", DiskIds=f'["{disk}"]')["Disks"]["Disk"]
    assert then["Status"] == "In_use" and then["Device"].startswith("/dev/xvd")


def test_polls_zero_is_instant() -> None:
    """the opt-in for a test that says why: no transitional state is ever seen"""
    a = Account(polls=0)
    vsw, group = a.network()
    [instance] = a.call(
        "RunInstances",
        InstanceType="ecs.g7.large",
        ImageId=IMAGE,
        SecurityGroupId=group,
        VSwitchId=vsw,
        **{"SystemDisk.Category": "cloud_essd"},
    )["InstanceIdSets"]["InstanceIdSet"]
    assert a.ecs.state["inst"][instance]["Status"] == "Running"
    disk = a.call("CreateDisk", ZoneId=ZONE, DiskCategory="cloud_essd", Size=20)["DiskId"]
    assert a.ecs.state["disk"][disk]["Status"] == "Available"
