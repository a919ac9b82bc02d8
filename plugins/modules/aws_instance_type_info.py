#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_instance_type_info
short_description: Whether an EC2 instance type exists in a region, and which zones offer it
version_added: 0.1.0
description:
  - Read-only (DescribeInstanceTypes, DescribeInstanceTypeOfferings); amazon.aws has no
    module for instance types.
  - For a type the region does not know, RV(suggestions) lists the types of its family that
    the region offers.
  - Credentials, profile and C(AWS_ENDPOINT_URL) come from the environment, as for amazon.aws.
author:
  - mlbox.workbench developers (!UNKNOWN)
requirements:
  - boto3
options:
  region:
    description: The AWS region.
    type: str
    required: true
  name:
    description: The instance type, e.g. C(t3.large).
    type: str
    required: true
attributes:
  check_mode:
    description: Can run in check mode and predict what would change without changing it.
    support: full
    details:
      - A lookup changes nothing; check mode looks up as a real run does.
  diff_mode:
    description: Returns what changed (or would change in check mode) in diff mode.
    support: none
    details:
      - Nothing is changed, so there is nothing to show.
"""

EXAMPLES = r"""
- name: Look up the instance type in the region
  mlbox.workbench.aws_instance_type_info:
    region: us-east-1
    name: g4dn.xlarge
  register: type_info
"""

RETURN = r"""
found:
  description: Whether the region knows the type.
  returned: success
  type: bool
  sample: true
instance_type:
  description:
    - The type (name, vcpus, memory_mib, gpus, architectures, usage_classes, zones).
    - Empty when the region does not know it.
  returned: success
  type: dict
  sample:
    name: t3.large
    vcpus: 2
    architectures: [x86_64]
    usage_classes: [on-demand, spot]
    zones: [us-east-1a]
suggestions:
  description: Types of the same family the region offers, when the type was not found.
  returned: success
  type: list
  elements: str
  sample: [t3.large, t3.medium]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule


def offerings(client: Any, location_type: str, name: str | None) -> list[dict[str, Any]]:
    """The offerings of one type, or of all types (no wildcards: moto does not know them)."""
    paginator = client.get_paginator("describe_instance_type_offerings")
    filters = [{"Name": "instance-type", "Values": [name]}] if name else []
    pages = paginator.paginate(LocationType=location_type, Filters=filters)
    return [offer for page in pages for offer in page.get("InstanceTypeOfferings", [])]


def summarize(described: dict[str, Any], zones: list[str]) -> dict[str, Any]:
    gpus = described.get("GpuInfo", {}).get("Gpus", [])
    return {
        "name": described["InstanceType"],
        "vcpus": described.get("VCpuInfo", {}).get("DefaultVCpus", 0),
        "memory_mib": described.get("MemoryInfo", {}).get("SizeInMiB", 0),
        "gpus": sum(int(gpu.get("Count", 0)) for gpu in gpus),
        "architectures": described.get("ProcessorInfo", {}).get("SupportedArchitectures", []),
        "usage_classes": described.get("SupportedUsageClasses", []),
        "zones": sorted(zones),
    }


def look_up(client: Any, name: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        found = client.describe_instance_types(InstanceTypes=[name]).get("InstanceTypes", [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "InvalidInstanceType":
            raise
        found = []
    if not found:
        family = name.split(".", 1)[0] + "."
        offered = {o["InstanceType"] for o in offerings(client, "region", None)}
        similar = sorted(t for t in offered if t.startswith(family))
        return {"found": False, "instance_type": {}, "suggestions": similar}
    zones = [o["Location"] for o in offerings(client, "availability-zone", name)]
    return {"found": True, "instance_type": summarize(found[0], zones), "suggestions": []}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "region": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
        },
        supports_check_mode=True,
    )
    region, name = module.params["region"], module.params["name"]
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        module.fail_json(msg="aws_instance_type_info needs boto3 in the controller's Python")
    try:
        result = look_up(boto3.client("ec2", region_name=region), name)
    except (BotoCoreError, ClientError) as exc:
        module.fail_json(msg=f"could not look up instance type {name} in {region}: {exc}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
