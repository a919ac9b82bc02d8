"""The cloud_azure lifecycle against the ARM double, in one long run that shares its
provisions: new disk on a Regular VM after a Spot refusal, a second up that changes nothing,
teardown with a snapshot that keeps the disk (and never deletes it with the VM), reuse of
that disk on a Spot VM,
teardown with snapshot + delete + prune, restore from the latest snapshot, final teardown."""

from __future__ import annotations

from typing import Any

import pytest
from azure_helpers import (
    ALLOWED_CIDR,
    LOCATION,
    Arm,
    Run,
    Workbench,
    group_id,
    resource_id,
)

pytestmark = pytest.mark.azure

TAG = "mlbox-workbench"
DISKS = "Microsoft.Compute/disks"
SNAPSHOTS = "Microsoft.Compute/snapshots"


def decoys(arm: Arm) -> dict[str, str]:
    """Another workbench's group, disk and snapshot: teardown must leave them alone."""
    group = "mlbox-someone-else"
    disk = resource_id(group, "Compute/disks", "someone-else-data")
    snapshot = resource_id(group, "Compute/snapshots", "someone-else-snap")
    tags = {TAG: "someone-else"}
    created = "2026-01-01T00:00:00+00:00"
    arm.put(
        {"id": group_id(group), "location": LOCATION, "tags": tags},
        {"id": disk, "location": LOCATION, "tags": tags,
         "properties": {"diskSizeGB": 1, "diskState": "Unattached", "timeCreated": created}},
        {"id": snapshot, "location": LOCATION, "tags": tags,
         "properties": {"diskSizeGB": 1, "incremental": True, "timeCreated": created,
                        "creationData": {"createOption": "Copy", "sourceResourceId": disk}}},
    )  # fmt: skip
    return {"group": group_id(group), "disk": disk, "snapshot": snapshot}


def requests_to(arm: Arm, method: str, rid: str) -> list[dict[str, Any]]:
    return [
        r
        for r in arm.requests()
        if r["method"] == method and r["path"].rstrip("/").lower() == rid.lower()
    ]


def vm_body(arm: Arm, workbench: Workbench) -> dict[str, Any]:
    """The body of the last VM PUT."""
    puts = requests_to(arm, "PUT", workbench.vm_id)
    assert puts, [(r["method"], r["path"]) for r in arm.requests()]
    return puts[-1]["body"]


def assert_up(run: Run, arm: Arm, workbench: Workbench) -> dict[str, Any]:
    """The contract's workbench_instance, checked against what the double holds."""
    assert run.rc == 0, run.explain()
    facts = run.fact("workbench_instance")
    assert facts["cloud"] == "azure"
    assert facts["name"] == workbench.name
    assert facts["id"].lower() == workbench.vm_id.lower()
    assert facts["ssh_user"] == "azureuser"
    assert facts["ssh_port"] == 22
    assert facts["notebook_port"] == 8888
    assert facts["disk_device_hint"] == {"device": "/dev/disk/azure/scsi1/lun0"}
    vm = arm.get(workbench.vm_id)
    assert vm is not None and vm["properties"]["provisioningState"] == "Succeeded"
    assert vm["tags"][TAG] == workbench.name
    [data] = vm["properties"]["storageProfile"]["dataDisks"]
    assert data["lun"] == 0
    assert data["managedDisk"]["id"].lower() == facts["disk_id"].lower()
    # SSH keys only.
    linux = vm["properties"]["osProfile"]["linuxConfiguration"]
    assert linux["disablePasswordAuthentication"] is True
    assert "adminPassword" not in vm["properties"]["osProfile"]
    key = workbench.base_vars["workbench_ssh_key_path"] + ".pub"
    with open(key) as handle:
        assert [k["keyData"].strip() for k in linux["ssh"]["publicKeys"]] == [handle.read().strip()]
    ip = arm.get(resource_id(workbench.group, "Network/publicIPAddresses", f"{workbench.name}-ip"))
    assert ip is not None and ip["properties"]["publicIPAllocationMethod"] == "Static"
    assert ip["properties"]["ipAddress"] == facts["public_ip"]
    disk = arm.get(facts["disk_id"])
    assert disk is not None
    assert f"/resourcegroups/{workbench.data_group}/" in facts["disk_id"].lower()
    assert disk["managedBy"].lower() == workbench.vm_id.lower()
    assert disk["tags"][TAG] == workbench.name
    assert disk["tags"]["mlbox-instance"] == workbench.name
    return facts


def assert_access_rules(arm: Arm, workbench: Workbench) -> None:
    nsg = arm.get(
        resource_id(workbench.group, "Network/networkSecurityGroups", f"{workbench.name}-nsg")
    )
    assert nsg is not None
    rules = nsg["properties"]["securityRules"]
    opened = sorted(
        (r["properties"]["destinationPortRange"], r["properties"]["sourceAddressPrefix"],
         r["properties"]["access"], r["properties"]["direction"])
        for r in rules
    )  # fmt: skip
    assert opened == [
        ("22", ALLOWED_CIDR, "Allow", "Inbound"),
        ("8888", ALLOWED_CIDR, "Allow", "Inbound"),
    ], rules


def assert_spot_asked(body: dict[str, Any]) -> None:
    props = body["properties"]
    assert props["priority"] == "Spot"
    assert props["evictionPolicy"] == "Deallocate"
    assert props["billingProfile"]["maxPrice"] == -1


def refuse_spot_once(arm: Arm, fault: str) -> None:
    """The next Spot VM PUT meets a fault of the double's catalogue (azure_arm.FAULTS), as
    Azure answers when it has no Spot capacity."""
    arm.inject(
        {"method": "PUT", "type": "Microsoft.Compute/virtualMachines",
         "match": {"properties.priority": "Spot"}, "fault": fault, "times": 1}
    )  # fmt: skip


def vm_puts(arm: Arm, workbench: Workbench) -> list[dict[str, Any]]:
    return requests_to(arm, "PUT", workbench.vm_id)


def assert_disk_survives_vm_delete(arm: Arm, workbench: Workbench, disk_id: str) -> None:
    """The regression: the data disk is detached (a VM PUT without it) before the VM DELETE,
    and no DELETE ever goes to the disk."""
    calls = arm.requests()
    vm = workbench.vm_id.lower()
    order = [(r["method"], r["path"].rstrip("/").lower(), r.get("body") or {}) for r in calls]
    detaches = [
        i for i, (method, path, body) in enumerate(order)
        if method == "PUT" and path == vm
        and not (body.get("properties", {}).get("storageProfile", {}).get("dataDisks"))
    ]  # fmt: skip
    deletes = [
        i for i, (method, path, _body) in enumerate(order) if method == "DELETE" and path == vm
    ]
    assert detaches and deletes, [(m, p) for m, p, _body in order]
    assert detaches[0] < deletes[0]
    assert requests_to(arm, "DELETE", disk_id) == []


def test_lifecycle_new_snapshot_existing_restore(arm: Arm, workbench: Workbench) -> None:
    others = decoys(arm)
    arm.configure(snapshot_copy_polls=3)  # incremental snapshots report progress first

    # 1. A new disk; Azure accepts the Spot VM, then cannot allocate it (AllocationFailed,
    #    through the long-running operation: the VM left Failed, holding the data disk). The
    #    failed VM and its OS disk are deleted, the data disk kept, and a new VM comes at
    #    Regular priority on it.
    refuse_spot_once(arm, "AllocationFailed")
    first = workbench.up(workbench_disk_size_gb=4)
    facts = assert_up(first, arm, workbench)
    assert facts["spot"] is False
    refused, regular = vm_puts(arm, workbench)
    assert refused["status"] == 201  # accepted; the operation failed
    polls = [r for r in arm.requests() if "/operations/" in r["path"]]
    assert "AllocationFailed" in [r["code"] for r in polls]
    assert len(polls) >= 3  # the operations took several polls each
    assert_spot_asked(refused["body"])
    calls = [(r["method"], r["path"].rstrip("/").lower()) for r in arm.requests()]
    os_disk = resource_id(workbench.group, "Compute/disks", f"{workbench.name}-os").lower()
    deleted = calls.index(("DELETE", workbench.vm_id.lower()))
    assert calls.index(("PUT", workbench.vm_id.lower())) < deleted
    assert (
        deleted
        < calls.index(("DELETE", os_disk))
        < len(calls) - calls[::-1].index(("PUT", workbench.vm_id.lower()))
    )
    assert requests_to(arm, "DELETE", facts["disk_id"]) == []
    assert regular["status"] == 201  # a new VM, not an update of the failed one
    asked = regular["body"]["properties"]
    assert "priority" not in asked and "billingProfile" not in asked
    assert "evictionPolicy" not in asked
    assert asked["hardwareProfile"] == refused["body"]["properties"]["hardwareProfile"]
    assert asked["storageProfile"] == refused["body"]["properties"]["storageProfile"]
    vm = arm.get(workbench.vm_id)
    assert vm["tags"]["mlbox-priority"] == "regular" and "priority" not in vm["properties"]
    assert arm.get(facts["disk_id"])["properties"]["diskSizeGB"] == 4
    assert_access_rules(arm, workbench)
    for group in (workbench.group, workbench.data_group):
        assert arm.get(group_id(group))["tags"] == {TAG: workbench.name}
    new_disk = facts["disk_id"]
    # Someone's untagged disk in the data group: never touched, and it keeps the group.
    stray = resource_id(workbench.data_group, "Compute/disks", "stray")
    arm.put({"id": stray, "location": LOCATION, "properties": {"diskSizeGB": 1}})

    # 2. Again: everything is found and reused (the VM keeps its priority), nothing changes.
    arm.forget_requests()
    again = workbench.up(workbench_disk_size_gb=4)
    assert again.rc == 0, again.explain()
    assert again.changed == 0, again.changed_tasks()
    assert again.fact("workbench_instance") == facts
    assert arm.mutations() == []

    # 3. Teardown with a snapshot, keeping the disk: detached first, snapshot complete before
    #    the VM goes, the disk never deleted, the workbench's group gone.
    arm.forget_requests()
    down = workbench.down(workbench_snapshot_on_delete=True)
    assert down.rc == 0, down.explain()
    assert_disk_survives_vm_delete(arm, workbench, new_disk)
    snapshot_puts = [
        r for r in arm.requests() if r["method"] == "PUT" and "/snapshots/" in r["path"]
    ]
    assert len(snapshot_puts) == 1
    assert snapshot_puts[0]["body"]["properties"]["incremental"] is True
    assert (
        snapshot_puts[0]["body"]["properties"]["creationData"]["sourceResourceId"].lower()
        == new_disk.lower()
    )
    [snapshot] = arm.of_kind(SNAPSHOTS, workbench.name)
    assert snapshot["properties"]["provisioningState"] == "Succeeded"
    assert snapshot["properties"]["completionPercent"] == 100.0
    calls = [(r["method"], r["path"].lower()) for r in arm.requests()]
    assert calls.index(("PUT", snapshot_puts[0]["path"].lower())) < calls.index(
        ("DELETE", workbench.vm_id.lower())
    )
    kept = arm.get(new_disk)
    assert kept["properties"]["diskState"] == "Unattached"
    assert "managedBy" not in kept
    assert "mlbox-instance" not in kept["tags"]
    assert arm.get(group_id(workbench.group)) is None
    assert arm.get(group_id(workbench.data_group)) is not None
    listed = down.fact("workbench_disks")
    assert [d["id"].lower() for d in listed] == [new_disk.lower()]
    assert set(listed[0]) == {"id", "name", "size_gb", "created", "status", "zone", "attached_to"}

    # 4. Reuse that disk as it is: attached again, no disk made or copied.
    arm.forget_requests()
    reused_run = workbench.up(
        workbench_disk_source="existing", workbench_disk_id=new_disk.rsplit("/", 1)[1]
    )
    reused = assert_up(reused_run, arm, workbench)
    assert reused["disk_id"].lower() == new_disk.lower()
    assert [
        r for r in arm.requests() if r["method"] == "PUT" and "/disks/" in r["path"].lower()
    ] == []
    # This time Spot was there.
    assert reused["spot"] is True
    assert_spot_asked(vm_body(arm, workbench))
    assert arm.get(workbench.vm_id)["properties"]["priority"] == "Spot"
    # Azure evicts it (evictionPolicy Deallocate): the VM is deallocated and keeps the data
    # disk; the teardown below takes it from there.
    assert arm.evict(workbench.vm_id)["evictionPolicy"] == "Deallocate"
    evicted = arm.get(workbench.vm_id)
    assert evicted is not None
    assert arm.get(new_disk)["managedBy"].lower() == workbench.vm_id.lower()

    # 5. Teardown with a snapshot and the disk deleted after it; keep one snapshot.
    arm.forget_requests()
    final = workbench.down(
        workbench_snapshot_on_delete=True, workbench_delete_disk=True, workbench_keep_snapshots=1
    )
    assert final.rc == 0, final.explain()
    assert_disk_survives_vm_delete(arm, workbench, "/not-the-disk")
    calls = [(r["method"], r["path"].lower()) for r in arm.requests()]
    snap_put = next(i for i, c in enumerate(calls) if c[0] == "PUT" and "/snapshots/" in c[1])
    assert snap_put < calls.index(("DELETE", new_disk.lower()))
    assert calls.index(("DELETE", workbench.vm_id.lower())) < calls.index(
        ("DELETE", new_disk.lower())
    )
    assert arm.get(new_disk) is None
    [latest] = arm.of_kind(SNAPSHOTS, workbench.name)
    assert latest["id"].lower() != snapshot["id"].lower()  # the older one was pruned
    assert ("DELETE", snapshot["id"].lower()) in calls

    # 6. Restore from the latest snapshot: a copy at least the snapshot's size.
    restored_run = workbench.up(workbench_disk_source="snapshot", workbench_snapshot_id="latest")
    restored = assert_up(restored_run, arm, workbench)
    restored_disk = arm.get(restored["disk_id"])
    assert restored_disk["properties"]["creationData"]["createOption"] == "Copy"
    assert (
        restored_disk["properties"]["creationData"]["sourceResourceId"].lower()
        == latest["id"].lower()
    )
    assert restored_disk["properties"]["diskSizeGB"] >= 4

    # 7. Final teardown, deleting the disk: only the newest snapshot and the stray disk stay.
    gone = workbench.down(workbench_delete_disk=True, workbench_keep_snapshots=1)
    assert gone.rc == 0, gone.explain()
    assert arm.get(group_id(workbench.group)) is None
    assert [d["id"].lower() for d in arm.of_kind(DISKS) if workbench.name in d["id"]] == [
        stray.lower()
    ]
    assert [s["id"] for s in arm.of_kind(SNAPSHOTS, workbench.name)] == [latest["id"]]
    assert arm.get(stray) is not None
    # The data group stays while it holds the snapshot and the stray disk; nothing else is left.
    left = {k for k in arm.state() if workbench.name in k}
    assert left == {group_id(workbench.data_group).lower(), stray.lower(), latest["id"].lower()}

    # The other workbench was never touched.
    for rid in others.values():
        assert arm.get(rid) is not None, rid
