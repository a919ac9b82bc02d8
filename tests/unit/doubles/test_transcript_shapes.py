"""The doubles' answers against the clouds' recorded shapes (tests/doubles/transcripts/).

For each transcript there, the double of that cloud is driven through the same actions by a
scenario (SCENARIOS), its answers are recorded with the smoke tests' own recorder
(tests/smoke/recorder) and compared with tests/doubles/shapes.py. A transcript whose cloud has
no scenario, or an action no scenario covers, fails: a new recording is compared as soon as
it is committed. The AWS transcript is, until someone records a real one with
``make smoke-aws``, a seed from botocore's model (its "source" says so); see shapes.py for
what each kind of transcript can catch.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "doubles"))
sys.path.insert(0, str(ROOT / "tests" / "smoke"))
import shapes  # noqa: E402

pytest.importorskip("boto3")
pytest.importorskip("moto")
# server: a pytest fixture, used by name (pylint cannot see that).
from test_ec2_double import (  # noqa: E402  # pylint: disable=unused-import
    ZONE,
    Double,
    image,
    server,  # noqa: F401
    subnet,
)


def recorder() -> Any:
    """The smoke tests' recorder, loaded under its own name, writing into a list."""
    spec = importlib.util.spec_from_file_location(
        "mlbox_recorder", ROOT / "tests" / "smoke" / "recorder" / "sitecustomize.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def public_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )


def aws_scenario(server: Double) -> list[dict[str, Any]]:  # noqa: F811
    """Every EC2/STS action cloud_aws makes, against the double, in a workbench's order."""
    import json

    import boto3

    module = recorder()
    lines: list[str] = []
    module.SINK = lines.append
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    events = session._session
    events.register("before-parameter-build", module._before_parameter_build)
    events.register("after-call", module._after_call)
    ec2 = session.client("ec2", endpoint_url=server.url)
    sts = session.client("sts", endpoint_url=server.url)
    iam = session.client("iam", endpoint_url=server.url)
    server.control("POST", "/_mlbox/settle", {"polls": 0})

    sts.get_caller_identity()
    iam.list_account_aliases()
    ec2.describe_regions()
    ec2.describe_instance_types(InstanceTypes=["t3.micro"])
    ec2.describe_instance_type_offerings(
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": ["t3.micro"]}],
    )
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute="enableDnsSupport")
    ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": [ZONE]}])
    ec2.describe_images(ImageIds=[image(server)])
    tag = [{"Key": "mlbox:workbench", "Value": "shapes"}]
    group = ec2.create_security_group(GroupName="workbench-shapes", Description="shapes")
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "203.0.113.7/32"}],
            }
        ],
    )
    ec2.describe_security_groups(GroupIds=[group["GroupId"]])
    ec2.import_key_pair(KeyName="workbench-shapes", PublicKeyMaterial=public_key())
    ec2.describe_key_pairs(KeyNames=["workbench-shapes"])
    ec2.create_launch_template(
        LaunchTemplateName="workbench-shapes",
        LaunchTemplateData={"InstanceMarketOptions": {"MarketType": "spot"}},
    )
    ec2.describe_launch_templates(LaunchTemplateNames=["workbench-shapes"])
    ec2.describe_launch_template_versions(LaunchTemplateName="workbench-shapes")
    launched = ec2.run_instances(
        ImageId=image(server),
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet(server),
        LaunchTemplate={"LaunchTemplateName": "workbench-shapes"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": tag}],
    )["Instances"][0]["InstanceId"]
    ec2.describe_instances(InstanceIds=[launched])
    ec2.describe_spot_instance_requests()
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=20, VolumeType="gp3")["VolumeId"]
    ec2.attach_volume(VolumeId=volume, InstanceId=launched, Device="/dev/sdf")
    ec2.modify_instance_attribute(
        InstanceId=launched,
        BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"DeleteOnTermination": False}}],
    )
    ec2.create_tags(Resources=[volume], Tags=tag)
    ec2.describe_volumes(VolumeIds=[volume])
    ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [volume]}])
    ec2.terminate_instances(InstanceIds=[launched])
    ec2.delete_tags(Resources=[volume], Tags=[{"Key": "mlbox:workbench"}])
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    ec2.describe_snapshots(SnapshotIds=[snapshot])
    ec2.describe_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission")
    ec2.delete_volume(VolumeId=volume)
    ec2.delete_snapshot(SnapshotId=snapshot)
    ec2.delete_launch_template(LaunchTemplateName="workbench-shapes")
    ec2.delete_key_pair(KeyName="workbench-shapes")
    ec2.delete_security_group(GroupId=group["GroupId"])
    return [json.loads(line) for line in lines]


SCENARIOS: dict[str, Callable[[Double], list[dict[str, Any]]]] = {"aws": aws_scenario}
CLOUDS = sorted(p.stem for p in shapes.TRANSCRIPTS.glob("*.json"))


@pytest.fixture
def double(server: Double) -> Double:  # noqa: F811
    server.control("POST", "/moto-api/reset")
    server.control("DELETE", "/_mlbox/faults")
    server.control("DELETE", "/_mlbox/settle")
    return server


def test_there_is_a_transcript_for_aws() -> None:
    assert "aws" in CLOUDS


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_double_answers_in_the_clouds_shapes(double: Double, cloud: str) -> None:
    assert cloud in SCENARIOS, f"no scenario drives the {cloud} double: add one to SCENARIOS"
    recorded = shapes.load(cloud)
    answered = shapes.transcript_from_records(SCENARIOS[cloud](double))
    assert not [r for r in answered["calls"].values() if r.get("errors")], answered
    uncovered = set(recorded["calls"]) - set(answered["calls"])
    assert not uncovered, f"actions of the transcript no scenario makes: {sorted(uncovered)}"
    differences = {a: d for a, d in shapes.compare_transcripts(recorded, answered).items() if d}
    assert not differences, differences


def test_the_comparison_catches_what_a_double_invents_or_leaves_out() -> None:
    cloud = {
        "source": "recorded by make smoke-aws",
        "calls": {"DescribeVolumes": {"response": {"Volumes": [{"SnapshotId": "string"}]}}},
    }
    left_out = {"calls": {"DescribeVolumes": {"response": {"Volumes": [{"Size": "integer"}]}}}}
    found = shapes.compare_transcripts(cloud, left_out)["DescribeVolumes"]
    assert any("SnapshotId: the cloud answers it, the double does not" in d for d in found)
    assert any("Size: the double answers it, the cloud never does" in d for d in found)
    wrong_type = {
        "calls": {"DescribeVolumes": {"response": {"Volumes": [{"SnapshotId": "null|integer"}]}}}
    }
    assert shapes.compare_transcripts(cloud, wrong_type)["DescribeVolumes"]
    # A model lists every optional field: against it, only what the double invents counts.
    model = {**cloud, "source": f"{shapes.MODEL_SOURCE} 1.0"}
    assert shapes.compare_transcripts(model, {"calls": {"DescribeVolumes": {"response": {}}}}) == {
        "DescribeVolumes": []
    }


def test_the_aws_seed_says_it_is_a_model_and_which() -> None:
    import botocore

    seed = shapes.load("aws")
    if shapes.is_recording(seed):
        pytest.skip("a real recording replaced the seed")
    assert seed["source"].startswith(f"{shapes.MODEL_SOURCE} ")
    others = {a for actions in shapes.AWS_OTHER_ACTIONS.values() for a in actions}
    assert set(seed["calls"]) == {*shapes.AWS_ACTIONS, *others}
    # The seed is what write_seed() makes from the installed botocore, when it is the same.
    if botocore.__version__ in seed["source"]:
        fresh = shapes.seed_from_botocore("ec2", shapes.AWS_ACTIONS)
        assert {a: seed["calls"][a] for a in fresh["calls"]} == fresh["calls"]
