#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aliyun_workbench_info
short_description: Everything that carries a workbench's tags in an Alibaba Cloud region
version_added: "0.1.0"
description:
  - Lists the VPCs, vSwitches, security groups (with their rules), key pairs, instances, data
    disks and, when asked, snapshots that carry every one of O(tags), in one module run.
  - The tags are sent as the API's C(Tag.N.Key) filters and checked again on each answer, so a
    resource without them is never returned, whatever its name.
  - O(disk_ids) are described as well, tagged or not, so that a caller can tell an unknown disk
    from one of another workbench.
  - One call instead of one alibaba.alicloud C(*_info) module per kind; each of those imports
    all of footmark (over a second of start-up), and footmark drops the data disks' tags.
notes:
  - Supports check mode; changes nothing.
requirements:
  - aliyun-python-sdk-core
author:
  - mlbox.workbench developers (!UNKNOWN)
extends_documentation_fragment:
  - mlbox.workbench.aliyun_auth
options:
  tags:
    description: Tags every resource returned must carry.
    type: dict
    required: true
  disk_ids:
    description: Disks to describe by id, tagged or not (returned in RV(given_disks)).
    type: list
    elements: str
    default: []
  snapshots:
    description: Whether to list the tagged snapshots too.
    type: bool
    default: false
  disk_name_prefix:
    description:
      - The name of the data disk made for each instance found is this prefix and the
        instance's id; such disks that lack O(tags) (a run stopped between creating a disk
        and tagging it) are returned in RV(untagged_disks).
    type: str
  public_key:
    description:
      - An OpenSSH public key; each key pair found tells whether it holds this key
        (RV(key_pairs[].matches)).
    type: str
  image:
    description:
      - V(ubuntu-lts) picks the newest Ubuntu LTS x86_64 public (system) image that
        O(instance_type) can run (C(DescribeImages)); any other value is an image id, which
        must exist in the region. Returned in RV(image).
      - Left out, no image is looked up.
    type: str
  instance_type:
    description: The instance type the image of O(image) must run on.
    type: str
  region_check:
    description:
      - Whether to look at the region first, as M(mlbox.workbench.aliyun_region_info) does
        (RV(regions), RV(region_known), RV(zones)).
      - In an unknown region nothing else is looked up and every list is empty.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Find what the workbench has
  mlbox.workbench.aliyun_workbench_info:
    tags:
      mlbox:workbench: exp1
    disk_ids: [d-bp1abcdefg]
    snapshots: true
  register: found
"""

RETURN = r"""
vpcs:
  description: Tagged VPCs.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: VPC id.
      type: str
    name:
      description: Name.
      type: str
    cidr_block:
      description: CIDR block.
      type: str
    tags:
      description: Tags.
      type: dict
vswitches:
  description: Tagged vSwitches.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: vSwitch id.
      type: str
    name:
      description: Name.
      type: str
    vpc_id:
      description: Its VPC.
      type: str
    zone_id:
      description: Its zone.
      type: str
    cidr_block:
      description: CIDR block.
      type: str
    tags:
      description: Tags.
      type: dict
security_groups:
  description: Tagged security groups.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Security group id.
      type: str
    name:
      description: Name.
      type: str
    vpc_id:
      description: Its VPC.
      type: str
    tags:
      description: Tags.
      type: dict
    rules:
      description: Its rules.
      type: list
      elements: dict
      contains:
        direction:
          description: ingress or egress.
          type: str
        ip_protocol:
          description: Protocol in lower case.
          type: str
          sample: tcp
        port_range:
          description: Ports.
          type: str
          sample: 22/22
        source_cidr_ip:
          description: Source CIDR (ingress).
          type: str
key_pairs:
  description: Tagged key pairs.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Key pair name.
      type: str
    fingerprint:
      description: Fingerprint of the public key.
      type: str
    matches:
      description: Whether it holds O(public_key) (null without it).
      type: bool
    tags:
      description: Tags.
      type: dict
instances:
  description: Tagged instances.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Instance id.
      type: str
    name:
      description: Name.
      type: str
    status:
      description: Status in lower case.
      type: str
      sample: running
    zone_id:
      description: Zone.
      type: str
    public_ip:
      description: Public address, empty when none.
      type: str
    spot_strategy:
      description: NoSpot, SpotAsPriceGo or SpotWithPriceLimit.
      type: str
    vswitch_id:
      description: Its vSwitch.
      type: str
    tags:
      description: Tags.
      type: dict
disks:
  description: Tagged data disks (system disks are never tagged by the workbench), oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Disk id.
      type: str
    name:
      description: Name.
      type: str
    size_gb:
      description: Size in GiB.
      type: int
    status:
      description: Status in lower case (available, in_use, ...).
      type: str
    zone_id:
      description: Zone.
      type: str
    instance_id:
      description: The instance it is attached to, empty when none.
      type: str
    created:
      description: Creation time, ISO 8601 UTC.
      type: str
    snapshot_id:
      description: The snapshot it was made from, empty when none.
      type: str
    tags:
      description: Tags.
      type: dict
given_disks:
  description: The disks of O(disk_ids) that exist, in the shape of RV(disks).
  returned: always
  type: list
  elements: dict
untagged_disks:
  description:
    - The disks named for an instance found (O(disk_name_prefix)) that lack O(tags), in the
      shape of RV(disks); empty without O(disk_name_prefix).
  returned: always
  type: list
  elements: dict
snapshots:
  description: Tagged snapshots, oldest first, in the shape aliyun_snapshot returns.
  returned: always
  type: list
  elements: dict
regions:
  description: Every region id ECS offers.
  returned: when O(region_check)
  type: list
  elements: str
region_known:
  description: Whether the region is one of them.
  returned: when O(region_check)
  type: bool
zones:
  description: The zones of the region, in the shape aliyun_region_info returns.
  returned: when O(region_check)
  type: list
  elements: dict
image:
  description: The image of O(image), empty when there is none.
  returned: when O(image) is given
  type: dict
  contains:
    id:
      description: Image id.
      type: str
      sample: ubuntu_24_04_x64_20G_alibase_20250113.vhd
    name:
      description: Image name.
      type: str
    os_name:
      description: Operating system, in English.
      type: str
      sample: Ubuntu  24.04 64 bit
    architecture:
      description: Architecture.
      type: str
      sample: x86_64
    size_gb:
      description: Size of the image; the system disk is at least this.
      type: int
    created:
      description: When the image was built.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.aliyun import (
    AliyunError,
    aliyun_argument_spec,
    connect,
    describe_region,
    fail,
    image_view,
    key_fingerprint,
    newest_ubuntu_lts,
    tags_dict,
)

LATEST_LTS = "ubuntu-lts"

KINDS = (
    "vpcs",
    "vswitches",
    "security_groups",
    "key_pairs",
    "instances",
    "disks",
    "given_disks",
    "untagged_disks",
    "snapshots",
)


def carries(resource, tags):
    held = tags_dict(resource)
    return all(held.get(k) == str(v) for k, v in tags.items())


def vpc(item):
    return {
        "id": item.get("VpcId", ""),
        "name": item.get("VpcName", ""),
        "cidr_block": item.get("CidrBlock", ""),
        "tags": tags_dict(item),
    }


def vswitch(item):
    return {
        "id": item.get("VSwitchId", ""),
        "name": item.get("VSwitchName", ""),
        "vpc_id": item.get("VpcId", ""),
        "zone_id": item.get("ZoneId", ""),
        "cidr_block": item.get("CidrBlock", ""),
        "tags": tags_dict(item),
    }


def rule(item):
    return {
        "direction": item.get("Direction", "ingress"),
        "ip_protocol": str(item.get("IpProtocol", "")).lower(),
        "port_range": item.get("PortRange", ""),
        "source_cidr_ip": item.get("SourceCidrIp", ""),
    }


def instance(item):
    public = (item.get("PublicIpAddress") or {}).get("IpAddress") or []
    eip = (item.get("EipAddress") or {}).get("IpAddress") or ""
    return {
        "id": item.get("InstanceId", ""),
        "name": item.get("InstanceName", ""),
        "status": str(item.get("Status", "")).lower(),
        "zone_id": item.get("ZoneId", ""),
        "public_ip": public[0] if public else eip,
        "spot_strategy": item.get("SpotStrategy", "NoSpot"),
        "vswitch_id": (item.get("VpcAttributes") or {}).get("VSwitchId", ""),
        "tags": tags_dict(item),
    }


def disk(item):
    return {
        "id": item.get("DiskId", ""),
        "name": item.get("DiskName", ""),
        "size_gb": int(item.get("Size") or 0),
        "status": str(item.get("Status", "")).lower(),
        "zone_id": item.get("ZoneId", ""),
        "instance_id": item.get("InstanceId", ""),
        "created": item.get("CreationTime", ""),
        "snapshot_id": item.get("SourceSnapshotId", ""),
        "tags": tags_dict(item),
    }


def snapshot(item):
    return {
        "id": item.get("SnapshotId", ""),
        "name": item.get("SnapshotName", ""),
        "status": item.get("Status", ""),
        "progress": item.get("Progress", ""),
        "disk_id": item.get("SourceDiskId", ""),
        "size_gb": int(item.get("SourceDiskSize") or 0),
        "created": item.get("CreationTime", ""),
        "tags": tags_dict(item),
    }


def tagged(ecs, tags, action, key, sub, api="ecs", page_size=100, **params):
    found = ecs.pages(action, key, sub, api=api, page_size=page_size, Tags=tags, **params)
    return [item for item in found if carries(item, tags)]


def gather(ecs, tags, disk_ids, with_snapshots, public_key=None, disk_name_prefix=None):
    wanted = key_fingerprint(public_key) if public_key else None
    groups = []
    for group in tagged(
        ecs, tags, "DescribeSecurityGroups", "SecurityGroups", "SecurityGroup", page_size=50
    ):
        answer = ecs.call(
            "DescribeSecurityGroupAttribute", SecurityGroupId=group["SecurityGroupId"]
        )
        rules = (answer.get("Permissions") or {}).get("Permission") or []
        groups.append(
            {
                "id": group["SecurityGroupId"],
                "name": group.get("SecurityGroupName", ""),
                "vpc_id": group.get("VpcId", ""),
                "tags": tags_dict(group),
                "rules": [rule(r) for r in rules],
            }
        )
    key_pairs = [
        {
            "name": k.get("KeyPairName", ""),
            "fingerprint": k.get("KeyPairFingerPrint", ""),
            "matches": None if public_key is None else k.get("KeyPairFingerPrint") == wanted,
            "tags": tags_dict(k),
        }
        for k in tagged(ecs, tags, "DescribeKeyPairs", "KeyPairs", "KeyPair", page_size=50)
    ]
    disks = sorted(
        (disk(d) for d in tagged(ecs, tags, "DescribeDisks", "Disks", "Disk", DiskType="data")),
        key=lambda d: (d["created"], d["id"]),
    )
    given = []
    if disk_ids:
        found = ecs.pages("DescribeDisks", "Disks", "Disk", DiskIds=list(disk_ids))
        given = [disk(d) for d in found]
    instances = [
        instance(i) for i in tagged(ecs, tags, "DescribeInstances", "Instances", "Instance")
    ]
    untagged = []
    for made_for in instances if disk_name_prefix else []:
        name = disk_name_prefix + made_for["id"]
        found = ecs.pages("DescribeDisks", "Disks", "Disk", DiskName=name, DiskType="data")
        untagged += [disk(d) for d in found if d.get("DiskName") == name and not carries(d, tags)]
    snapshots = []
    if with_snapshots:
        snapshots = sorted(
            (snapshot(s) for s in tagged(ecs, tags, "DescribeSnapshots", "Snapshots", "Snapshot")),
            key=lambda s: (s["created"], s["id"]),
        )
    return {
        "vpcs": [
            vpc(v)
            for v in tagged(ecs, tags, "DescribeVpcs", "Vpcs", "Vpc", api="vpc", page_size=50)
        ],
        "vswitches": [
            vswitch(v)
            for v in tagged(
                ecs, tags, "DescribeVSwitches", "VSwitches", "VSwitch", api="vpc", page_size=50
            )
        ],
        "security_groups": groups,
        "key_pairs": key_pairs,
        "instances": instances,
        "disks": disks,
        "given_disks": given,
        "untagged_disks": untagged,
        "snapshots": snapshots,
    }


def find_image(ecs, image, instance_type):
    """The image asked for: the newest Ubuntu LTS one (LATEST_LTS), or the given id; {} if none."""
    query = dict(ImageOwnerAlias="system", OSType="linux", Status="Available")
    if image == LATEST_LTS:
        query.update(Architecture="x86_64", InstanceType=instance_type or None)
        found = ecs.pages("DescribeImages", "Images", "Image", **query)
        return newest_ubuntu_lts(found) or {}
    found = ecs.pages("DescribeImages", "Images", "Image", ImageId=image, ImageOwnerAlias=None)
    found = [i for i in found if i.get("ImageId") == image]
    return image_view(found[0]) if found else {}


def main():
    spec = aliyun_argument_spec()
    spec.update(
        tags=dict(type="dict", required=True),
        disk_ids=dict(type="list", elements="str", default=[]),
        snapshots=dict(type="bool", default=False),
        region_check=dict(type="bool", default=False),
        public_key=dict(type="str", no_log=False),
        disk_name_prefix=dict(type="str"),
        image=dict(type="str"),
        instance_type=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    if not params["tags"]:
        module.fail_json(msg="tags must name at least one tag; without it every resource matches")
    ecs = connect(module)
    found = {}
    try:
        if params["region_check"]:
            regions, zones = describe_region(ecs)
            found.update(regions=regions, region_known=ecs.region in regions, zones=zones)
        if found.get("region_known", True):
            found.update(
                gather(
                    ecs,
                    params["tags"],
                    [d for d in params["disk_ids"] if d],
                    params["snapshots"],
                    params["public_key"],
                    params["disk_name_prefix"],
                )
            )
        else:
            found.update({kind: [] for kind in KINDS})
        if params["image"] and found.get("region_known", True):
            found["image"] = find_image(ecs, params["image"], params["instance_type"])
    except AliyunError as e:
        fail(module, e)
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
