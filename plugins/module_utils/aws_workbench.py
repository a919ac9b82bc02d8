# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)
"""cloud_aws's side of the contract: amazon.aws's lookups in the contract's shapes, and
the launch plan (module aws_workbench_plan) on top of workbench_contract.plan().

Pure: it reads what amazon.aws's *_info modules and aws_instance_type_info returned (as
Ansible registered them) and talks to no cloud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.mlbox.workbench.plugins.module_utils.workbench_contract import (
    Attachment,
    Disk,
    LiveInstance,
    Lookups,
    PlanError,
    PlanInputs,
    Snapshot,
    plan,
)

TAG = "mlbox:workbench"
DATA_DEVICE = "/dev/sdf"
# gp3: 1 - 65,536 GiB (botocore's EC2 model, CreateVolume Size).
GP3_MAX_GIB = 65536
CANONICAL = "099720109477"
# Image owner -> login user.
SSH_USERS = {
    CANONICAL: "ubuntu",
    "136693071363": "admin",
    "137112412989": "ec2-user",
    "125523088429": "centos",
    "309956199498": "ec2-user",
}


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    tags = resource.get("tags") or {}
    if isinstance(tags, list):  # boto3's [{Key, Value}] where a module did not convert
        return {str(t.get("Key")): str(t.get("Value")) for t in tags}
    return {str(k): str(v) for k, v in tags.items()}


def disk_from_ec2(volume: dict[str, Any], tag: str = TAG) -> Disk:
    """An amazon.aws.ec2_vol_info volume as the contract's disk."""
    tags = tags_of(volume)
    attachments = tuple(
        Attachment(str(a.get("instance_id") or ""), str(a.get("device") or ""))
        for a in volume.get("attachment_set") or []
        if a.get("instance_id")
    )
    return Disk(
        id=str(volume["id"]),
        name=tags.get("Name") or str(volume["id"]),
        size_gb=int(volume.get("size") or 0),
        created=str(volume.get("create_time") or ""),
        status=str(volume.get("status") or ""),
        zone=str(volume.get("zone") or ""),
        owner=tags.get(tag, ""),
        attachments=attachments,
    )


def snapshot_from_ec2(snapshot: dict[str, Any], region: str) -> Snapshot:
    """An amazon.aws.ec2_snapshot_info snapshot as the contract's snapshot."""
    tags = tags_of(snapshot)
    return Snapshot(
        id=str(snapshot["snapshot_id"]),
        name=tags.get("Name") or str(snapshot["snapshot_id"]),
        size_gb=int(snapshot.get("volume_size") or 0),
        created=str(snapshot.get("start_time") or ""),
        status=str(snapshot.get("state") or ""),
        zone=region,
        disk_id=str(snapshot.get("volume_id") or ""),
    )


def image_arch(architectures: list[str]) -> str:
    """Canonical's name for the instance type's architecture."""
    return "amd64" if "x86_64" in architectures else "arm64"


def newest_ubuntu_lts(images: list[dict[str, Any]], arch: str) -> dict[str, Any]:
    """The newest build of the newest LTS release (an even year's .04) for the arch."""
    pattern = re.compile(r"-([0-9][02468][.]04)-" + re.escape(arch) + "-server-")
    releases = [(m.group(1), image) for image in images if (m := pattern.search(image["name"]))]
    if not releases:
        return {}
    newest = max(release for release, _unused in releases)
    builds = [image for release, image in releases if release == newest]
    return max(builds, key=lambda image: str(image.get("creation_date") or ""))


def choose_image(
    given: str, images: list[dict[str, Any]], region: str, instance_type: str, arches: list[str]
) -> dict[str, Any]:
    arch = image_arch(arches)
    image = (images[0] if images else {}) if given else newest_ubuntu_lts(images, arch)
    if not image and given:
        raise PlanError(
            f"Image '{given}' (workbench_image) does not exist in {region} or is not visible to "
            "this account (AMI ids differ per region)"
        )
    if not image:
        raise PlanError(
            f"Found no Ubuntu LTS image of Canonical ({CANONICAL}) for {arch} in {region}; give "
            "one in workbench_image"
        )
    if image.get("architecture") not in arches:
        raise PlanError(
            f"Image {image['image_id']} is built for {image.get('architecture')}, but "
            f"{instance_type} runs {', '.join(arches)}; choose a matching workbench_image or "
            "workbench_instance_type"
        )
    return image


def login_user(given: str, image: dict[str, Any]) -> str:
    if given:
        return given
    if image.get("owner_id") in SSH_USERS:
        return SSH_USERS[image["owner_id"]]
    name = str(image.get("name") or "").lower()
    return "ubuntu" if "ubuntu" in name else "admin" if "debian" in name else "ec2-user"


def foreign_names(named: dict[str, list[dict[str, Any]]], name: str, tag: str = TAG) -> list[str]:
    """The kinds of resource that carry the workbench's name without its tag."""
    return [
        kind
        for kind, found in named.items()
        if any(tags_of(item).get(tag) != name for item in found)
    ]


@dataclass(frozen=True)
class AwsFound:
    """What the lookups registered (amazon.aws's return values, as lists of dicts)."""

    instance_type: dict[str, Any]
    subnets: list[dict[str, Any]]
    default_vpcs: list[dict[str, Any]] | None
    instances: list[dict[str, Any]]
    bound_volumes: list[dict[str, Any]]
    existing_volumes: list[dict[str, Any]]
    volumes: list[dict[str, Any]]
    snapshots: list[dict[str, Any]]
    images: list[dict[str, Any]]
    named: dict[str, list[dict[str, Any]]]


def aws_plan(inputs: PlanInputs, found: AwsFound, image_id: str, ssh_user: str) -> dict[str, Any]:
    """The launch plan for up.yml, or PlanError naming the fix."""
    subnet_given = bool(inputs.network_id)
    if subnet_given and len(found.subnets) != 1:
        raise PlanError(
            f"Subnet '{inputs.network_id}' (workbench_aws_subnet_id) does not exist in "
            f"{inputs.region}; leave it empty to use the default VPC"
        )
    if not subnet_given and len(found.default_vpcs or []) != 1:
        raise PlanError(
            f"Region {inputs.region} has no default VPC: create one (aws ec2 create-default-vpc "
            f"--region {inputs.region}) or give a subnet with a route to the internet in "
            "workbench_aws_subnet_id"
        )
    described = found.instance_type
    type_info = described.get("instance_type") or {}
    lookups = Lookups(
        type_zones=list(type_info.get("zones") or []) if described.get("found") else None,
        type_usage=list(type_info.get("usage_classes") or []),
        type_suggestions=list(described.get("suggestions") or []),
        network_zones=[s["availability_zone"] for s in found.subnets],
        network_zone=found.subnets[0]["availability_zone"] if subnet_given else "",
        instances=[
            LiveInstance(
                str(i["instance_id"]),
                str((i.get("placement") or {}).get("availability_zone") or ""),
            )
            for i in found.instances
        ],
        bound_disks=[disk_from_ec2(v, inputs.tag) for v in found.bound_volumes],
        existing_disk=(
            disk_from_ec2(found.existing_volumes[0], inputs.tag) if found.existing_volumes else None
        ),
        disks=[disk_from_ec2(v, inputs.tag) for v in found.volumes],
        snapshots=[snapshot_from_ec2(s, inputs.region) for s in found.snapshots],
    )
    decided = plan(inputs, lookups)
    subnet = next(s for s in found.subnets if s["availability_zone"] == decided.zone)
    image = choose_image(
        image_id,
        found.images,
        inputs.region,
        inputs.instance_type,
        type_info.get("architectures") or [],
    )
    foreign = foreign_names(found.named, inputs.name, inputs.tag)
    if foreign:
        raise PlanError(
            f"A {', a '.join(foreign)} named workbench-{inputs.name} exists without the tag "
            f"{inputs.tag}={inputs.name}; it is not this workbench's and is left alone: choose "
            "another workbench_name, or tag it if it really is the workbench's"
        )
    out = decided.to_dict()
    out.update(
        subnet_id=subnet["subnet_id"],
        vpc_id=subnet["vpc_id"],
        instance=found.instances[0] if found.instances else {},
        image={
            k: image.get(k)
            for k in ("image_id", "name", "architecture", "owner_id", "root_device_name")
        },
        ssh_user=login_user(ssh_user, image),
    )
    return out
