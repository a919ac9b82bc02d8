"""Bad input stops in validation, with a message that names the fix, before anything exists."""

from __future__ import annotations

from typing import Any

import pytest
from aliyun_helpers import REGION, TAG, Double, Workbench

pytestmark = pytest.mark.aliyun


def assert_refused_untouched(
    double: Double,
    workbench: Workbench,
    words: list[str],
    env: dict[str, str] | None = None,
    **extra: Any,
) -> list[str]:
    """Run up with bad input; return the calls the double received from that run."""
    before = double.state()
    double.forget_requests()
    run = workbench.run("up", env=env, **extra)
    received = double.actions()
    assert run.rc != 0, run.explain()
    message = run.failure()
    for word in words:
        assert word in message, message
    assert double.mutations() == []
    assert double.state() == before
    return received


def test_unknown_region(double: Double, workbench: Workbench) -> None:
    received = assert_refused_untouched(
        double,
        workbench,
        ["xx-nowhere-1", "workbench_region", "cn-beijing"],
        workbench_region="xx-nowhere-1",
    )
    assert received == ["DescribeRegions"]


def test_unknown_instance_type(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        ["ecs.nope.huge", "workbench_instance_type", f"{REGION}-h"],
        workbench_instance_type="ecs.nope.huge",
    )


def test_unknown_zone(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        [f"{REGION}-z", "workbench_zone", f"{REGION}-i"],
        workbench_zone=f"{REGION}-z",
    )


def test_unknown_existing_disk(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        ["d-nope0000", "no such disk", "workbench_disk_id", "playbooks/disks.yml"],
        workbench_disk_source="existing",
        workbench_disk_id="d-nope0000",
    )


def test_existing_disk_of_another_workbench(double: Double, workbench: Workbench) -> None:
    disk = double.call("CreateDisk", ZoneId=f"{REGION}-h", Size=20, Tags={TAG: "other"})
    assert_refused_untouched(
        double,
        workbench,
        [disk["DiskId"], f"not tagged {TAG}={workbench.name}"],
        workbench_disk_source="existing",
        workbench_disk_id=disk["DiskId"],
    )


def test_existing_disk_attached_to_another_instance(double: Double, workbench: Workbench) -> None:
    disk = double.call("CreateDisk", ZoneId=f"{REGION}-h", Size=20, Tags={TAG: workbench.name})
    group = double.call("CreateSecurityGroup", SecurityGroupName="someone")
    [other] = double.call(
        "RunInstances",
        InstanceType="ecs.g7.large",
        ZoneId=f"{REGION}-h",
        SecurityGroupId=group["SecurityGroupId"],
    )["InstanceIdSets"]["InstanceIdSet"]
    double.call("AttachDisk", DiskId=disk["DiskId"], InstanceId=other)
    assert_refused_untouched(
        double,
        workbench,
        [disk["DiskId"], f"attached to {other}", "detach it or pick another disk"],
        workbench_disk_source="existing",
        workbench_disk_id=disk["DiskId"],
    )


def test_unknown_snapshot(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        ["s-nope0000", "not found", "workbench_snapshot_id"],
        workbench_disk_source="snapshot",
        workbench_snapshot_id="s-nope0000",
    )


def test_no_snapshot_for_latest(double: Double, workbench: Workbench) -> None:
    # A snapshot of another workbench does not count.
    disk = double.call("CreateDisk", ZoneId=f"{REGION}-h", Size=20, Tags={TAG: "other"})
    double.call("CreateSnapshot", DiskId=disk["DiskId"], Tags={TAG: "other"})
    assert_refused_untouched(
        double,
        workbench,
        ["no completed snapshot", "workbench_snapshot_id"],
        workbench_disk_source="snapshot",
        workbench_snapshot_id="latest",
    )


def test_missing_credentials(double: Double, workbench: Workbench) -> None:
    env = {k: v for k, v in workbench.env.items() if k != "ALIYUN_ACCESS_KEY_SECRET"}
    received = assert_refused_untouched(
        double,
        workbench,
        ["ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"],
        env=env,
    )
    # Refused on this side: nothing reached the double at all.
    assert received == []
