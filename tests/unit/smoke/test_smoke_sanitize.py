"""The smoke tests' transcripts keep names and types, never an id, address, secret or any
other value of the account's (tests/smoke/sanitize.py and the recorder's hooks)."""

from __future__ import annotations

import datetime
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "smoke"))
import sanitize  # noqa: E402

ACCOUNT = "123456789012"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SUBSCRIPTION = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
# Everything of the account's that appears in the answers below; none may survive.
VALUES = [
    ACCOUNT,
    ACCESS_KEY,
    SECRET_KEY,
    SUBSCRIPTION,
    "i-0123456789abcdef0",
    "vol-0fedcba9876543210",
    "snap-0a1b2c3d4e5f60718",
    "sg-0123456789abcdef0",
    "subnet-0abc1234",
    "203.0.113.7",
    "172.31.5.9",
    "ec2-203-0-113-7.compute-1.amazonaws.com",
    "alice-workbench",
    "mlbox-alice",
    "arn:aws:iam::123456789012:user/alice",
    "2026-12-05",
]

EC2_ANSWER: dict[str, Any] = {
    "Reservations": [
        {
            "OwnerId": ACCOUNT,
            "Instances": [
                {
                    "InstanceId": "i-0123456789abcdef0",
                    "PublicIpAddress": "203.0.113.7",
                    "PrivateIpAddress": "172.31.5.9",
                    "PublicDnsName": "ec2-203-0-113-7.compute-1.amazonaws.com",
                    "LaunchTime": datetime.datetime(2026, 12, 5, tzinfo=datetime.UTC),
                    "State": {"Code": 16, "Name": "running"},
                    "EbsOptimized": False,
                    "SecurityGroups": [{"GroupId": "sg-0123456789abcdef0"}],
                    "SubnetId": "subnet-0abc1234",
                    "Tags": [{"Key": "mlbox:workbench", "Value": "alice-workbench"}],
                    "BlockDeviceMappings": [
                        {"Ebs": {"VolumeId": "vol-0fedcba9876543210", "Size": 20.5}}
                    ],
                    "IamInstanceProfile": {"Arn": "arn:aws:iam::123456789012:user/alice"},
                }
            ],
        }
    ],
    # Maps keyed by data: ids, addresses, account numbers, GUIDs, keys.
    "Odd": {
        "i-0123456789abcdef0": 1,
        "203.0.113.7": 2,
        ACCOUNT: 3,
        SUBSCRIPTION: 4,
        ACCESS_KEY: 5,
        "snap-0a1b2c3d4e5f60718": 6,
        "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/mlbox-alice": 7,
        "x7k2m9q4z8w3r6t1": 8,
    },
    "tags": {"owner": "alice-workbench", "mlbox-workbench": "mlbox-alice"},
    "SnapshotCreated": "2026-12-05",
}


def test_no_value_survives_only_names_and_types() -> None:
    shaped = json.dumps(sanitize.shape(EC2_ANSWER))
    for value in VALUES:
        assert value not in shaped, value
    instance = sanitize.shape(EC2_ANSWER)["Reservations"][0]["Instances"][0]
    assert instance["InstanceId"] == "string"
    assert instance["LaunchTime"] == "timestamp"
    assert instance["State"] == {"Code": "integer", "Name": "string"}
    assert instance["EbsOptimized"] == "boolean"
    assert instance["BlockDeviceMappings"] == [{"Ebs": {"VolumeId": "string", "Size": "float"}}]


def test_keys_that_are_data_become_placeholders() -> None:
    odd = sanitize.shape(EC2_ANSWER)["Odd"]
    assert odd == {sanitize.KEY: "integer"}
    # The user's own map keys (tags) go too, whatever they look like.
    assert sanitize.shape(EC2_ANSWER)["tags"] == {sanitize.KEY: "string"}


@pytest.mark.parametrize(
    "name",
    [
        "AuthorizeSecurityGroupIngress",
        "DescribeInstanceTypeOfferings",
        "Ipv6CidrBlockAssociationSet",
        "@odata.type",
        "api-version",
        "InstanceId",
        "provisioningState",
    ],
)
def test_model_names_are_kept(name: str) -> None:
    assert sanitize.safe_key(name) == name


def test_lists_of_differing_elements_merge() -> None:
    assert sanitize.shape([{"A": 1}, {"B": "x"}, {"A": None}]) == [
        {"A": "integer|null", "B": "string"}
    ]


def test_arm_paths_lose_their_names_and_keep_the_api_version() -> None:
    url = (
        f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/resourceGroups/mlbox-alice"
        "/providers/Microsoft.Compute/virtualMachines/alice-workbench/start"
        "?api-version=2024-07-01&$filter=alice"
    )
    operation, query = sanitize.arm_operation("post", url)
    assert operation == (
        "POST /subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute"
        "/virtualMachines/{}/start"
    )
    assert query == {"api-version": "2024-07-01", "$filter": "string"} or query == {
        "api-version": "2024-07-01",
        sanitize.KEY: "string",
    }
    assert SUBSCRIPTION not in operation + json.dumps(query)


def test_error_codes_are_kept_only_when_they_are_codes() -> None:
    assert sanitize.error_code("InvalidVolume.NotFound") == "InvalidVolume.NotFound"
    assert sanitize.error_code("IncorrectDiskStatus.NeverAttached") != ""
    assert sanitize.error_code("vol-0fedcba9876543210") == ""
    assert sanitize.error_code("The volume vol-0f is in use") == ""


def load_recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The recorder module, writing to tmp_path; loaded without MLBOX_TRANSCRIPT_DIR, so it
    hooks nothing in this process by itself."""
    monkeypatch.delenv("MLBOX_TRANSCRIPT_DIR", raising=False)
    spec = importlib.util.spec_from_file_location(
        "mlbox_recorder_test", ROOT / "tests" / "smoke" / "recorder" / "sitecustomize.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.OUT = str(tmp_path)
    return module


class Model:
    name = "DescribeInstances"

    class service_model:  # botocore's attribute name
        service_name = "ec2"


class Response:
    status_code = 200


def test_the_botocore_hook_writes_shapes_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    recorder = load_recorder(tmp_path, monkeypatch)
    context: dict[str, Any] = {}
    recorder._before_parameter_build(
        params={"InstanceIds": ["i-0123456789abcdef0"], "Filters": [{"Name": "tag:x"}]},
        model=Model,
        context=context,
    )
    recorder._after_call(http_response=Response, parsed=EC2_ANSWER, model=Model, context=context)
    [written] = list(tmp_path.glob("*.jsonl"))
    text = written.read_text()
    for value in VALUES:
        assert value not in text, value
    record = json.loads(text)
    assert record["action"] == "DescribeInstances"
    assert record["params"] == {"InstanceIds": ["string"], "Filters": [{"Name": "string"}]}


def test_a_record_with_a_credential_in_it_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A credential that looks like a field name would pass the name rules; the recorder's
    # last check against the environment's credentials still drops the record.
    monkeypatch.setenv("AZURE_CLIENT_ID", "WorkbenchClientName")
    recorder = load_recorder(tmp_path, monkeypatch)
    recorder.write({"cloud": "azure", "action": "GET /x", "response": {"WorkbenchClientName": 1}})
    text = next(tmp_path.glob("*.jsonl")).read_text()
    assert "WorkbenchClientName" not in text and "dropped" in text


def test_the_aliyun_hook_writes_shapes_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = pytest.importorskip("aliyunsdkcore.client")
    requests = pytest.importorskip("aliyunsdkecs.request.v20140526.DescribeInstancesRequest")
    body = json.dumps(
        {
            "RequestId": "4E6B-" + SUBSCRIPTION,
            "Instances": {
                "Instance": [
                    {"InstanceId": "i-bp1abc", "PublicIpAddress": {"IpAddress": ["203.0.113.7"]}}
                ]
            },
        }
    ).encode()
    monkeypatch.setattr(
        client.AcsClient,
        "_implementation_of_do_action",
        lambda self, request, signer=None: (200, {}, body, None),
    )
    recorder = load_recorder(tmp_path, monkeypatch)
    recorder.hook_aliyun()
    request = requests.DescribeInstancesRequest()
    request.set_InstanceIds(json.dumps(["i-bp1abc"]))
    acs = client.AcsClient("LTAI5tExampleKey000", "secret-example-000", "cn-hangzhou")
    assert acs._implementation_of_do_action(request)[2] == body
    text = next(tmp_path.glob("*.jsonl")).read_text()
    for value in ("i-bp1abc", "203.0.113.7", SUBSCRIPTION, "LTAI5tExampleKey000"):
        assert value not in text, value
    record = json.loads(text)
    assert record["action"] == "DescribeInstances"
    assert "InstanceIds" in record["params"]
    assert record["response"]["Instances"] == {
        "Instance": [{"InstanceId": "string", "PublicIpAddress": {"IpAddress": ["string"]}}]
    }
