"""The cloud_aws lifecycle against moto: new disk, snapshot, restore, reuse, teardown."""

from __future__ import annotations

from typing import Any

import pytest
from aws_helpers import ALLOWED_CIDR, Moto, Run, Workbench

pytestmark = pytest.mark.aws

TAG = "mlbox:workbench"


def tags(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def instance(moto: Moto, instance_id: str) -> dict[str, Any]:
    found = moto.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return found[0]["Instances"][0]


def volume(moto: Moto, volume_id: str) -> dict[str, Any]:
    return moto.ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]


def tagged(moto: Moto, kind: str, name: str) -> list[dict[str, Any]]:
    """The resources of one kind that carry the workbench tag for name."""
    flt = [{"Name": f"tag:{TAG}", "Values": [name]}]
    ec2 = moto.ec2
    if kind == "instances":
        return [
            i
            for r in ec2.describe_instances(Filters=flt)["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
        ]
    if kind == "volumes":
        return ec2.describe_volumes(Filters=flt)["Volumes"]
    if kind == "snapshots":
        return ec2.describe_snapshots(Filters=flt, OwnerIds=["self"])["Snapshots"]
    if kind == "key_pairs":
        return ec2.describe_key_pairs(Filters=flt)["KeyPairs"]
    if kind == "security_groups":
        return ec2.describe_security_groups(Filters=flt)["SecurityGroups"]
    if kind == "launch_templates":
        return ec2.describe_launch_templates(Filters=flt)["LaunchTemplates"]
    raise ValueError(kind)


def decoys(moto: Moto) -> dict[str, str]:
    """Resources of someone else in the same account: teardown must leave them alone."""
    ec2 = moto.ec2
    other = ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=1,
        TagSpecifications=[
            {"ResourceType": "volume", "Tags": [{"Key": TAG, "Value": "someone-else"}]}
        ],
    )["VolumeId"]
    untagged = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    snapshot = ec2.create_snapshot(
        VolumeId=other,
        TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": [{"Key": TAG, "Value": "someone-else"}]}
        ],
    )["SnapshotId"]
    return {"other_volume": other, "untagged_volume": untagged, "other_snapshot": snapshot}


def assert_up(run: Run, moto: Moto, workbench: Workbench) -> dict[str, Any]:
    """The contract's workbench_instance, checked against what moto holds."""
    assert run.rc == 0, run.explain()
    facts = run.fact("workbench_instance")
    assert facts["cloud"] == "aws"
    assert facts["name"] == workbench.name
    assert facts["ssh_user"] == "ubuntu"
    assert facts["ssh_port"] == 22
    assert facts["notebook_port"] == 8888
    assert facts["disk_device_hint"] == {"volume_id": facts["disk_id"]}
    found = instance(moto, facts["id"])
    assert found["State"]["Name"] == "running"
    assert found["PublicIpAddress"] == facts["public_ip"]
    assert tags(found)[TAG] == workbench.name
    assert found["KeyName"] == f"workbench-{workbench.name}"
    data = [m for m in found["BlockDeviceMappings"] if m["DeviceName"] == "/dev/sdf"]
    assert len(data) == 1, found["BlockDeviceMappings"]
    assert data[0]["Ebs"]["VolumeId"] == facts["disk_id"]
    # The data disk outlives the instance.
    assert data[0]["Ebs"]["DeleteOnTermination"] is False
    disk = volume(moto, facts["disk_id"])
    assert disk["VolumeType"] == "gp3"
    assert tags(disk)[TAG] == workbench.name
    assert tags(disk)["mlbox:instance"] == facts["id"]
    return facts


def assert_access_rules(moto: Moto, workbench: Workbench) -> None:
    groups = tagged(moto, "security_groups", workbench.name)
    assert len(groups) == 1
    rules = groups[0]["IpPermissions"]
    opened = sorted((r["FromPort"], r["ToPort"]) for r in rules)
    assert opened == [(22, 22), (8888, 8888)], rules
    for rule in rules:
        assert [r["CidrIp"] for r in rule["IpRanges"]] == [ALLOWED_CIDR]
    assert len(tagged(moto, "key_pairs", workbench.name)) == 1


def assert_spot_was_asked(moto: Moto, workbench: Workbench) -> None:
    """The launch went through the template, and the template asks for one-time spot."""
    calls = moto.requests()
    runs = [c["params"] for c in calls if c["action"] == "RunInstances"]
    assert runs, [c["action"] for c in calls]
    template_name = f"workbench-{workbench.name}"
    assert runs[-1].get("LaunchTemplate.LaunchTemplateName") == template_name, runs[-1]
    versions = moto.ec2.describe_launch_template_versions(LaunchTemplateName=template_name)
    data = versions["LaunchTemplateVersions"][-1]["LaunchTemplateData"]
    market = data["InstanceMarketOptions"]
    assert market["MarketType"] == "spot"
    assert market["SpotOptions"]["SpotInstanceType"] == "one-time"


def assert_nothing_left(moto: Moto, workbench: Workbench, baseline: dict[str, set[str]]) -> None:
    for kind in ("instances", "volumes", "key_pairs", "security_groups", "launch_templates"):
        assert tagged(moto, kind, workbench.name) == [], kind
    now = moto.inventory()
    for kind in ("instances", "volumes", "key_pairs", "security_groups", "launch_templates"):
        assert now[kind] == baseline[kind], (kind, now[kind] ^ baseline[kind])
    assert now["spot_requests"] == set()
    # What remains beyond the start: the workbench's own snapshots, and nothing else.
    extra_snapshots = now["snapshots"] - baseline["snapshots"]
    kept = {s["SnapshotId"] for s in tagged(moto, "snapshots", workbench.name)}
    assert extra_snapshots == kept


def test_lifecycle_new_snapshot_restore_existing(moto: Moto, workbench: Workbench) -> None:
    others = decoys(moto)
    baseline = moto.inventory()

    # 1. A new disk, on a spot instance. The double's instance, volume and attachment each
    # took several reads to settle; the run read each until it had (nothing still settling
    # once it ended, before any read of this test's; the decoys' snapshot is not the run's).
    first = workbench.up(workbench_disk_size_gb=8)
    assert first.rc == 0, first.explain()
    assert moto.unsettled("instances", "volumes", "attachments") == {}
    facts = assert_up(first, moto, workbench)
    assert facts["spot"] is True
    assert instance(moto, facts["id"]).get("InstanceLifecycle") == "spot"
    assert volume(moto, facts["disk_id"])["Size"] == 8
    assert volume(moto, facts["disk_id"])["Encrypted"] is True
    assert_access_rules(moto, workbench)
    assert_spot_was_asked(moto, workbench)

    # 2. Again: everything is found and reused, nothing changes.
    moto.forget_requests()
    again = workbench.up(workbench_disk_size_gb=8)
    assert again.rc == 0, again.explain()
    assert again.changed == 0, again.changed_tasks()
    assert again.fact("workbench_instance") == facts
    assert moto.mutations() == []

    # 3. The inventory plugin finds it, with what configure.yml needs.
    inventory = workbench.inventory()
    assert workbench.name in inventory["workbench"]["hosts"]
    hostvars = inventory["_meta"]["hostvars"][workbench.name]
    assert hostvars["ansible_host"] == facts["public_ip"]
    assert hostvars["ansible_user"] == "ubuntu"
    assert hostvars["workbench_disk_hint"] == {"volume_id": facts["disk_id"]}

    # 4. The normalized lists: the data disk only (not the root volume), no snapshot yet.
    listed = workbench.disks()
    assert listed.rc == 0, listed.explain()
    disks = listed.fact("workbench_disks")
    assert [d["id"] for d in disks] == [facts["disk_id"]]
    assert set(disks[0]) == {"id", "name", "size_gb", "created", "status", "zone", "attached_to"}
    assert disks[0]["attached_to"] == facts["id"]
    assert disks[0]["size_gb"] == 8
    assert listed.fact("workbench_snapshots") == []

    # 5. Teardown with a snapshot, deleting the disk once the snapshot is complete.
    moto.forget_requests()
    down = workbench.down(workbench_snapshot_on_delete=True, workbench_delete_disk=True)
    assert down.rc == 0, down.explain()
    actions = moto.actions()
    assert actions.index("TerminateInstances") < actions.index("CreateSnapshot")
    assert actions.index("CreateSnapshot") < actions.index("DeleteVolume")
    snapshots = tagged(moto, "snapshots", workbench.name)
    assert len(snapshots) == 1
    assert snapshots[0]["State"] == "completed"
    assert snapshots[0]["VolumeId"] == facts["disk_id"]
    assert tagged(moto, "volumes", workbench.name) == []
    assert_nothing_left(moto, workbench, baseline)

    # 6. Restore from the latest snapshot: a new disk at least the snapshot's size.
    restored_run = workbench.up(workbench_disk_source="snapshot", workbench_snapshot_id="latest")
    assert moto.unsettled("instances", "volumes", "attachments") == {}
    restored = assert_up(restored_run, moto, workbench)
    assert restored["id"] != facts["id"]
    restored_disk = volume(moto, restored["disk_id"])
    assert restored_disk["SnapshotId"] == snapshots[0]["SnapshotId"]
    assert restored_disk["Size"] >= 8

    # 7. Teardown keeping the disk: it stays, no longer bound to an instance.
    kept_run = workbench.down()
    assert kept_run.rc == 0, kept_run.explain()
    kept = volume(moto, restored["disk_id"])
    assert kept["State"] == "available"
    assert "mlbox:instance" not in tags(kept)
    assert tagged(moto, "instances", workbench.name) == []

    # 8. Reuse that disk as it is: attached again, nothing new created for it.
    moto.forget_requests()
    reused_run = workbench.up(workbench_disk_source="existing", workbench_disk_id=kept["VolumeId"])
    reused = assert_up(reused_run, moto, workbench)
    assert reused["disk_id"] == kept["VolumeId"]
    assert "CreateVolume" not in moto.actions()

    # 9. Final teardown: snapshot, delete the disk, keep only the newest snapshot.
    final = workbench.down(
        workbench_snapshot_on_delete=True, workbench_delete_disk=True, workbench_keep_snapshots=1
    )
    assert final.rc == 0, final.explain()
    left = tagged(moto, "snapshots", workbench.name)
    assert [s["VolumeId"] for s in left] == [kept["VolumeId"]]
    assert_nothing_left(moto, workbench, baseline)

    # 10. Teardown again finds nothing to do; the other resources were never touched.
    moto.forget_requests()
    idle = workbench.down()
    assert idle.rc == 0, idle.explain()
    assert idle.changed == 0, idle.changed_tasks()
    assert moto.mutations() == []
    assert volume(moto, others["other_volume"])["State"] == "available"
    assert volume(moto, others["untagged_volume"])["State"] == "available"
    snapshot_ids = {
        s["SnapshotId"] for s in moto.ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    }
    assert others["other_snapshot"] in snapshot_ids
