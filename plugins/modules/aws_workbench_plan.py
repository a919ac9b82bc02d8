#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_workbench_plan
short_description: Decide an AWS workbench's launch from what the lookups found
version_added: 0.1.0
description:
  - The planning step of C(cloud_aws) (docs/provider-contract.md). It reads what the read-only
    lookups registered (amazon.aws C(*_info) modules and M(mlbox.workbench.aws_instance_type_info))
    and decides the zone and subnet, the instance to reuse, the data disk (reuse, attach an
    existing one, create, or restore a snapshot), the image and its login user.
  - Fails, before anything is created, with a message naming the variable that fixes what is
    wrong (instance type, subnet, disk, snapshot, zone, image, a foreign resource of the
    workbench's name).
  - Talks to no cloud; the rules live in C(plugins/module_utils/workbench_contract.py) and
    C(plugins/module_utils/aws_workbench.py), unit-tested on recorded lookups.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  name:
    description: The workbench's name (C(workbench_name)).
    type: str
    required: true
  region:
    description: The region the lookups were made in.
    type: str
    required: true
  instance_type:
    description: The instance type (C(workbench_instance_type)).
    type: str
    required: true
  spot:
    description: Whether spot is asked for (the type must be sold as spot).
    type: bool
    default: true
  zone:
    description: The zone asked for (C(workbench_zone)); empty for any.
    type: str
    default: ""
  subnet_id:
    description: The subnet asked for (C(workbench_aws_subnet_id)); empty for the default VPC.
    type: str
    default: ""
  disk_source:
    description: Where the data disk comes from.
    type: str
    choices: [new, existing, snapshot]
    default: new
  disk_id:
    description: The existing volume, for O(disk_source=existing).
    type: str
    default: ""
  snapshot:
    description: The snapshot to restore (an id, a name or C(latest)), for O(disk_source=snapshot).
    type: str
    default: latest
  disk_size_gb:
    description: The size of a new data disk, GiB.
    type: int
    default: 20
  image_id:
    description: The AMI asked for (C(workbench_image)); empty for Canonical's newest Ubuntu LTS.
    type: str
    default: ""
  ssh_user:
    description: The login user asked for; empty to take it from the image's owner or name.
    type: str
    default: ""
  found:
    description:
      - What the lookups registered, as lists of amazon.aws's return values.
      - C(instance_type) (M(mlbox.workbench.aws_instance_type_info)'s result), C(subnets) (the
        given subnet or the default VPC's default subnets), C(default_vpcs), C(instances),
        C(bound_volumes), C(existing_volumes), C(volumes), C(snapshots), C(images), and
        C(named) (kind -> resources of the workbench's name).
    type: dict
    required: true
attributes:
  check_mode:
    description: Can run in check mode and predict what would change without changing it.
    support: full
    details:
      - Deciding changes nothing; check mode plans as a real run does.
  diff_mode:
    description: Returns what changed (or would change in check mode) in diff mode.
    support: none
    details:
      - Nothing is changed, so there is nothing to show.
seealso:
  - module: mlbox.workbench.aws_instance_type_info
  - module: mlbox.workbench.aws_run_instance
"""

EXAMPLES = r"""
- name: Decide where and from what the workbench is built
  mlbox.workbench.aws_workbench_plan:
    name: mlbox
    region: us-east-1
    instance_type: t3.large
    disk_source: snapshot
    snapshot: latest
    found:
      instance_type: "{{ type_info }}"
      subnets: "{{ default_subnets.subnets }}"
      default_vpcs: "{{ default_vpc.vpcs }}"
      instances: "{{ current.instances }}"
      bound_volumes: []
      existing_volumes: []
      volumes: "{{ volumes.volumes }}"
      snapshots: "{{ snapshots.snapshots }}"
      images: "{{ ubuntu.images }}"
      named: {}
  register: plan
"""

RETURN = r"""
plan:
  description: What up builds the workbench from.
  returned: success
  type: dict
  contains:
    zone:
      description: The availability zone.
      type: str
      sample: us-east-1a
    subnet_id:
      description: The subnet in that zone.
      type: str
      sample: subnet-0a1b2c3d
    vpc_id:
      description: The subnet's VPC.
      type: str
      sample: vpc-0a1b2c3d
    instance_id:
      description: The workbench's instance that exists already, or empty.
      type: str
      sample: ""
    instance:
      description: That instance as amazon.aws.ec2_instance_info returned it, or empty.
      type: dict
      sample: {}
    disk_action:
      description: reuse, attach, create or restore.
      type: str
      sample: restore
    disk_id:
      description: The data disk reused or attached; empty when one is made.
      type: str
      sample: ""
    disk_size_gb:
      description: The size of a data disk made here, GiB.
      type: int
      sample: 50
    snapshot:
      description: The snapshot restored, in the contract's shape, or empty.
      type: dict
      sample: {"id": "snap-0a1b2c3d4e5f67890", "size_gb": 50, "status": "completed"}
    creates:
      description: What up creates besides the network pieces.
      type: list
      elements: str
      sample: [instance, data disk]
    image:
      description: The AMI (image_id, name, architecture, owner_id, root_device_name).
      type: dict
      sample: {"image_id": "ami-0a1b2c3d", "root_device_name": "/dev/sda1"}
    ssh_user:
      description: The image's login user.
      type: str
      sample: ubuntu
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.aws_workbench import (
    DATA_DEVICE,
    GP3_MAX_GIB,
    TAG,
    AwsFound,
    aws_plan,
)
from ansible_collections.mlbox.workbench.plugins.module_utils.workbench_contract import (
    PlanError,
    PlanInputs,
)

FOUND_LISTS = (
    "subnets",
    "instances",
    "bound_volumes",
    "existing_volumes",
    "volumes",
    "snapshots",
    "images",
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "region": {"type": "str", "required": True},
            "instance_type": {"type": "str", "required": True},
            "spot": {"type": "bool", "default": True},
            "zone": {"type": "str", "default": ""},
            "subnet_id": {"type": "str", "default": ""},
            "disk_source": {
                "type": "str",
                "choices": ["new", "existing", "snapshot"],
                "default": "new",
            },
            "disk_id": {"type": "str", "default": ""},
            "snapshot": {"type": "str", "default": "latest"},
            "disk_size_gb": {"type": "int", "default": 20},
            "image_id": {"type": "str", "default": ""},
            "ssh_user": {"type": "str", "default": ""},
            "found": {"type": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    raw = p["found"]
    inputs = PlanInputs(
        cloud="aws",
        name=p["name"],
        region=p["region"],
        instance_type=p["instance_type"],
        disk_source=p["disk_source"],
        disk_id=p["disk_id"],
        snapshot_choice=p["snapshot"] or "latest",
        disk_size_gb=p["disk_size_gb"],
        max_disk_size_gb=GP3_MAX_GIB,
        disk_kind="volume",
        zone=p["zone"],
        spot=p["spot"],
        data_device=DATA_DEVICE,
        network_var="workbench_aws_subnet_id",
        network_id=p["subnet_id"],
        tag=TAG,
        snapshot_scope=(
            f"only completed snapshots of this account tagged {TAG}={p['name']} in "
            f"{p['region']} count"
        ),
    )
    found = AwsFound(
        instance_type=raw.get("instance_type") or {},
        default_vpcs=raw.get("default_vpcs"),
        named={k: list(v or []) for k, v in (raw.get("named") or {}).items()},
        **{key: list(raw.get(key) or []) for key in FOUND_LISTS},
    )
    try:
        result = aws_plan(inputs, found, p["image_id"], p["ssh_user"])
    except PlanError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, plan=result)


if __name__ == "__main__":
    main()
