#!/usr/bin/env python3
"""Launch one EC2 instance with a single RunInstances call, and say what EC2 answered.

amazon.aws.ec2_instance retries RunInstances on InsufficientInstanceCapacity (ten times,
with a backoff of minutes in all); for a spot launch that refusal is the answer to act on at
once (fall back to on-demand, or stop), so cloud_aws launches through this script and then
lets ec2_instance wait for the instance. Credentials, profile and AWS_ENDPOINT_URL come from
the environment as for every amazon.aws module; nothing secret is passed or printed.

    ec2_run_instance.py REGION SPEC_JSON

SPEC_JSON holds RunInstances' parameters as boto3 names them (a ClientToken is added when
missing). Prints one JSON object: {"instance_id": "i-..."} once EC2 accepted the launch, or
{"error": {"code", "message", "spot_refusal", "fix"}} when it refused or could not be asked:
spot_refusal is true when the refusal is of spot alone (on-demand may still launch), fix
names what to change.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

# RunInstances' capacity, quota and spot refusals, from "Error codes for the Amazon EC2 API"
# (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html):
# code -> (a refusal of spot alone, so on-demand may still launch; what to change).
ZONE_OR_TYPE = "try another workbench_zone or workbench_instance_type, or try again later"
REFUSALS: dict[str, tuple[bool, str]] = {
    # Server error (HTTP 500): no capacity for the type in the zone, now.
    "InsufficientInstanceCapacity": (True, ZONE_OR_TYPE),
    # "isn't enough spare capacity to fulfill your request for Spot Instances".
    "UnfulfillableCapacity": (True, ZONE_OR_TYPE),
    # "the limit on the number of Spot Instances that you can launch" (the spot vCPU quota).
    "MaxSpotInstanceCountExceeded": (
        True,
        "ask for a higher 'All ... Spot Instance Requests' vCPU quota (Service Quotas, Amazon "
        "EC2), or set workbench_spot=false",
    ),
    # "your maximum price is below the Spot price".
    "SpotMaxPriceTooLow": (
        True,
        "raise workbench_spot_max_price or leave it empty (spot then never costs more than "
        "on-demand)",
    ),
    # The on-demand quotas: another market does not help.
    "InstanceLimitExceeded": (
        False,
        "ask for a higher On-Demand instance quota (Service Quotas, Amazon EC2) or choose a "
        "smaller workbench_instance_type",
    ),
    "VcpuLimitExceeded": (
        False,
        "ask for a higher 'Running On-Demand ... instances' vCPU quota for the type's family "
        "(Service Quotas, Amazon EC2) or choose a workbench_instance_type with fewer vCPUs",
    ),
    # "launch an instance in an Availability Zone that currently has constraints on that
    # instance type": the message names the zones that take it.
    "Unsupported": (
        False,
        "choose a workbench_zone the message names, or another workbench_instance_type",
    ),
    "InsufficientFreeAddressesInSubnet": (
        False,
        "free addresses in the subnet, or choose another workbench_aws_subnet_id or workbench_zone",
    ),
}
# Worth the same request again, with the same ClientToken: throttling and transient server
# errors. Capacity refusals are not: botocore's own retries (standard mode retries any HTTP
# 500, InsufficientInstanceCapacity included) are off for this one call.
TRANSIENT = {
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "Unavailable",
    "InternalError",
    "InternalFailure",
    "ServerInternal",
}
ATTEMPTS = 4


def classify(code: str, message: str) -> dict[str, Any]:
    spot_refusal, fix = REFUSALS.get(code, (False, ""))
    return {"code": code, "message": message, "spot_refusal": spot_refusal, "fix": fix}


def launch(
    client: Any, spec: dict[str, Any], sleep: Any = time.sleep, error: Any = Exception
) -> dict[str, Any]:
    """One launch; transient errors are asked again (same ClientToken, so at most one
    instance), anything else is the answer."""
    spec = {"ClientToken": uuid.uuid4().hex, "MinCount": 1, "MaxCount": 1, **spec}
    for attempt in range(ATTEMPTS):
        try:
            response = client.run_instances(**spec)
            return {"instance_id": response["Instances"][0]["InstanceId"]}
        except error as exc:
            code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")
            if code not in TRANSIENT or attempt == ATTEMPTS - 1:
                raise
            sleep(2**attempt)
    raise AssertionError("unreachable")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(json.dumps({"error": classify("usage", "REGION SPEC_JSON")}))
        return 2
    region, raw_spec = argv
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        print(json.dumps({"error": classify("", "boto3 is missing")}))
        return 0
    try:
        config = Config(retries={"mode": "standard", "total_max_attempts": 1})
        client = boto3.client("ec2", region_name=region, config=config)
        result = launch(client, json.loads(raw_spec), error=ClientError)
    except ClientError as exc:
        said = exc.response.get("Error", {})
        result = {"error": classify(said.get("Code", ""), said.get("Message", ""))}
    except BotoCoreError as exc:
        result = {"error": classify(type(exc).__name__, str(exc))}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
