"""Faults: runs killed at the worst moments, snapshots that fail or never finish, an instance
that never answers SSH.

A kill is SIGKILL to the whole ansible-playbook process tree (Workbench.kill_at: Ansible's
workers and Mitogen's multiplexer call setsid, so the process group is not all of it), sent
once the ECS double has carried out the call named: the run dies with the resource made and
nothing after it, the answer possibly never read. The next run must converge on what
exists, with no duplicates.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
from aliyun_helpers import Double, Workbench, tags_of
from playbook_run import run_command
from test_aliyun_lifecycle import BOUND, assert_network, assert_nothing_left, assert_up

pytestmark = pytest.mark.aliyun

TEARDOWN = {"workbench_snapshot_on_delete": True, "workbench_delete_disk": True}
# What up creates, in its order (cloud_aliyun launches first, then makes the data disk in
# the instance's zone).
CREATES = ("CreateVpc", "CreateVSwitch", "CreateSecurityGroup", "ImportKeyPair", "RunInstances")


def data_disks(double: Double) -> list[dict[str, Any]]:
    """Every data disk of the account, tagged or not (the instances' system disks aside)."""
    return [d for d in double.state()["disk"].values() if d["Type"] == "data"]


def test_killed_provisions_converge_without_duplicates(
    double: Double, workbench: Workbench
) -> None:
    """provision killed after the SG, the instance, the disk: one of each, then nothing left

    Each rerun goes one step further and makes nothing the killed ones made; the last one
    converges with one VPC, vSwitch, SG, key pair, instance and data disk, all tagged (the
    disk made just before the kill found again); a teardown then leaves nothing, also after
    an up killed right after CreateDisk (its disk found by its binding and deleted).
    """
    # Each kill is right after the call, before the next step could run; the rerun must not
    # make again what the killed one made.
    done: list[str] = []
    for action in ("CreateSecurityGroup", "RunInstances", "CreateDisk"):
        double.forget_requests()
        workbench.kill_at(double, action, "up")
        made = double.mutations()
        assert [a for a in made if a in done] == [], (action, made)
        done += [a for a in made if a.startswith(("Create", "Run", "Import"))]
        state = double.state()
        assert len(state["vpc"]) == len(state["vsw"]) == len(state["sg"]) == 1, action
        assert len(state["inst"]) <= 1 and len(data_disks(double)) <= 1, action
    assert [a for a in CREATES if a not in done] == [], done
    # The disk made last is tagged from birth and bound to the instance (aliyun_disk sends
    # the tags with CreateDisk): the rerun finds it and attaches it.
    [orphan] = data_disks(double)
    [instance_id] = double.state()["inst"]
    assert tags_of(orphan)[BOUND] == instance_id

    double.forget_requests()
    run = workbench.up()
    facts = assert_up(run, double, workbench)
    assert_network(double, workbench)
    assert [a for a in double.mutations() if a.startswith(("Create", "Run", "Import"))] == []
    # Exactly one of each, all the workbench's: nothing untagged, nothing twice.
    state = double.state()
    for kind in ("vpc", "vsw", "sg", "kp", "inst"):
        assert len(state[kind]) == 1, (kind, list(state[kind]))
        assert double.tagged(kind, workbench.name) == list(state[kind].values()), kind
    assert [d["DiskId"] for d in data_disks(double)] == [facts["disk_id"]] == [orphan["DiskId"]]
    assert list(state["inst"]) == [facts["id"]]

    run = workbench.down(workbench_delete_disk=True)
    assert run.rc == 0, run.explain()
    assert_nothing_left(double, workbench)
    assert all(not items for items in double.state().values()), double.state()

    # Killed once more right after CreateDisk, and taken away instead of run again: the disk,
    # bound to the instance from birth and never attached, is found and deleted as asked
    # (it holds nothing: no snapshot of it is needed, or possible).
    double.forget_requests()
    workbench.kill_at(double, "CreateDisk", "up")
    [orphan] = data_disks(double)
    [instance_id] = double.state()["inst"]
    assert (
        tags_of(orphan)[BOUND] == instance_id
        and orphan["DiskName"] == f"workbench-{workbench.name}-data-{instance_id}"
    )
    double.forget_requests()
    run = workbench.down(workbench_delete_disk=True)
    assert run.rc == 0, run.explain()
    assert [c["DiskId"] for c in double.calls("DeleteDisk")] == [orphan["DiskId"]]
    assert all(not items for items in double.state().values()), double.state()


def test_a_failed_or_stuck_snapshot_keeps_the_disk(double: Double, workbench: Workbench) -> None:
    """a failed (at once) or stuck (at the timeout) snapshot is named; instance and disk kept

    Teardown with snapshot and delete: a failed snapshot ends the wait on its first look, a
    stuck one at workbench_aliyun_snapshot_timeout; each is named with its state, nothing is
    deleted; once snapshots work again the same teardown completes.
    """
    facts = assert_up(workbench.up(), double, workbench)
    double.forget_requests()

    double.inject({"snapshot": "failed"})
    run = workbench.down(**TEARDOWN)
    assert run.rc != 0, run.explain()
    [failed] = [s for s in double.tagged("snap", workbench.name) if s["Status"] == "failed"]
    message = run.failure()
    assert f"disk {facts['disk_id']}: snapshot {failed['SnapshotId']}: failed" in message, message
    # A failed snapshot ends the wait on the first look that sees it.
    looks = [c for c in double.requests() if failed["SnapshotId"] in c.get("seen", {})]
    assert len(looks) == 1, looks

    double.clear_faults()
    double.inject({"snapshot": "progressing"})
    run = workbench.down(workbench_aliyun_snapshot_timeout=5, **TEARDOWN)
    assert run.rc != 0, run.explain()
    [stuck] = [s for s in double.tagged("snap", workbench.name) if s["Status"] == "progressing"]
    message = run.failure()
    assert f"snapshot {stuck['SnapshotId']}: progressing" in message, message
    assert "workbench_aliyun_snapshot_timeout" in message and "at most 5 s" in message, message

    # Whatever the snapshots did, the instance and the disk are there, still bound.
    assert "DeleteDisk" not in double.actions() and "DeleteInstance" not in double.actions()
    assert [i["InstanceId"] for i in double.tagged("inst", workbench.name)] == [facts["id"]]
    [disk] = double.tagged("disk", workbench.name)
    assert disk["DiskId"] == facts["disk_id"] and tags_of(disk)[BOUND] == facts["id"]

    double.clear_faults()
    double.forget_requests()
    run = workbench.down(**TEARDOWN)
    assert run.rc == 0, run.explain()
    assert_nothing_left(double, workbench)
    [taken] = double.calls("CreateSnapshot")
    accomplished = [
        s for s in double.tagged("snap", workbench.name) if s["Status"] == "accomplished"
    ]
    assert taken["DiskId"] == facts["disk_id"]
    assert {s["SourceDiskId"] for s in accomplished} == {facts["disk_id"]}
    assert taken["SnapshotName"] in {s["SnapshotName"] for s in accomplished}


def test_ssh_that_never_answers_names_what_exists_and_how_to_remove_it(
    double: Double, workbench: Workbench
) -> None:
    """SSH that never answers: every resource and the teardown command named, which works

    provision fails naming the instance, its address, the disk, security group, key pair,
    vSwitch, VPC, region and the exact teardown command; that command, run as printed,
    removes all of it but the data disk, kept and released.
    """
    # The double's instances have documentation addresses nothing answers on.
    run = workbench.up(workbench_configure=True, workbench_aliyun_ssh_timeout=3)
    assert run.rc != 0, run.explain()
    message = run.failure()
    [instance] = double.tagged("inst", workbench.name)
    [disk] = double.tagged("disk", workbench.name)
    [group] = double.tagged("sg", workbench.name)
    [pair] = double.tagged("kp", workbench.name)
    [vsw] = double.tagged("vsw", workbench.name)
    [vpc] = double.tagged("vpc", workbench.name)
    named = (
        instance["InstanceId"],
        instance["PublicIpAddress"]["IpAddress"][0],
        disk["DiskId"],
        group["SecurityGroupId"],
        pair["KeyPairName"],
        vsw["VSwitchId"],
        vpc["VpcId"],
        instance["RegionId"],
        "workbench_aliyun_ssh_timeout",
        "-e workbench_delete_disk=true",
    )
    for name in named:
        assert name in message, (name, message)
    command = re.search(r"ansible-playbook playbooks/teardown\.yml[^()]*?(?= \(|$)", message)
    assert command, message
    expected = (
        "ansible-playbook playbooks/teardown.yml -e cloud=aliyun"
        f" -e workbench_name={workbench.name} -e workbench_region={instance['RegionId']}"
    )
    assert command.group(0) == expected, message

    # That very command removes it all but the data disk, which is kept and released.
    run = run_command(shlex.split(command.group(0)), workbench.env)
    assert run.rc == 0, run.explain()
    for kind in ("vpc", "vsw", "sg", "kp", "inst"):
        assert double.tagged(kind, workbench.name) == [], kind
    [kept] = double.tagged("disk", workbench.name)
    assert kept["DiskId"] == disk["DiskId"] and kept["Status"] == "Available"
    assert BOUND not in tags_of(kept)
