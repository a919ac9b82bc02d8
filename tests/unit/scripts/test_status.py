"""status.py over what the controller knows: nothing, one local workbench (fake podman and
losetup), two Aliyun workbenches (the ECS double) with the orphan report."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from mlbox_cli import pricing, status

sys.path.insert(0, str(REPO / "tests" / "unit" / "doubles"))

KEYS = {"ALICLOUD_ACCESS_KEY": "LTAI-test", "ALICLOUD_SECRET_KEY": "secret-test"}


def record_run(state: Path, name: str, kind: str, variables: dict[str, Any], at: str) -> None:
    """What playbooks.py leaves of a run: artifacts/<stamp>-<kind>-<hex>/command."""
    run = state / "_runs" / name / "artifacts" / f"{at}-{kind}-abc123"
    run.mkdir(parents=True)
    command = ["python", "relay.py", "ansible-playbook", "-e", json.dumps(variables), "p.yml"]
    (run / "command").write_text(json.dumps({"command": command, "cwd": "/", "env": {}}))


def show(argv: list[str], runner: Any = None) -> str:
    out = io.StringIO()
    assert status.main(argv, out, runner or (lambda argv: (127, "", "no podman here"))) == 0
    return out.getvalue()


def test_nothing_known(tmp_path: Path) -> None:
    text = show(["--state-dir", str(tmp_path / "empty")])
    assert text == (
        "no workbench known to this controller, and none found tagged in the clouds read\n"
    )


def test_one_local_workbench(tmp_path: Path) -> None:
    state = tmp_path / "state"
    record_run(
        state, "lab", "provision", {"cloud": "local", "workbench_name": "lab"}, "20261201-090000"
    )
    disks = state / "local" / "lab" / "disks"
    disks.mkdir(parents=True)
    image = disks / "disk-0123456789.img"
    with image.open("wb") as handle:
        handle.truncate(20 * 1024**3)  # sparse
    meta = {"id": "disk-0123456789", "created": "2026-12-01T09:00:00Z", "bound_to": "mlbox-lab"}
    (disks / "disk-0123456789.json").write_text(json.dumps(meta))
    snaps = state / "local" / "lab" / "snapshots"
    snaps.mkdir()
    dead = {"id": "snap-00000000aa", "status": "creating", "pid": 999999999, "size_gb": 20}
    (snaps / "snap-00000000aa.json").write_text(json.dumps(dead))
    calls: list[list[str]] = []

    def runner(argv: list[str]) -> tuple[int, str, str]:
        calls.append(argv)
        if argv[0] == "losetup":
            back = str(image.resolve())
            return 0, json.dumps({"loopdevices": [{"name": "/dev/loop7", "back-file": back}]}), ""
        if argv[:3] == ["podman", "container", "inspect"]:
            started = "2026-12-01T09:01:02.123456789Z"
            return 0, json.dumps([{"State": {"Status": "running", "StartedAt": started}}]), ""
        return 1, "", "unexpected"

    text = show(["--state-dir", str(state)], runner)
    lines = text.splitlines()
    assert lines[0] == "local:"
    assert lines[1] == "  workbench lab (last run: provision 20261201-090000)"
    assert lines[2].startswith(
        "    instance mlbox-lab: running, on-demand, podman, since 2026-12-01 09:01 UTC ("
    )
    assert lines[2].endswith("free, so far ~free")
    assert (
        "    disk disk-0123456789: 20 GB, in-use, attached, created 2026-12-01T09:00:00Z, free"
        in lines
    )
    assert "  snapshot snap-00000000aa (local): a snapshot whose writer died (failed)" in text
    assert (
        f"    remove: rm -f {snaps}/snap-00000000aa.json {snaps}/snap-00000000aa.tar.zst" in lines
    )
    # Reads only: podman inspect and losetup --list, nothing else.
    assert {tuple(c[:2]) for c in calls} == {("podman", "container"), ("losetup", "--list")}


@pytest.fixture
def account(aliyun_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import aliyun_ecs
    from aliyun_account import Account
    from conftest import control

    control(aliyun_url, "POST", "/_mlbox/reset")
    monkeypatch.setenv(pricing.ALIYUN_ENDPOINT_ENV, aliyun_url)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    a = Account()
    a.ecs = aliyun_ecs.ECS  # the one the threaded server answers from
    return a


def tagged(name: str, data: bool = False) -> dict[str, Any]:
    tags = {"mlbox:workbench": name, **({"mlbox:disk": "data"} if data else {})}
    return {"Tags": tags}


def test_two_aliyun_workbenches_and_the_orphans(tmp_path: Path, account: Any) -> None:
    a = account
    state = tmp_path / "state"
    for name in ("exp1", "exp2"):
        variables = {"cloud": "aliyun", "workbench_name": name, "workbench_region": "cn-hangzhou"}
        record_run(state, name, "provision", variables, "20261201-100000")
    record_run(
        state,
        "exp2",
        "teardown",
        {"cloud": "aliyun", "workbench_name": "exp2", "workbench_region": "cn-hangzhou"},
        "20261202-100000",
    )
    instance = a.instance(SpotStrategy="SpotAsPriceGo", **tagged("exp1"))
    disk = a.disk(Size=40, **tagged("exp1", data=True))
    a.attached(instance, disk)
    a.call("CreateSnapshot", DiskId=disk, SnapshotName="exp1-snap", **tagged("exp1"))
    left = a.disk(Size=20, **tagged("exp1", data=True))  # detached while exp1 runs
    kept = a.disk(Size=30, **tagged("exp2", data=True))  # exp2's kept disk: not an orphan
    ghost = a.disk(Size=25, **tagged("ghost", data=True))  # nobody here knows 'ghost'

    a.ecs.journal = []
    text = show(["--state-dir", str(state)])
    lines = text.splitlines()
    assert lines[0] == "aliyun cn-hangzhou:", text
    exp1 = next(line for line in lines if line.startswith(f"    instance {instance}:"))
    assert "Running, spot, ecs.g7.large" in exp1
    assert "0.207 CNY/hour, so far ~0.00 CNY" in exp1  # cn-hangzhou-h's spot price, just now
    assert f"    disk {disk}: 40 GB, In_use, attached" in text
    assert "40 CNY/month" in next(line for line in lines if disk in line)
    assert "unavailable (the ECS API has no snapshot price)" in text
    assert "  workbench exp2 (last run: teardown 20261202-100000)" in lines
    exp2_block = lines[lines.index("  workbench exp2 (last run: teardown 20261202-100000)") + 1 :]
    assert exp2_block[0] == "    instance: none"
    assert exp2_block[1].startswith(f"    disk {kept}: 30 GB, Available, created")

    orphans = lines[lines.index("orphans:") + 1 :]
    assert orphans == [
        f"  disk {left} (aliyun cn-hangzhou): a data disk left detached while its workbench"
        " runs on another",
        f"    remove: aliyun ecs DeleteDisk --RegionId cn-hangzhou --DiskId {left}",
        f"  disk {ghost} (aliyun cn-hangzhou): tagged for the workbench 'ghost', which this"
        " controller has no record of",
        f"    remove: aliyun ecs DeleteDisk --RegionId cn-hangzhou --DiskId {ghost}",
    ]
    # Reads only: no action that changes anything reached the double.
    journal = a.ecs.journal
    assert {e["action"] for e in journal} <= {
        "DescribeInstances",
        "DescribeDisks",
        "DescribeSnapshots",
        "DescribePrice",
        "DescribeSpotPriceHistory",
    }


def test_a_cloud_that_refuses_is_said_so(tmp_path: Path, account: Any, aliyun_url: str) -> None:
    from conftest import control

    control(
        aliyun_url,
        "POST",
        "/_mlbox/faults",
        [{"action": "DescribeInstances", "code": "Forbidden.RAM"}],
    )
    text = show(["--state-dir", str(tmp_path), "--cloud", "aliyun"])
    assert text.splitlines()[:2] == [
        "aliyun cn-hangzhou:",
        "  could not read it: Forbidden.RAM for ecs:DescribeInstances",
    ]


def test_aws_workbench_with_a_kept_disk_and_an_unknown_one(
    tmp_path: Path, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    region = "eu-west-1"
    ec2 = boto3.client("ec2", region_name=region)

    def tags(name: str, data: bool = False) -> list[dict[str, Any]]:
        pairs = [{"Key": "mlbox:workbench", "Value": name}]
        pairs += [{"Key": "mlbox:disk", "Value": "data"}] if data else []
        return pairs

    def volume(name: str, size: int) -> str:
        made = ec2.create_volume(
            AvailabilityZone=f"{region}a",
            Size=size,
            VolumeType="gp3",
            TagSpecifications=[{"ResourceType": "volume", "Tags": tags(name, True)}],
        )
        return made["VolumeId"]

    kept = volume("aws1", 50)
    ghost = volume("aws-ghost", 8)
    snap = ec2.create_snapshot(
        VolumeId=kept, TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags("aws1")}]
    )["SnapshotId"]
    state = tmp_path / "state"
    variables = {"cloud": "aws", "workbench_name": "aws1", "workbench_region": region}
    record_run(state, "aws1", "teardown", variables, "20261203-080000")

    text = show(["--state-dir", str(state)])
    lines = text.splitlines()
    assert lines[0] == f"aws {region}:", text
    at = lines.index("  workbench aws1 (last run: teardown 20261203-080000)")
    assert lines[at + 1] == "    instance: none"
    assert "  workbench aws-ghost" in lines  # found by its tag, though unknown here
    disk = next(line for line in lines if line.startswith(f"    disk {kept}:"))
    assert disk.endswith("4.4 USD/month")  # 50 GB x the double's 0.088 USD/GB-month (eu-west-1)
    shot = next(line for line in lines if line.startswith(f"    snapshot {snap}:"))
    assert shot.endswith("2.75 USD/month")  # 50 GB x 0.055: an upper bound
    assert lines[-2:] == [
        f"  disk {ghost} (aws {region}): tagged for the workbench 'aws-ghost', which this"
        " controller has no record of",
        f"    remove: aws ec2 delete-volume --region {region} --volume-id {ghost}",
    ]
