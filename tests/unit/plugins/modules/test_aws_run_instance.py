"""cloud_aws's launch module (plugins/modules/aws_run_instance.py): every refusal of the
double's catalogue (tests/doubles/ec2_contract.py, from EC2's error table) classified, with
the fix named, asked exactly once, and nothing launched; the spot-then-on-demand decision."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("boto3")
pytest.importorskip("moto")

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "doubles"))
from ansible_collections.mlbox.workbench.plugins.modules import (  # noqa: E402
    aws_run_instance as ec2_run_instance,
)

# server: a pytest fixture, used by name (pylint cannot see that).
from test_ec2_double import (  # noqa: E402  # pylint: disable=unused-import
    Double,
    image,
    live,
    server,  # noqa: F401
    subnet,
)

sys.path.insert(0, str(ROOT / "tests" / "doubles"))
import ec2_contract  # noqa: E402

# What the role does with each: on-demand after a spot refusal, or stop with the fix.
SPOT_ALONE = {
    "InsufficientInstanceCapacity",
    "UnfulfillableCapacity",
    "MaxSpotInstanceCountExceeded",
    "SpotMaxPriceTooLow",
}
FIX_NAMES = {
    "InsufficientInstanceCapacity": "workbench_zone",
    "UnfulfillableCapacity": "workbench_instance_type",
    "MaxSpotInstanceCountExceeded": "quota",
    "SpotMaxPriceTooLow": "workbench_spot_max_price",
    "InstanceLimitExceeded": "quota",
    "VcpuLimitExceeded": "quota",
    "Unsupported": "workbench_zone",
    "InsufficientFreeAddressesInSubnet": "workbench_aws_subnet_id",
}


@pytest.fixture
def double(server: Double, monkeypatch: pytest.MonkeyPatch) -> Double:  # noqa: F811
    server.control("POST", "/moto-api/reset")
    server.control("DELETE", "/_mlbox/faults")
    server.control("DELETE", "/_mlbox/requests")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return server


def run(double: Double, spot: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "ImageId": image(double),
        "InstanceType": "t3.micro",
        "SubnetId": subnet(double),
    }
    if spot:
        spec["InstanceMarketOptions"] = {"MarketType": "spot"}
    from botocore.exceptions import ClientError

    client = ec2_run_instance.ec2_client("us-east-1")
    try:
        return {"instance_id": ec2_run_instance.attempt(client, spec, ClientError)}
    except ec2_run_instance.LaunchRefused as refused:
        return {"error": refused.error}


def run_instances_calls(double: Double) -> int:
    calls = double.control("GET", "/_mlbox/requests")
    return sum(call["action"] == "RunInstances" for call in calls)


def test_the_script_knows_every_refusal_of_the_catalogue() -> None:
    assert set(ec2_run_instance.REFUSALS) == set(ec2_contract.REFUSALS)
    assert {c for c, (alone, _unused) in ec2_run_instance.REFUSALS.items() if alone} == SPOT_ALONE


@pytest.mark.parametrize("code", sorted(ec2_contract.REFUSALS))
def test_a_refusal_is_classified_with_its_fix_asked_once_and_launches_nothing(
    double: Double, code: str
) -> None:
    double.control("POST", "/_mlbox/faults", {"spot": code, "on-demand": code})
    for spot in (True, False):
        double.control("DELETE", "/_mlbox/requests")
        error = run(double, spot)["error"]
        assert error["code"] == code
        assert error["message"]
        assert error["spot_refusal"] is (code in SPOT_ALONE)
        assert FIX_NAMES[code] in error["fix"], error["fix"]
        # Once: botocore's retries are off (InsufficientInstanceCapacity is an HTTP 500).
        assert run_instances_calls(double) == 1
    assert live(double) == []


def test_a_launch_that_ec2_accepts_gives_the_instance(double: Double) -> None:
    launched = run(double, spot=True)
    assert launched["instance_id"].startswith("i-")
    assert [i["InstanceId"] for i in live(double)] == [launched["instance_id"]]


class Throttled(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class Client:
    """Answers RunInstances with the errors given, then with an instance."""

    def __init__(self, *codes: str) -> None:
        self.codes = list(codes)
        self.tokens: list[str] = []

    def run_instances(self, **spec: Any) -> dict[str, Any]:
        self.tokens.append(spec["ClientToken"])
        if self.codes:
            raise Throttled(self.codes.pop(0))
        return {"Instances": [{"InstanceId": "i-0123"}]}


def test_throttling_is_asked_again_with_the_same_client_token() -> None:
    client = Client("RequestLimitExceeded", "Unavailable")
    slept: list[float] = []
    result = ec2_run_instance.launch(client, {"ImageId": "ami-1"}, sleep=slept.append)
    assert result == {"instance_id": "i-0123"}
    assert len(client.tokens) == 3 and len(set(client.tokens)) == 1
    assert slept == [1, 2]


def test_a_capacity_refusal_is_never_asked_again() -> None:
    client = Client("InsufficientInstanceCapacity")
    with pytest.raises(Throttled):
        ec2_run_instance.launch(client, {"ImageId": "ami-1"}, sleep=lambda _unused: None)
    assert len(client.tokens) == 1


def test_throttling_that_lasts_gives_up() -> None:
    client = Client(*["RequestLimitExceeded"] * ec2_run_instance.ATTEMPTS)
    with pytest.raises(Throttled):
        ec2_run_instance.launch(client, {"ImageId": "ami-1"}, sleep=lambda _unused: None)
    assert len(client.tokens) == ec2_run_instance.ATTEMPTS


SPEC = {"ImageId": "ami-1", "InstanceType": "t3.large"}
TAGS = {"mlbox:workbench": "wb"}


class Recorder(Client):
    def __init__(self, *codes: str) -> None:
        super().__init__(*codes)
        self.specs: list[dict[str, Any]] = []

    def run_instances(self, **spec: Any) -> dict[str, Any]:
        self.specs.append(spec)
        return super().run_instances(**spec)


def decide(client: Client, fallback: bool = True, template: str = "workbench-wb") -> dict:
    return ec2_run_instance.run(client, SPEC, TAGS, template, fallback, "us-east-1a", Throttled)


def test_spot_first_through_the_launch_template_tagged_spot() -> None:
    client = Recorder()
    assert decide(client) == {"instance_id": "i-0123", "market": "spot"}
    [spec] = client.specs
    assert spec["LaunchTemplate"] == {"LaunchTemplateName": "workbench-wb"}
    tags = spec["TagSpecifications"][0]["Tags"]
    assert {"Key": "mlbox:market", "Value": "spot"} in tags
    assert {"Key": "mlbox:workbench", "Value": "wb"} in tags
    assert [t["ResourceType"] for t in spec["TagSpecifications"]] == ["instance", "volume"]


def test_a_spot_refusal_falls_back_to_the_same_launch_on_demand() -> None:
    client = Recorder("InsufficientInstanceCapacity")
    result = decide(client)
    assert (result["market"], result["spot_refusal"]["code"]) == (
        "on-demand",
        "InsufficientInstanceCapacity",
    )
    spot, on_demand = client.specs
    assert "LaunchTemplate" not in on_demand
    assert spot["InstanceType"] == on_demand["InstanceType"]
    assert {"Key": "mlbox:market", "Value": "on-demand"} in on_demand["TagSpecifications"][0][
        "Tags"
    ]


def test_a_spot_refusal_without_fallback_names_the_variable() -> None:
    client = Recorder("SpotMaxPriceTooLow")
    with pytest.raises(ec2_run_instance.RunError, match="workbench_spot_fallback is false"):
        decide(client, fallback=False)
    assert len(client.specs) == 1


def test_a_refusal_another_market_cannot_help_stops_at_once() -> None:
    client = Recorder("VcpuLimitExceeded")
    with pytest.raises(ec2_run_instance.RunError, match=r"VcpuLimitExceeded.*quota"):
        decide(client)
    assert len(client.specs) == 1


def test_on_demand_refused_after_spot_names_both() -> None:
    client = Recorder("InsufficientInstanceCapacity", "InstanceLimitExceeded")
    with pytest.raises(ec2_run_instance.RunError) as caught:
        decide(client)
    assert "InsufficientInstanceCapacity" in str(caught.value)
    assert "InstanceLimitExceeded" in str(caught.value) and "Nothing was launched" in str(
        caught.value
    )


def test_on_demand_only_has_no_template_and_no_fallback() -> None:
    client = Recorder("InsufficientInstanceCapacity")
    with pytest.raises(ec2_run_instance.RunError, match="on-demand"):
        decide(client, template="")
    assert "LaunchTemplate" not in client.specs[0]
