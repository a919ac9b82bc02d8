"""The AWS double's additions to moto (tests/doubles/moto_server.py): every refusal of
ec2_contract.REFUSALS as EC2 sends it, resources that settle in reads, and every rule of
ec2_contract.RULES made to fire. One server for the module, reset before each test."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

DOUBLES = Path(__file__).resolve().parents[2] / "doubles"
sys.path.insert(0, str(DOUBLES))
import ec2_contract  # noqa: E402

ZONE = "us-east-1a"


class Double:
    def __init__(self, url: str) -> None:
        self.url = url
        # No retries: a 500 (InsufficientInstanceCapacity) is seen once, as it was sent.
        self.ec2 = boto3.client(
            "ec2",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )

    def control(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")


@pytest.fixture(scope="module")
def server() -> Iterator[Double]:
    process = subprocess.Popen(
        [sys.executable, str(DOUBLES / "moto_server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("port="), line
        yield Double(f"http://127.0.0.1:{int(line.split('=')[1])}")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def double(server: Double) -> Double:
    server.control("POST", "/moto-api/reset")
    server.control("DELETE", "/_mlbox/faults")
    server.control("DELETE", "/_mlbox/settle")
    return server


IMAGES: dict[str, str] = {}


def image(double: Double) -> str:
    """An image to launch; moto's are the same after every reset, and listing them is slow."""
    if "id" not in IMAGES:
        IMAGES["id"] = double.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    return IMAGES["id"]


def subnet(double: Double) -> str:
    subnets = double.ec2.describe_subnets(
        Filters=[{"Name": "availability-zone", "Values": [ZONE]}]
    )["Subnets"]
    return subnets[0]["SubnetId"]


def launch(double: Double, spot: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "ImageId": image(double),
        "InstanceType": "t3.micro",
        "MinCount": 1,
        "MaxCount": 1,
        "SubnetId": subnet(double),
    }
    if spot:
        spec["InstanceMarketOptions"] = {"MarketType": "spot"}
    return double.ec2.run_instances(**spec)["Instances"][0]


def live(double: Double) -> list[dict[str, Any]]:
    return [
        i
        for r in double.ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]


def settle_reads(read: Callable[[], str], settled: str) -> list[str]:
    """The states seen on each read until the settled one (at most 10 reads)."""
    seen = [read()]
    while seen[-1] != settled and len(seen) < 10:
        seen.append(read())
    return seen


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(ec2_contract.REFUSALS))
def test_every_refusal_arrives_as_ec2_sends_it_and_launches_nothing(
    double: Double, code: str
) -> None:
    row = ec2_contract.REFUSALS[code]
    double.control("POST", "/_mlbox/faults", {"spot": code})
    with pytest.raises(ClientError) as refused:
        launch(double, spot=True)
    response = refused.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == row.status
    assert "{" not in response["Error"]["Message"], response["Error"]["Message"]
    assert live(double) == []
    # The other market is untouched.
    assert launch(double, spot=False)["InstanceId"]


def test_on_demand_refusals_leave_spot_alone(double: Double) -> None:
    double.control("POST", "/_mlbox/faults", {"on-demand": "VcpuLimitExceeded"})
    with pytest.raises(ClientError) as refused:
        launch(double, spot=False)
    assert refused.value.response["Error"]["Code"] == "VcpuLimitExceeded"
    assert live(double) == []
    assert launch(double, spot=True)["InstanceLifecycle"] == "spot"


def test_an_unknown_refusal_is_not_taken(double: Double) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        double.control("POST", "/_mlbox/faults", {"spot": "OperationDenied.NoStock"})
    assert refused.value.code == 400


def test_refusal_messages_name_the_zone_and_the_others(double: Double) -> None:
    double.control("POST", "/_mlbox/faults", {"spot": "InsufficientInstanceCapacity"})
    with pytest.raises(ClientError) as refused:
        launch(double, spot=True)
    message = refused.value.response["Error"]["Message"]
    assert f"({ZONE})" in message and "us-east-1b" in message and "t3.micro" in message


# --- settling -----------------------------------------------------------------------------


def instance_state(double: Double, instance_id: str) -> str:
    reservations = double.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservations[0]["Instances"][0]["State"]["Name"]


def volume(double: Double, volume_id: str) -> dict[str, Any]:
    return double.ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]


def snapshot_state(double: Double, snapshot_id: str) -> str:
    return double.ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["State"]


def new_volume(double: Double, **extra: Any) -> str:
    spec = {"AvailabilityZone": ZONE, "Size": 20, "VolumeType": "gp3", **extra}
    return double.ec2.create_volume(**spec)["VolumeId"]


def settled_volume(double: Double, **extra: Any) -> str:
    volume_id = new_volume(double, **extra)
    settle_reads(lambda: volume(double, volume_id)["State"], "available")
    return volume_id


def running_instance(double: Double) -> str:
    instance_id = launch(double, spot=False)["InstanceId"]
    settle_reads(lambda: instance_state(double, instance_id), "running")
    return instance_id


def test_instances_volumes_attachments_and_snapshots_settle_after_three_reads(
    double: Double,
) -> None:
    polls = ec2_contract.SETTLE_POLLS
    assert polls >= 2
    started = launch(double, spot=False)
    assert started["State"]["Name"] == "pending"
    assert double.control("GET", "/_mlbox/settling")["instances"] == 1
    seen = settle_reads(lambda: instance_state(double, started["InstanceId"]), "running")
    assert seen == ["pending"] * (polls - 1) + ["running"]
    assert double.control("GET", "/_mlbox/settling")["instances"] == 0

    volume_id = double.ec2.create_volume(AvailabilityZone=ZONE, Size=20, VolumeType="gp3")
    assert volume_id["State"] == "creating"
    seen = settle_reads(lambda: volume(double, volume_id["VolumeId"])["State"], "available")
    assert seen == ["creating"] * (polls - 1) + ["available"]

    attached = double.ec2.attach_volume(
        VolumeId=volume_id["VolumeId"], InstanceId=started["InstanceId"], Device="/dev/sdf"
    )
    assert attached["State"] == "attaching"
    seen = settle_reads(
        lambda: volume(double, volume_id["VolumeId"])["Attachments"][0]["State"], "attached"
    )
    assert seen == ["attaching"] * (polls - 1) + ["attached"]
    # The volume is in-use from the start of the attachment, as on EC2 (what ec2_vol's
    # VolumeInUse waiter waits for, and why cloud_aws waits for the attachment itself).
    assert volume(double, volume_id["VolumeId"])["State"] == "in-use"

    taken = double.ec2.create_snapshot(VolumeId=volume_id["VolumeId"])
    assert taken["State"] == "pending"
    seen = settle_reads(lambda: snapshot_state(double, taken["SnapshotId"]), "completed")
    assert seen == ["pending"] * (polls - 1) + ["completed"]


def test_settling_at_once_is_an_opt_in_per_kind(double: Double) -> None:
    double.control("POST", "/_mlbox/settle", {"snapshots": 0})
    volume_id = settled_volume(double)
    assert double.ec2.create_snapshot(VolumeId=volume_id)["State"] == "completed"
    volume_id = new_volume(double)
    assert volume(double, volume_id)["State"] == "creating"
    double.control("POST", "/_mlbox/settle", {"polls": 0})
    # RunInstances always answers pending, as on EC2; the first read is running.
    assert instance_state(double, launch(double, spot=False)["InstanceId"]) == "running"


def test_a_snapshot_fault_ends_in_error_or_never_ends(double: Double) -> None:
    volume_id = settled_volume(double)
    double.control("POST", "/_mlbox/faults", {"snapshot": "error"})
    failed = double.ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    assert settle_reads(lambda: snapshot_state(double, failed), "error")[-1] == "error"
    double.control("POST", "/_mlbox/faults", {"snapshot": "pending"})
    stuck = double.ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]
    assert set(settle_reads(lambda: snapshot_state(double, stuck), "completed")) == {"pending"}


# --- rules --------------------------------------------------------------------------------


def fires_gp3_size(double: Double) -> None:
    low, high = ec2_contract.GP3_SIZE_GIB
    for size in (low - 1, high + 1):
        new_volume(double, Size=size)


def fires_gp3_iops(double: Double) -> None:
    new_volume(double, Iops=ec2_contract.GP3_IOPS[0] - 1)


def fires_gp3_throughput(double: Double) -> None:
    new_volume(double, Throughput=ec2_contract.GP3_THROUGHPUT_MIBS[1] + 1)


def completed_snapshot(double: Double, size: int) -> str:
    snapshot_id = double.ec2.create_snapshot(VolumeId=settled_volume(double, Size=size))[
        "SnapshotId"
    ]
    settle_reads(lambda: snapshot_state(double, snapshot_id), "completed")
    return snapshot_id


def fires_restored_size(double: Double) -> None:
    new_volume(double, SnapshotId=completed_snapshot(double, 20), Size=19)


def fires_attach_an_available_volume(double: Double) -> None:
    instance_id = running_instance(double)
    double.ec2.attach_volume(VolumeId=new_volume(double), InstanceId=instance_id, Device="/dev/sdf")


def fires_attach_to_a_running_or_stopped_instance(double: Double) -> None:
    volume_id = settled_volume(double)
    pending = launch(double, spot=False)["InstanceId"]
    double.ec2.attach_volume(VolumeId=volume_id, InstanceId=pending, Device="/dev/sdf")


def fires_restore_from_a_completed_snapshot(double: Double) -> None:
    pending = double.ec2.create_snapshot(VolumeId=settled_volume(double))["SnapshotId"]
    new_volume(double, SnapshotId=pending)


FIRES: dict[str, Callable[[Double], None]] = {
    "gp3 size": fires_gp3_size,
    "gp3 iops": fires_gp3_iops,
    "gp3 throughput": fires_gp3_throughput,
    "restored size": fires_restored_size,
    "attach an available volume": fires_attach_an_available_volume,
    "attach to a running or stopped instance": fires_attach_to_a_running_or_stopped_instance,
    "restore from a completed snapshot": fires_restore_from_a_completed_snapshot,
}


def test_every_refusing_rule_has_a_case() -> None:
    refusing = {name for name, rule in ec2_contract.RULES.items() if rule.code}
    assert refusing == set(FIRES)
    assert all(rule.source for rule in ec2_contract.RULES.values())


@pytest.mark.parametrize("name", sorted(FIRES))
def test_rule_fires(double: Double, name: str) -> None:
    with pytest.raises(ClientError) as refused:
        FIRES[name](double)
    assert refused.value.response["Error"]["Code"] == ec2_contract.RULES[name].code


def test_within_the_rules_everything_is_accepted(double: Double) -> None:
    low, high = ec2_contract.GP3_SIZE_GIB
    for size in (low, high):
        new_volume(double, Size=size)
    new_volume(double, Iops=ec2_contract.GP3_IOPS[1], Throughput=125)
    new_volume(double, SnapshotId=completed_snapshot(double, 20), Size=20)
    instance_id = running_instance(double)
    double.ec2.attach_volume(
        VolumeId=settled_volume(double), InstanceId=instance_id, Device="/dev/sdf"
    )


def test_a_snapshot_a_kept_volume_was_restored_from_can_be_deleted(double: Double) -> None:
    """DeleteSnapshot refuses only a registered AMI's root snapshot (RULES' last row)."""
    snapshot_id = completed_snapshot(double, 20)
    restored = settled_volume(double, SnapshotId=snapshot_id)
    double.ec2.delete_snapshot(SnapshotId=snapshot_id)
    assert volume(double, restored)["SnapshotId"] == snapshot_id
    left = double.ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert snapshot_id not in {s["SnapshotId"] for s in left}
