"""cloud_aws's launch script (roles/cloud_aws/files/ec2_run_instance.py): every refusal of
the double's catalogue (tests/doubles/ec2_contract.py, from EC2's error table) classified,
with the fix named, asked exactly once, and nothing launched."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("boto3")
pytest.importorskip("moto")

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "roles" / "cloud_aws" / "files"))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "doubles"))
import ec2_run_instance  # noqa: E402

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
    out = io.StringIO()
    with redirect_stdout(out):
        assert ec2_run_instance.main(["us-east-1", json.dumps(spec)]) == 0
    return json.loads(out.getvalue())


def run_instances_calls(double: Double) -> int:
    calls = double.control("GET", "/_mlbox/requests")
    return sum(call["action"] == "RunInstances" for call in calls)


def test_the_script_knows_every_refusal_of_the_catalogue() -> None:
    assert set(ec2_run_instance.REFUSALS) == set(ec2_contract.REFUSALS)
    assert {c for c, (alone, _fix) in ec2_run_instance.REFUSALS.items() if alone} == SPOT_ALONE


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
        ec2_run_instance.launch(client, {"ImageId": "ami-1"}, sleep=lambda _: None)
    assert len(client.tokens) == 1


def test_throttling_that_lasts_gives_up() -> None:
    client = Client(*["RequestLimitExceeded"] * ec2_run_instance.ATTEMPTS)
    with pytest.raises(Throttled):
        ec2_run_instance.launch(client, {"ImageId": "ami-1"}, sleep=lambda _: None)
    assert len(client.tokens) == ec2_run_instance.ATTEMPTS
