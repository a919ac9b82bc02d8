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
{"error": {"code": "...", "message": "..."}} when it refused or could not be asked.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any


def launch(client: Any, spec: dict[str, Any]) -> dict[str, Any]:
    spec = {"ClientToken": uuid.uuid4().hex, "MinCount": 1, "MaxCount": 1, **spec}
    response = client.run_instances(**spec)
    return {"instance_id": response["Instances"][0]["InstanceId"]}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(json.dumps({"error": {"code": "usage", "message": "REGION SPEC_JSON"}}))
        return 2
    region, raw_spec = argv
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        print(json.dumps({"error": {"code": "", "message": "boto3 is missing"}}))
        return 0
    try:
        # botocore's own retries cover throttling and server errors only, never capacity.
        config = Config(retries={"mode": "standard"})
        client = boto3.client("ec2", region_name=region, config=config)
        result = launch(client, json.loads(raw_spec))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        result = {"error": {"code": error.get("Code", ""), "message": error.get("Message", "")}}
    except BotoCoreError as exc:
        result = {"error": {"code": type(exc).__name__, "message": str(exc)}}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
