#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_run_instance
short_description: Launch one EC2 instance, spot first, with one RunInstances call per market
version_added: 0.1.0
description:
  - Launches one instance from O(spec) (RunInstances' parameters as boto3 names them). With
    O(spot_template), the first launch takes its spot market options from that launch
    template; when EC2 refuses spot alone (capacity, the spot quota, the price) and
    O(fallback) allows it, the same launch is made on demand, without the template.
  - C(amazon.aws.ec2_instance) retries RunInstances on C(InsufficientInstanceCapacity) for
    minutes; for a spot launch that refusal is the answer to act on at once, so this module
    asks once per market (throttling and transient server errors are asked again with the
    same ClientToken, so there is never a second instance).
  - Every refusal fails with EC2's code and message and what to change (a quota, the zone,
    the type, the price); nothing else is launched.
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
  spec:
    description: RunInstances' parameters (ImageId, InstanceType, NetworkInterfaces, ...).
    type: dict
    required: true
  tags:
    description: Tags for the instance and its volumes; C(mlbox:market) is added per market.
    type: dict
    default: {}
  spot_template:
    description: The launch template holding the spot market options; empty for on demand.
    type: str
    default: ""
  fallback:
    description: Launch on demand when EC2 refuses spot alone.
    type: bool
    default: true
  zone:
    description: The zone the spec's subnet is in, for messages.
    type: str
    default: ""
attributes:
  check_mode:
    description: Can run in check mode and predict what would change without changing it.
    support: none
    details:
      - A launch cannot be pretended; the task must not run in check mode.
  diff_mode:
    description: Returns what changed (or would change in check mode) in diff mode.
    support: none
    details:
      - There is no previous state to compare with.
"""

EXAMPLES = r"""
- name: Launch the workbench's instance as spot, on demand when spot is refused
  mlbox.workbench.aws_run_instance:
    region: us-east-1
    spec:
      ImageId: ami-0a1b2c3d4e5f67890
      InstanceType: t3.large
      KeyName: workbench-mlbox
    tags:
      mlbox:workbench: mlbox
    spot_template: workbench-mlbox
    fallback: true
  register: launched
"""

RETURN = r"""
instance_id:
  description: The instance EC2 accepted.
  returned: success
  type: str
  sample: i-0a1b2c3d4e5f67890
market:
  description: The market it was launched in, spot or on-demand.
  returned: success
  type: str
  sample: spot
spot_refusal:
  description: EC2's refusal of spot (code, message, fix) when the launch fell back.
  returned: when spot was refused and the on-demand launch succeeded
  type: dict
  sample: {"code": "InsufficientInstanceCapacity", "message": "...", "fix": "..."}
"""

import time
import uuid
from typing import Any

from ansible.module_utils.basic import AnsibleModule

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


class LaunchRefused(Exception):
    """A launch EC2 refused; ``error`` is classify()'s dict."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.error = error


def tag_specifications(tags: dict[str, str], market: str) -> list[dict[str, Any]]:
    pairs = [{"Key": k, "Value": str(v)} for k, v in {**tags, "mlbox:market": market}.items()]
    return [{"ResourceType": kind, "Tags": pairs} for kind in ("instance", "volume")]


def attempt(client: Any, spec: dict[str, Any], error: Any) -> str:
    """One market's launch: the instance id, or LaunchRefused with EC2's answer."""
    try:
        return launch(client, spec, error=error)["instance_id"]
    except error as exc:
        said = (getattr(exc, "response", None) or {}).get("Error", {})
        raise LaunchRefused(classify(said.get("Code", ""), said.get("Message", str(exc)))) from None


def run(
    client: Any,
    spec: dict[str, Any],
    tags: dict[str, str],
    spot_template: str,
    fallback: bool,
    where: str,
    error: Any = Exception,
) -> dict[str, Any]:
    """Spot first (when a template is given), on demand after a refusal of spot alone."""
    instance_type = spec.get("InstanceType", "the instance")
    first = "spot" if spot_template else "on-demand"
    spec_first = {**spec, "TagSpecifications": tag_specifications(tags, first)}
    if spot_template:
        spec_first["LaunchTemplate"] = {"LaunchTemplateName": spot_template}
    try:
        return {"instance_id": attempt(client, spec_first, error), "market": first}
    except LaunchRefused as refused:
        spot = refused.error
    if not (spot_template and spot["spot_refusal"]):
        fix = f"; {spot['fix']}" if spot["fix"] else ""
        raise RunError(
            f"Could not launch the workbench's instance ({instance_type}, {first}, in {where}): "
            f"{spot['code']}: {spot['message']}{fix}. Nothing else was launched."
        )
    if not fallback:
        raise RunError(
            f"Spot for {instance_type} in {where} was refused ({spot['code']}: {spot['message']}) "
            "and workbench_spot_fallback is false: set workbench_spot_fallback=true to take an "
            f"on-demand instance, or {spot['fix']}."
        )
    spec_second = {**spec, "TagSpecifications": tag_specifications(tags, "on-demand")}
    try:
        instance_id = attempt(client, spec_second, error)
    except LaunchRefused as refused:
        again = refused.error
        raise RunError(
            f"Spot was refused ({spot['code']}) and the on-demand launch of {instance_type} in "
            f"{where} failed as well: {again['code']}: {again['message']}; "
            f"{again['fix'] or 'try another workbench_zone or workbench_instance_type'}. "
            "Nothing was launched."
        ) from None
    return {"instance_id": instance_id, "market": "on-demand", "spot_refusal": spot}


class RunError(Exception):
    """A launch that did not happen; main() turns it into fail_json."""


def ec2_client(region: str) -> Any:
    """An EC2 client with botocore's own retries off: its standard mode retries any HTTP 500,
    capacity refusals included; launch() retries only what is transient."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.client("ec2", region_name=region, config=config)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "region": {"type": "str", "required": True},
            "spec": {"type": "dict", "required": True},
            "tags": {"type": "dict", "default": {}},
            "spot_template": {"type": "str", "default": ""},
            "fallback": {"type": "bool", "default": True},
            "zone": {"type": "str", "default": ""},
        },
        supports_check_mode=False,
    )
    p = module.params
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        module.fail_json(msg="aws_run_instance needs boto3 in the controller's Python")
    try:
        result = run(
            ec2_client(p["region"]),
            p["spec"],
            {str(k): str(v) for k, v in p["tags"].items()},
            p["spot_template"],
            p["fallback"],
            p["zone"] or p["region"],
            error=ClientError,
        )
    except RunError as exc:
        module.fail_json(msg=str(exc))
    except BotoCoreError as exc:
        module.fail_json(msg=f"Could not ask EC2 to launch the instance: {exc}")
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
