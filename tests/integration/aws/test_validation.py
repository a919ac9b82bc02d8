"""Bad input stops in validation, with a message that names the fix, before anything exists."""

from __future__ import annotations

from typing import Any

import pytest
from aws_helpers import Moto, Workbench

pytestmark = pytest.mark.aws


def assert_refused_untouched(
    moto: Moto,
    workbench: Workbench,
    words: list[str],
    env: dict[str, str] | None = None,
    **extra: Any,
) -> list[str]:
    """Run up with bad input; return the calls the server received from that run."""
    before = moto.inventory()
    moto.forget_requests()
    run = workbench.run("up", env=env, **extra)
    received = moto.actions()
    assert run.rc != 0, run.explain()
    message = run.failure()
    for word in words:
        assert word in message, message
    assert moto.mutations() == []
    assert moto.inventory() == before
    return received


def test_unknown_region(moto: Moto, workbench: Workbench) -> None:
    assert_refused_untouched(
        moto,
        workbench,
        ["xx-nowhere-1", "workbench_region", "eu-west-1"],
        workbench_region="xx-nowhere-1",
    )


def test_unknown_instance_type(moto: Moto, workbench: Workbench) -> None:
    assert_refused_untouched(
        moto,
        workbench,
        ["t3.gigantic", "workbench_instance_type", "t3.large"],
        workbench_instance_type="t3.gigantic",
    )


def test_disk_larger_than_a_gp3_volume(moto: Moto, workbench: Workbench) -> None:
    """gp3 volumes are 1 - 65,536 GiB (botocore's EC2 model): refused before any launch."""
    assert_refused_untouched(
        moto, workbench, ["workbench_disk_size_gb", "65536"], workbench_disk_size_gb=65537
    )


def test_unknown_snapshot(moto: Moto, workbench: Workbench) -> None:
    assert_refused_untouched(
        moto,
        workbench,
        ["snap-0123456789abcdef0", "not found", "workbench_snapshot_id"],
        workbench_disk_source="snapshot",
        workbench_snapshot_id="snap-0123456789abcdef0",
    )


def test_no_snapshot_to_restore_from(moto: Moto, workbench: Workbench) -> None:
    assert_refused_untouched(
        moto,
        workbench,
        ["no completed snapshot"],
        workbench_disk_source="snapshot",
        workbench_snapshot_id="latest",
    )


def test_snapshot_of_another_workbench(moto: Moto, workbench: Workbench) -> None:
    ec2 = moto.ec2
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    snapshot = ec2.create_snapshot(
        VolumeId=volume,
        TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": [{"Key": "mlbox:workbench", "Value": "other"}]}
        ],
    )["SnapshotId"]
    assert_refused_untouched(
        moto,
        workbench,
        [snapshot, "not found"],
        workbench_disk_source="snapshot",
        workbench_snapshot_id=snapshot,
    )


def test_existing_disk_that_is_not_the_workbench(moto: Moto, workbench: Workbench) -> None:
    volume = moto.ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    assert_refused_untouched(
        moto,
        workbench,
        [volume, "not tagged mlbox:workbench="],
        workbench_disk_source="existing",
        workbench_disk_id=volume,
    )


def test_existing_disk_attached_elsewhere(moto: Moto, workbench: Workbench) -> None:
    # The test's own setup attaches at once (EC2 attaches only an available volume to a
    # running instance); what is tested is the role's validation, which creates nothing.
    moto.settle(polls=0)
    ec2 = moto.ec2
    volume = ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=1,
        TagSpecifications=[
            {
                "ResourceType": "volume",
                "Tags": [{"Key": "mlbox:workbench", "Value": workbench.name}],
            }
        ],
    )["VolumeId"]
    image = ec2.describe_images(Owners=["099720109477"])["Images"][0]["ImageId"]
    other = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": "us-east-1a"}
    )["Instances"][0]["InstanceId"]
    ec2.attach_volume(VolumeId=volume, InstanceId=other, Device="/dev/sdg")
    assert_refused_untouched(
        moto,
        workbench,
        [volume, f"attached to {other}"],
        workbench_disk_source="existing",
        workbench_disk_id=volume,
    )


def test_unknown_existing_disk(moto: Moto, workbench: Workbench) -> None:
    assert_refused_untouched(
        moto,
        workbench,
        ["vol-0123456789abcdef0", "no such volume"],
        workbench_disk_source="existing",
        workbench_disk_id="vol-0123456789abcdef0",
    )


def test_unknown_image(moto: Moto, workbench: Workbench) -> None:
    assert_refused_untouched(
        moto,
        workbench,
        ["ami-0123456789abcdef0", "workbench_image"],
        workbench_image="ami-0123456789abcdef0",
    )


def test_foreign_security_group_of_the_same_name(moto: Moto, workbench: Workbench) -> None:
    moto.ec2.create_security_group(GroupName=f"workbench-{workbench.name}", Description="mine")
    assert_refused_untouched(
        moto,
        workbench,
        ["security group", "without the tag", "workbench_name"],
    )


def test_no_credentials(moto: Moto, workbench: Workbench) -> None:
    env = {
        k: v
        for k, v in workbench.env.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    received = assert_refused_untouched(
        moto,
        workbench,
        ["AWS_ACCESS_KEY_ID", "AWS_PROFILE"],
        env=env,
    )
    # Nothing reached the server at all: the credentials were missing on this side.
    assert received == []


def test_validate_alone_creates_nothing(moto: Moto, workbench: Workbench) -> None:
    before = moto.inventory()
    run = workbench.validate()
    assert run.rc == 0, run.explain()
    assert moto.mutations() == []
    assert moto.inventory() == before
