"""Compare what a double answers with what the real cloud answers, shape against shape.

A transcript (tests/doubles/transcripts/<cloud>.json) is either a recording of a real
account, made by a smoke test (``make smoke-<cloud>``, tests/smoke/), or, until someone has
recorded one, a seed derived from the vendor's own API model ("source": "botocore model
<version>"). Both hold, per action, the shape of the answer (tests/smoke/sanitize.py: field
names and types only). The comparison is generic over clouds:

- every field the double answers must be one the cloud answers too, with the same type: a
  double that invents a field or a type makes the roles rely on something that is not there;
- against a recording (not a model, which lists every optional field), every field the cloud
  answered must be in the double's answer too: a field missing from the double is one the
  roles never see in their tests (moto once left out Volume.SnapshotId, and ec2_vol failed
  against it with a KeyError).

Run with tests/unit/doubles/test_transcript_shapes.py; write_seed() makes the AWS seed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
MODEL_SOURCE = "botocore model"
# botocore's scalar types -> the type names of tests/smoke/sanitize.py.
_BOTOCORE_TYPES = {
    "string": "string",
    "integer": "integer",
    "long": "integer",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "double": "float",
    "float": "float",
    "blob": "blob",
}
USER_MAP_KEY = "<key>"


def load(cloud: str) -> dict[str, Any]:
    return json.loads((TRANSCRIPTS / f"{cloud}.json").read_text())


def is_recording(transcript: dict[str, Any]) -> bool:
    return not str(transcript.get("source", "")).startswith(MODEL_SOURCE)


def _types(shape: Any) -> set[str]:
    return set(str(shape).split("|"))


def compare(cloud_shape: Any, double_shape: Any, both_ways: bool, path: str = "") -> list[str]:
    """The differences, one line each ('' path is the answer itself)."""
    here = path or "(answer)"
    if double_shape in (None, "null", []) or cloud_shape in (None, "null"):
        return []
    if isinstance(cloud_shape, dict) and isinstance(double_shape, dict):
        out = []
        for key, sub in double_shape.items():
            if key not in cloud_shape:
                out.append(f"{path}.{key}: the double answers it, the cloud never does")
            else:
                out += compare(cloud_shape[key], sub, both_ways, f"{path}.{key}")
        if both_ways:
            out += [
                f"{path}.{key}: the cloud answers it, the double does not"
                for key in cloud_shape
                if key not in double_shape and key != USER_MAP_KEY
            ]
        return out
    if isinstance(cloud_shape, list) and isinstance(double_shape, list):
        if not cloud_shape or not double_shape:
            return []
        return compare(cloud_shape[0], double_shape[0], both_ways, f"{path}[]")
    if isinstance(cloud_shape, (dict, list)) or isinstance(double_shape, (dict, list)):
        kind = {dict: "an object", list: "a list"}
        cloud_kind = kind.get(type(cloud_shape), cloud_shape)
        double_kind = kind.get(type(double_shape), double_shape)
        return [f"{here}: the cloud answers {cloud_kind}, the double {double_kind}"]
    if not _types(double_shape) <= _types(cloud_shape):
        return [f"{here}: the cloud answers {cloud_shape}, the double {double_shape}"]
    return []


def compare_transcripts(cloud: dict[str, Any], double: dict[str, Any]) -> dict[str, list[str]]:
    """Per action both transcripts hold: its differences. Actions only one holds are not
    compared here; the caller decides what the double must cover."""
    both_ways = is_recording(cloud)
    out = {}
    for action, recorded in cloud["calls"].items():
        answered = double["calls"].get(action)
        if answered is None:
            continue
        out[action] = compare(recorded.get("response"), answered.get("response"), both_ways)
    return out


def transcript_from_records(records: Iterable[dict[str, Any]], **header: Any) -> dict[str, Any]:
    """Merge a recorder's records (one per call) into a transcript: per action the params
    and answers merged, and the error codes seen."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "smoke"))
    from sanitize import merge

    calls: dict[str, dict[str, Any]] = {}
    for record in records:
        action = record.get("action")
        if not action or "dropped" in record:
            continue
        entry = calls.setdefault(action, {"params": {}, "response": None, "errors": []})
        entry["params"] = merge(entry["params"], record.get("params") or {})
        if record.get("error"):
            if record["error"] not in entry["errors"]:
                entry["errors"].append(record["error"])
        else:
            entry["response"] = merge(entry["response"], record.get("response"))
    return {**header, "calls": dict(sorted(calls.items()))}


# --- the seed from botocore's model -------------------------------------------------------


def botocore_shape(shape: Any, depth: int = 0, seen: tuple[str, ...] = ()) -> Any:
    """The shape of a botocore output shape in the transcripts' notation."""
    if shape.name in seen or depth > 24:
        return "recursive"
    seen = (*seen, shape.name)
    if shape.type_name == "structure":
        return {
            name: botocore_shape(member, depth + 1, seen) for name, member in shape.members.items()
        }
    if shape.type_name == "list":
        return [botocore_shape(shape.member, depth + 1, seen)]
    if shape.type_name == "map":
        return {USER_MAP_KEY: botocore_shape(shape.value, depth + 1, seen)}
    return _BOTOCORE_TYPES.get(shape.type_name, shape.type_name)


def seed_from_botocore(service: str, actions: Iterable[str]) -> dict[str, Any]:
    import botocore
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    calls = {}
    for action in sorted(actions):
        operation = model.operation_model(action)
        calls[action] = {
            "params": botocore_shape(operation.input_shape) if operation.input_shape else {},
            "response": botocore_shape(operation.output_shape)
            if operation.output_shape is not None
            else {},
            "errors": [],
        }
    return {
        "cloud": "aws" if service in ("ec2", "sts") else service,
        "source": f"{MODEL_SOURCE} {botocore.__version__} ({service} "
        f"{model.api_version}): output shapes, not a recording",
        "calls": calls,
    }


# The EC2 calls cloud_aws (and amazon.aws' modules for it) make: the double's journal
# (GET /_mlbox/requests) over tests/integration/aws, plus ec2_vol's ModifyInstanceAttribute
# (made when DeleteOnTermination must change). STS and IAM: aws_caller_info.
AWS_ACTIONS = (
    "AttachVolume",
    "AuthorizeSecurityGroupIngress",
    "CreateLaunchTemplate",
    "CreateSecurityGroup",
    "CreateSnapshot",
    "CreateTags",
    "CreateVolume",
    "DeleteKeyPair",
    "DeleteLaunchTemplate",
    "DeleteSecurityGroup",
    "DeleteSnapshot",
    "DeleteTags",
    "DeleteVolume",
    "DescribeImages",
    "DescribeInstanceTypeOfferings",
    "DescribeInstanceTypes",
    "DescribeInstances",
    "DescribeKeyPairs",
    "DescribeLaunchTemplateVersions",
    "DescribeLaunchTemplates",
    "DescribeRegions",
    "DescribeSecurityGroups",
    "DescribeSnapshotAttribute",
    "DescribeSnapshots",
    "DescribeSpotInstanceRequests",
    "DescribeSubnets",
    "DescribeTags",
    "DescribeVolumes",
    "DescribeVpcAttribute",
    "DescribeVpcs",
    "ImportKeyPair",
    "ModifyInstanceAttribute",
    "RunInstances",
    "TerminateInstances",
)
AWS_OTHER_ACTIONS = {"sts": ("GetCallerIdentity",), "iam": ("ListAccountAliases",)}


def write_seed() -> Path:
    """tests/doubles/transcripts/aws.json from botocore's model (EC2, STS, IAM)."""
    seed = seed_from_botocore("ec2", AWS_ACTIONS)
    for service, actions in AWS_OTHER_ACTIONS.items():
        seed["calls"].update(seed_from_botocore(service, actions)["calls"])
    seed["calls"] = dict(sorted(seed["calls"].items()))
    path = TRANSCRIPTS / "aws.json"
    TRANSCRIPTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(seed, indent=1, sort_keys=False) + "\n")
    return path


if __name__ == "__main__":
    print(write_seed())
