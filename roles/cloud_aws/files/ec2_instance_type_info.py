#!/usr/bin/env python3
"""Tell whether an EC2 instance type exists in a region and which zones offer it.

Read-only (DescribeInstanceTypes, DescribeInstanceTypeOfferings). amazon.aws has no module
for instance types, and a role inside a collection cannot carry modules, so cloud_aws runs
this with the controller's Python, which has boto3 for amazon.aws anyway. Credentials,
profile and AWS_ENDPOINT_URL come from the environment as for every amazon.aws module.

    ec2_instance_type_info.py REGION INSTANCE_TYPE

prints one JSON object: {"found", "instance_type": {name, vcpus, memory_mib, gpus,
architectures, usage_classes, zones}, "suggestions": [types of that family in the region]}
or {"error": "..."} when AWS could not be asked.
"""

from __future__ import annotations

import json
import sys
from typing import Any


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


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(json.dumps({"error": "usage: ec2_instance_type_info.py REGION INSTANCE_TYPE"}))
        return 2
    region, name = argv
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        print(json.dumps({"error": "boto3 is missing from the controller's Python"}))
        return 0
    try:
        result = look_up(boto3.client("ec2", region_name=region), name)
    except (BotoCoreError, ClientError) as exc:
        result = {"error": f"could not look up instance type {name} in {region}: {exc}"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
