"""cloud_aws's plan on recorded amazon.aws lookups: shapes, image, subnet, foreign names (beside the
workbench_contract filters, which run on the controller, so the file lives with the filters)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.mlbox.workbench.plugins.filter.workbench_contract import (
    ec2_disks,
    ec2_snapshots,
    workbench_instance,
)
from ansible_collections.mlbox.workbench.plugins.module_utils.aws_workbench import (
    AwsFound,
    aws_plan,
    disk_from_ec2,
    login_user,
    newest_ubuntu_lts,
)
from ansible_collections.mlbox.workbench.plugins.module_utils.workbench_contract import (
    PlanError,
    PlanInputs,
)

VOLUME = {
    "id": "vol-1", "size": 8, "create_time": "2026-01-02T00:00:00+00:00", "status": "in-use",
    "zone": "us-east-1b", "tags": {"Name": "wb-data", "mlbox:workbench": "wb"},
    "attachment_set": [{"instance_id": "i-1", "device": "/dev/sdf", "status": "attached"}],
}  # fmt: skip
SNAPSHOT = {
    "snapshot_id": "snap-1", "volume_size": 8, "start_time": "2026-01-03T00:00:00+00:00",
    "state": "completed", "volume_id": "vol-1", "tags": {"mlbox:workbench": "wb"},
}  # fmt: skip


def ubuntu(release: str, arch: str, built: str) -> dict[str, Any]:
    return {
        "image_id": f"ami-{release}-{arch}-{built}",
        "name": f"ubuntu/images/hvm-ssd/ubuntu-x-{release}-{arch}-server-{built}",
        "architecture": "x86_64" if arch == "amd64" else "arm64",
        "owner_id": "099720109477", "creation_date": built, "root_device_name": "/dev/sda1",
    }  # fmt: skip


IMAGES = [
    ubuntu("22.04", "amd64", "2026-01"),
    ubuntu("24.04", "amd64", "2025-06"),
    ubuntu("24.04", "amd64", "2025-12"),
    ubuntu("25.04", "amd64", "2026-02"),  # not an LTS
    ubuntu("24.04", "arm64", "2026-01"),
]
SUBNETS = [
    {"subnet_id": f"subnet-{z}", "vpc_id": "vpc-1", "availability_zone": f"us-east-1{z}"}
    for z in "abc"
]
TYPE = {
    "found": True,
    "instance_type": {
        "zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
        "usage_classes": ["on-demand", "spot"],
        "architectures": ["x86_64"],
    },
    "suggestions": [],
}
INPUTS = PlanInputs(cloud="aws", name="wb", region="us-east-1", instance_type="t3.large",
                    max_disk_size_gb=65536, data_device="/dev/sdf")  # fmt: skip


def found(**changes: Any) -> AwsFound:
    base = AwsFound(
        instance_type=TYPE, subnets=SUBNETS, default_vpcs=[{"id": "vpc-1"}], instances=[],
        bound_volumes=[], existing_volumes=[], volumes=[], snapshots=[], images=IMAGES, named={},
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_a_fresh_plan_takes_the_newest_lts_build_and_the_first_zone_subnet() -> None:
    out = aws_plan(INPUTS, found(), "", "")
    assert (out["zone"], out["subnet_id"], out["vpc_id"]) == ("us-east-1a", "subnet-a", "vpc-1")
    assert out["image"]["image_id"] == "ami-24.04-amd64-2025-12"
    assert out["ssh_user"] == "ubuntu"
    assert out["creates"] == ["instance", "data disk"]


def test_newest_lts_for_arm() -> None:
    assert newest_ubuntu_lts(IMAGES, "arm64")["image_id"] == "ami-24.04-arm64-2026-01"
    assert newest_ubuntu_lts([], "amd64") == {}


def test_a_given_image_of_the_wrong_architecture() -> None:
    arm = [ubuntu("24.04", "arm64", "2026-01")]
    with pytest.raises(PlanError, match="built for arm64"):
        aws_plan(INPUTS, found(images=arm), "ami-x", "")


def test_a_given_image_that_is_not_there() -> None:
    with pytest.raises(PlanError, match="workbench_image"):
        aws_plan(INPUTS, found(images=[]), "ami-0123", "")


def test_login_user_from_owner_name_or_given() -> None:
    assert login_user("", {"owner_id": "136693071363"}) == "admin"
    assert login_user("", {"owner_id": "1", "name": "debian-12"}) == "admin"
    assert login_user("", {"owner_id": "1", "name": "al2023"}) == "ec2-user"
    assert login_user("me", {"owner_id": "099720109477"}) == "me"


def test_a_given_subnet_that_does_not_exist() -> None:
    given = dataclasses.replace(INPUTS, network_id="subnet-9")
    with pytest.raises(PlanError, match="workbench_aws_subnet_id"):
        aws_plan(given, found(subnets=[], default_vpcs=None), "", "")


def test_no_default_vpc() -> None:
    with pytest.raises(PlanError, match="create-default-vpc"):
        aws_plan(INPUTS, found(default_vpcs=[], subnets=[]), "", "")


def test_a_given_subnet_pins_the_zone() -> None:
    given = dataclasses.replace(INPUTS, network_id="subnet-c")
    out = aws_plan(given, found(subnets=[SUBNETS[2]], default_vpcs=None), "", "")
    assert (out["zone"], out["subnet_id"]) == ("us-east-1c", "subnet-c")


def test_a_foreign_resource_of_the_workbench_name() -> None:
    named = {"security group": [{"tags": {}}], "key pair": [{"tags": {"mlbox:workbench": "wb"}}]}
    with pytest.raises(PlanError, match=r"A security group named workbench-wb exists without"):
        aws_plan(INPUTS, found(named=named), "", "")


def test_the_running_instance_and_its_disk_are_reused() -> None:
    instance = {"instance_id": "i-1", "placement": {"availability_zone": "us-east-1b"}}
    out = aws_plan(INPUTS, found(instances=[instance], bound_volumes=[VOLUME]), "", "")
    assert (out["zone"], out["disk_action"], out["disk_id"]) == ("us-east-1b", "reuse", "vol-1")
    assert out["instance"] == instance and out["creates"] == []


def test_volume_and_snapshot_shapes() -> None:
    disk = disk_from_ec2(VOLUME)
    assert (disk.owner, disk.attached_to, disk.attachments[0].device) == ("wb", "i-1", "/dev/sdf")
    assert ec2_disks([VOLUME]) == [
        {"id": "vol-1", "name": "wb-data", "size_gb": 8, "created": "2026-01-02T00:00:00+00:00",
         "status": "in-use", "zone": "us-east-1b", "attached_to": "i-1"}
    ]  # fmt: skip
    assert ec2_snapshots([SNAPSHOT], "us-east-1") == [
        {"id": "snap-1", "name": "snap-1", "size_gb": 8, "created": "2026-01-03T00:00:00+00:00",
         "status": "completed", "zone": "us-east-1", "disk_id": "vol-1"}
    ]  # fmt: skip


def test_the_instance_filter_refuses_a_shape_configure_cannot_use() -> None:
    with pytest.raises(AnsibleFilterError, match="lacks"):
        workbench_instance({"cloud": "aws"})
