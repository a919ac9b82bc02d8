"""The cloud_aliyun lifecycle against the ECS double: new disk, snapshot, restore, reuse,
a second run that changes nothing, a teardown stopped half-way and finished, nothing left.

One long test on purpose: every step starts from what the step before left, as a user's
workbench does, and each ansible-playbook run costs seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
from aliyun_helpers import ALLOWED_CIDR, TAG, Double, Run, Workbench, decoys, tags_of

pytestmark = pytest.mark.aliyun

BOUND = "mlbox:instance"
WORKBENCH_KINDS = ("vpc", "vsw", "sg", "kp", "inst", "disk")


def resource(double: Double, kind: str, key: str) -> dict[str, Any]:
    return double.state()[kind][key]


def index(calls: list[dict[str, Any]], action: str, **params: str) -> int:
    """Position of the first call of the action with these parameters."""
    for n, call in enumerate(calls):
        if call["action"] == action and all(call["params"].get(k) == v for k, v in params.items()):
            return n
    raise AssertionError(f"no {action} {params} in {[c['action'] for c in calls]}")


def accomplished_at(calls: list[dict[str, Any]], snapshot_id: str) -> int:
    """Position of the first answer that told a caller the snapshot was accomplished."""
    for n, call in enumerate(calls):
        if call.get("seen", {}).get(snapshot_id) == "accomplished":
            return n
    raise AssertionError(f"{snapshot_id} was never answered accomplished")


def assert_up(run: Run, double: Double, workbench: Workbench) -> dict[str, Any]:
    """The contract's workbench_instance, checked against what the double holds."""
    assert run.rc == 0, run.explain()
    facts = run.fact("workbench_instance")
    assert facts["cloud"] == "aliyun"
    assert facts["name"] == workbench.name
    assert facts["ssh_user"] == "root"
    assert facts["ssh_port"] == 22
    assert facts["notebook_port"] == 8888
    assert facts["disk_device_hint"] == {"serial": facts["disk_id"].removeprefix("d-")}
    instance = resource(double, "inst", facts["id"])
    assert instance["Status"] == "Running"
    assert instance["PublicIpAddress"]["IpAddress"] == [facts["public_ip"]]
    assert instance["KeyPairName"] == f"workbench-{workbench.name}"
    assert tags_of(instance)[TAG] == workbench.name
    assert facts["zone"] == instance["ZoneId"]
    disk = resource(double, "disk", facts["disk_id"])
    assert disk["InstanceId"] == facts["id"] and disk["Status"] == "In_use"
    # The data disk outlives the instance, and is bound to it until down releases it.
    assert disk["DeleteWithInstance"] is False and disk["Portable"] is True
    assert disk["Category"] == "cloud_essd"
    assert tags_of(disk) == {TAG: workbench.name, "mlbox:disk": "data", BOUND: facts["id"]}
    return facts


def assert_network(double: Double, workbench: Workbench) -> None:
    [vpc] = double.tagged("vpc", workbench.name)
    [vsw] = double.tagged("vsw", workbench.name)
    [group] = double.tagged("sg", workbench.name)
    [pair] = double.tagged("kp", workbench.name)
    assert vsw["VpcId"] == vpc["VpcId"] and group["VpcId"] == vpc["VpcId"]
    assert pair["KeyPairName"] == f"workbench-{workbench.name}"
    rules = sorted(
        (r["IpProtocol"], r["PortRange"], r["SourceCidrIp"])
        for r in group["Permissions"]
        if r["Direction"] == "ingress"
    )
    assert rules == [("TCP", "22/22", ALLOWED_CIDR), ("TCP", "8888/8888", ALLOWED_CIDR)]


def assert_nothing_left(double: Double, workbench: Workbench) -> None:
    for kind in WORKBENCH_KINDS:
        assert double.tagged(kind, workbench.name) == [], kind


def assert_decoys_untouched(double: Double, others: dict[str, str], before: dict) -> None:
    now = double.state()
    for kind in ("vpc", "vsw", "sg", "kp", "disk", "inst"):
        assert now[kind][others[kind]] == before[kind][others[kind]], kind
    assert now["disk"][others["untagged_disk"]] == before["disk"][others["untagged_disk"]]
    assert others["snap"] in now["snap"]


def test_lifecycle_new_snapshot_restore_existing(double: Double, workbench: Workbench) -> None:
    others = decoys(double)
    before = double.state()

    # 1. A new disk, on a spot instance that goes up to the pay-as-you-go price.
    double.forget_requests()
    first = workbench.up()
    facts = assert_up(first, double, workbench)
    assert facts["spot"] is True
    [launch] = double.calls("RunInstances")
    assert launch["SpotStrategy"] == "SpotAsPriceGo" and "SpotPriceLimit" not in launch
    assert launch["InstanceChargeType"] == "PostPaid"
    assert resource(double, "disk", facts["disk_id"])["Size"] == 20
    assert_network(double, workbench)

    # 2. Teardown with a snapshot, deleting the disk: the snapshot is accomplished before the
    #    instance or the disk goes.
    double.configure(snapshot_polls=2)
    double.forget_requests()
    down = workbench.down(workbench_snapshot_on_delete=True, workbench_delete_disk=True)
    assert down.rc == 0, down.explain()
    calls = double.requests()
    [snapshot] = double.tagged("snap", workbench.name)
    assert snapshot["SourceDiskId"] == facts["disk_id"]
    assert snapshot["Status"] == "accomplished"
    taken = index(calls, "CreateSnapshot", DiskId=facts["disk_id"])
    done = accomplished_at(calls, snapshot["SnapshotId"])
    instance_gone = index(calls, "DeleteInstance", InstanceId=facts["id"])
    disk_gone = index(calls, "DeleteDisk", DiskId=facts["disk_id"])
    assert taken < done < instance_gone < disk_gone
    assert_nothing_left(double, workbench)

    # 3. Restore from the latest snapshot into a new disk, spot with a price limit. A kept disk
    #    of the workbench in the zone, named as the role named every disk before (ali_disk
    #    looks a disk up by name before it creates one), is not taken instead.
    old_kept = double.call(
        "CreateDisk",
        ZoneId=facts["zone"],
        Size=20,
        DiskName=f"workbench-{workbench.name}-data",
        Tags={TAG: workbench.name, "mlbox:disk": "data"},
    )["DiskId"]
    double.forget_requests()
    restored_run = workbench.up(
        workbench_disk_source="snapshot",
        workbench_snapshot_id="latest",
        workbench_spot_max_price="0.25",
    )
    restored = assert_up(restored_run, double, workbench)
    assert restored["spot"] is True and restored["id"] != facts["id"]
    [launch] = double.calls("RunInstances")
    assert launch["SpotStrategy"] == "SpotWithPriceLimit"
    assert float(launch["SpotPriceLimit"]) == 0.25
    [create] = double.calls("CreateDisk")
    assert create["SnapshotId"] == snapshot["SnapshotId"]
    restored_disk = resource(double, "disk", restored["disk_id"])
    assert restored_disk["SourceSnapshotId"] == snapshot["SnapshotId"]
    assert restored_disk["Size"] >= 20
    assert resource(double, "disk", old_kept)["Status"] == "Available"
    double.call("DeleteDisk", DiskId=old_kept)

    # 4. Teardown keeping the disk: it stays, detached and released from the instance.
    kept_run = workbench.down()
    assert kept_run.rc == 0, kept_run.explain()
    kept = resource(double, "disk", restored["disk_id"])
    assert kept["Status"] == "Available" and kept["InstanceId"] == ""
    assert BOUND not in tags_of(kept)
    assert double.tagged("inst", workbench.name) == []
    assert double.tagged("vpc", workbench.name) == []

    # 5. The normalized lists the wrapper scripts show.
    listed = workbench.disks()
    assert listed.rc == 0, listed.explain()
    [disk] = listed.fact("workbench_disks")
    assert disk["id"] == kept["DiskId"] and disk["attached_to"] == ""
    assert set(disk) == {"id", "name", "size_gb", "created", "status", "zone", "attached_to"}
    assert disk["status"] == "available" and disk["size_gb"] == kept["Size"]
    [listed_snapshot] = listed.fact("workbench_snapshots")
    assert listed_snapshot["id"] == snapshot["SnapshotId"]
    assert listed_snapshot["status"] == "accomplished"

    # 6. Reuse that disk as it is: attached again, nothing new made for it.
    double.forget_requests()
    reused_run = workbench.up(workbench_disk_source="existing", workbench_disk_id=kept["DiskId"])
    reused = assert_up(reused_run, double, workbench)
    assert reused["disk_id"] == kept["DiskId"]
    assert "CreateDisk" not in double.actions()

    # 7. The same command again: the disk is on the workbench's own instance, which is fine;
    #    everything is found, nothing changes, nothing is sent that changes anything.
    double.forget_requests()
    again = workbench.up(workbench_disk_source="existing", workbench_disk_id=kept["DiskId"])
    assert again.rc == 0, again.explain()
    assert again.changed == 0, again.changed_tasks()
    assert again.fact("workbench_instance") == reused
    assert double.mutations() == []

    # 8. A teardown killed after the instance went, while the disk delete is being refused;
    #    run again without naming the disk, it finds the disk by its binding and finishes.
    double.inject({"action": "DeleteDisk", "code": "OperationDenied", "times": -1})
    workbench.kill_at(double, "DeleteDisk", "down", workbench_delete_disk=True)
    double.clear_faults()
    assert double.tagged("inst", workbench.name) == []
    assert kept["DiskId"] in double.state()["disk"]
    assert tags_of(resource(double, "disk", kept["DiskId"]))[BOUND] == reused["id"]
    #    This time with a snapshot first, keeping only the newest one.
    finished = workbench.down(
        workbench_delete_disk=True, workbench_snapshot_on_delete=True, workbench_keep_snapshots=1
    )
    assert finished.rc == 0, finished.explain()
    assert kept["DiskId"] not in double.state()["disk"]

    # 9. Nothing of the workbench is left but its newest snapshot; the other workbench's resources
    #    and the untagged disk were never touched; a teardown now has nothing to do.
    assert_nothing_left(double, workbench)
    [last] = double.tagged("snap", workbench.name)  # the older one was pruned
    assert last["SourceDiskId"] == kept["DiskId"] and last["Status"] == "accomplished"
    assert_decoys_untouched(double, others, before)
    double.forget_requests()
    idle = workbench.down()
    assert idle.rc == 0, idle.explain()
    assert idle.changed == 0, idle.changed_tasks()
    assert double.mutations() == []
