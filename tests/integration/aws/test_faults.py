"""Faults: runs killed at the worst moments, and snapshots that fail or never finish.

A kill is SIGKILL to the whole ansible-playbook process group, sent once moto has received
the call named (and had a moment to answer it): the run dies with the resource made and
nothing after it. The next run must converge on what exists, with no duplicates.
"""

from __future__ import annotations

import pytest
from aws_helpers import DRIVER, Moto, Workbench
from playbook_run import killed_when, playbook_args
from test_lifecycle import TAG, assert_access_rules, assert_nothing_left, assert_up, tagged, tags

pytestmark = pytest.mark.aws


def killed_at(moto: Moto, workbench: Workbench, entry: str, action: str, **extra: object) -> None:
    """Run one entry point and kill it right after moto received `action`."""
    moto.forget_requests()
    extra_vars = {**workbench.base_vars, "cloud_aws_entry": entry, **extra}
    args = playbook_args(DRIVER, extra_vars)
    killed_when(args, workbench.env, lambda: action in moto.actions(), settle=0.3)


def data_disks(moto: Moto, name: str) -> list[dict]:
    """The workbench's data disks (its instances' root volumes carry the workbench tag too)."""
    return [v for v in tagged(moto, "volumes", name) if tags(v).get("mlbox:disk") == "data"]


def test_killed_provisions_and_teardown_converge_without_duplicates(
    moto: Moto, workbench: Workbench
) -> None:
    baseline = moto.inventory()
    # Killed after the security group, then after the instance, then after the data disk
    # (cloud_aws launches first and attaches the disk in the instance's zone): each rerun goes
    # one step further on what the killed one left.
    for action in ("CreateSecurityGroup", "RunInstances", "CreateVolume"):
        killed_at(moto, workbench, "up", action)
        assert len(tagged(moto, "security_groups", workbench.name)) == 1, action
        assert len(data_disks(moto, workbench.name)) <= 1, action
        assert len(tagged(moto, "instances", workbench.name)) <= 1, action

    run = workbench.up()
    facts = assert_up(run, moto, workbench)
    assert_access_rules(moto, workbench)
    assert [v["VolumeId"] for v in data_disks(moto, workbench.name)] == [facts["disk_id"]]
    assert [i["InstanceId"] for i in tagged(moto, "instances", workbench.name)] == [facts["id"]]
    assert len(tagged(moto, "launch_templates", workbench.name)) == 1

    # Teardown killed once the instance is gone and the snapshot asked for: the rerun
    # (same request) completes it, and the disk goes only after a completed snapshot.
    teardown = {"workbench_snapshot_on_delete": True, "workbench_delete_disk": True}
    killed_at(moto, workbench, "down", "CreateSnapshot", **teardown)
    assert tagged(moto, "instances", workbench.name) == []
    assert [v["VolumeId"] for v in data_disks(moto, workbench.name)] == [facts["disk_id"]]

    run = workbench.down(**teardown)
    assert run.rc == 0, run.explain()
    snapshots = tagged(moto, "snapshots", workbench.name)
    assert snapshots and all(s["State"] == "completed" for s in snapshots), snapshots
    assert {s["VolumeId"] for s in snapshots} == {facts["disk_id"]}
    assert_nothing_left(moto, workbench, baseline)


def test_a_failed_or_stuck_snapshot_keeps_the_disk(moto: Moto, workbench: Workbench) -> None:
    facts = assert_up(workbench.up(), moto, workbench)
    teardown = {"workbench_snapshot_on_delete": True, "workbench_delete_disk": True}

    moto.inject(snapshot="error")
    run = workbench.down(**teardown)
    assert run.rc != 0, run.explain()
    assert facts["disk_id"] in run.failure() and ": error" in run.failure(), run.failure()

    moto.inject(snapshot="pending")
    run = workbench.down(workbench_aws_snapshot_timeout=5, **teardown)
    assert run.rc != 0, run.explain()
    assert ": pending" in run.failure() and "workbench_aws_snapshot_timeout" in run.failure()

    # Whatever the snapshots did, the disk is still there, still bound for the next try.
    [disk] = data_disks(moto, workbench.name)
    assert disk["VolumeId"] == facts["disk_id"]
    assert {t["Key"]: t["Value"] for t in disk["Tags"]}[TAG] == workbench.name
    assert "DeleteVolume" not in moto.actions()

    moto.inject()
    run = workbench.down(**teardown)
    assert run.rc == 0, run.explain()
    assert data_disks(moto, workbench.name) == []
    completed = [s for s in tagged(moto, "snapshots", workbench.name) if s["State"] == "completed"]
    assert [s["VolumeId"] for s in completed] == [facts["disk_id"]]


def test_ssh_that_never_answers_names_what_exists_and_how_to_remove_it(
    moto: Moto, workbench: Workbench
) -> None:
    # moto's instances have addresses nothing answers on: the SSH wait must give up.
    run = workbench.up(workbench_configure=True, workbench_aws_ssh_timeout=3)
    assert run.rc != 0, run.explain()
    message = run.failure()
    [instance] = tagged(moto, "instances", workbench.name)
    [disk] = data_disks(moto, workbench.name)
    [group] = tagged(moto, "security_groups", workbench.name)
    for named in (instance["InstanceId"], disk["VolumeId"], group["GroupId"]):
        assert named in message, message
    assert "workbench_aws_ssh_timeout" in message
    assert f"playbooks/teardown.yml -e cloud=aws -e workbench_name={workbench.name}" in message

    # The command it names does remove it (the disk only when asked).
    assert workbench.down(workbench_delete_disk=True).rc == 0
    assert tagged(moto, "instances", workbench.name) == []
    assert data_disks(moto, workbench.name) == []
