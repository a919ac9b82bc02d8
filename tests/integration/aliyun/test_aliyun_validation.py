"""Bad input stops in validation, with a message that names the fix, before anything exists."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from aliyun_helpers import REGION, TAG, Double, Workbench, attach, make_disk, make_instance

pytestmark = pytest.mark.aliyun


def assert_refused_untouched(
    double: Double,
    workbench: Workbench,
    words: list[str],
    env: dict[str, str] | None = None,
    **extra: Any,
) -> list[str]:
    """Run up with bad input; return the calls the double received from that run."""
    before = double.state()
    double.forget_requests()
    run = workbench.run("up", env=env, **extra)
    received = double.actions()
    assert run.rc != 0, run.explain()
    message = run.failure()
    for word in words:
        assert word in message, message
    assert double.mutations() == []
    assert double.state() == before
    return received


def test_unknown_region(double: Double, workbench: Workbench) -> None:
    received = assert_refused_untouched(
        double,
        workbench,
        ["xx-nowhere-1", "workbench_region", "cn-beijing"],
        workbench_region="xx-nowhere-1",
    )
    assert received == ["DescribeRegions"]


def test_unknown_instance_type(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        ["ecs.nope.huge", "workbench_instance_type", f"{REGION}-h"],
        workbench_instance_type="ecs.nope.huge",
    )


def test_unknown_zone(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        [f"{REGION}-z", "workbench_zone", f"{REGION}-i"],
        workbench_zone=f"{REGION}-z",
    )


def test_an_ed25519_key_is_refused_before_anything_is_made(
    double: Double, workbench: Workbench, tmp_path: Path
) -> None:
    """ECS's ImportKeyPair takes RSA, DSA and ECDSA keys only: say so, with the fix"""
    key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert_refused_untouched(
        double,
        workbench,
        ["ssh-ed25519 key", "ImportKeyPair", "ssh-rsa", "workbench_ssh_key_path", "id_rsa"],
        workbench_ssh_key_path=str(key),
    )


def test_unknown_image(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        ["ubuntu_22_04_x64_20G_alibase_20240101.vhd", "workbench_image", "Ubuntu LTS"],
        workbench_image="ubuntu_22_04_x64_20G_alibase_20240101.vhd",
    )


def test_an_essd_too_small_for_its_performance_level(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        ["PL2", "at least 461 GiB", "workbench_disk_size_gb"],
        workbench_aliyun_disk_performance_level="PL2",
    )


def test_unknown_existing_disk(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        ["d-nope0000", "no such disk", "workbench_disk_id", "playbooks/disks.yml"],
        workbench_disk_source="existing",
        workbench_disk_id="d-nope0000",
    )


def test_existing_disk_of_another_workbench(double: Double, workbench: Workbench) -> None:
    disk = make_disk(double, {TAG: "other"})
    assert_refused_untouched(
        double,
        workbench,
        [disk, f"not tagged {TAG}={workbench.name}"],
        workbench_disk_source="existing",
        workbench_disk_id=disk,
    )


def test_existing_disk_attached_to_another_instance(double: Double, workbench: Workbench) -> None:
    disk = make_disk(double, {TAG: workbench.name})
    other = make_instance(double)
    attach(double, disk, other)
    assert_refused_untouched(
        double,
        workbench,
        [disk, f"attached to {other}", "detach it or pick another disk"],
        workbench_disk_source="existing",
        workbench_disk_id=disk,
    )


def test_unknown_snapshot(double: Double, workbench: Workbench) -> None:
    assert_refused_untouched(
        double,
        workbench,
        ["s-nope0000", "not found", "workbench_snapshot_id"],
        workbench_disk_source="snapshot",
        workbench_snapshot_id="s-nope0000",
    )


def test_no_snapshot_for_latest(double: Double, workbench: Workbench) -> None:
    # A snapshot of another workbench does not count.
    disk = make_disk(double, {TAG: "other"})
    attach(double, disk, make_instance(double))  # ECS snapshots only a disk once attached
    double.call("CreateSnapshot", DiskId=disk, Tags={TAG: "other"})
    assert_refused_untouched(
        double,
        workbench,
        ["no completed snapshot", "workbench_snapshot_id"],
        workbench_disk_source="snapshot",
        workbench_snapshot_id="latest",
    )


def test_missing_credentials(double: Double, workbench: Workbench) -> None:
    env = {k: v for k, v in workbench.env.items() if k != "ALIYUN_ACCESS_KEY_SECRET"}
    received = assert_refused_untouched(
        double,
        workbench,
        ["ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"],
        env=env,
    )
    # Refused on this side: nothing reached the double at all.
    assert received == []
