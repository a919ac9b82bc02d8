"""Bad input stops before anything is made, with a message that names the fix: the
containers, loop devices and files of the state directory are the same before and after."""

from __future__ import annotations

import socket
import subprocess
from typing import Any

import pytest
from local_helpers import Workbench, inventory


def refused(
    workbench: Workbench, words: list[str], env: dict[str, str] | None = None, **extra: Any
) -> None:
    workbench.state_dir.mkdir(parents=True, exist_ok=True)
    before = inventory(workbench.state_dir, workbench.name)
    run = workbench.provision(env=env, **{"workbench_configure": False, **extra})
    assert run.rc != 0, run.explain()
    message = run.failure()
    for word in words:
        assert word in message, message
    assert inventory(workbench.state_dir, workbench.name) == before


CASES = {
    "unknown cloud": ({"cloud": "gcp"}, ["gcp", "local, aws, aliyun, azure"]),
    "unknown disk": (
        {"workbench_disk_source": "existing", "workbench_disk_id": "disk-0123456789"},
        ["disk-0123456789", "not found", "workbench_disk_id"],
    ),
    "existing without an id": ({"workbench_disk_source": "existing"}, ["workbench_disk_id"]),
    "no snapshot yet": (
        {"workbench_disk_source": "snapshot", "workbench_snapshot_id": "latest"},
        ["no completed snapshot"],
    ),
    "unknown snapshot": (
        {"workbench_disk_source": "snapshot", "workbench_snapshot_id": "snap-0123456789"},
        ["snap-0123456789"],
    ),
    "world without opt-in": ({"workbench_allowed_cidr": "0.0.0.0/0"}, ["workbench_allow_world"]),
    "a network, not an address": (
        {"workbench_allowed_cidr": "192.168.0.0/24"},
        ["one address", "workbench_allowed_cidr"],
    ),
    "missing image": (
        {"workbench_image": "localhost/no-such-image:1"},
        ["localhost/no-such-image:1", "scripts/local_image.sh"],
    ),
    "bad name": ({"workbench_name": "Bad_Name"}, ["workbench_name", "lower-case"]),
    "disk too big": ({"workbench_disk_size_gb": 0}, ["workbench_disk_size_gb"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_before_anything_is_made(workbench: Workbench, case: str) -> None:
    extra, words = CASES[case]
    refused(workbench, words, **extra)


def test_missing_password_is_refused(workbench: Workbench) -> None:
    env = dict(workbench.env, WORKBENCH_NOTEBOOK_PASSWORD="")
    refused(workbench, ["WORKBENCH_NOTEBOOK_PASSWORD"], env=env, workbench_configure=True)


def test_short_password_is_refused(workbench: Workbench) -> None:
    env = dict(workbench.env, WORKBENCH_NOTEBOOK_PASSWORD="short")
    refused(workbench, ["shorter than 8"], env=env, workbench_configure=True)


def test_port_in_use_is_refused(workbench: Workbench) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", workbench.notebook_port))
        holder.listen()
        refused(workbench, [str(workbench.notebook_port), "in use", "workbench_notebook_port"])


def test_disk_of_another_workbench_is_refused(make_workbench) -> None:
    other = make_workbench("b")
    up = other.provision(workbench_configure=False)
    assert up.rc == 0, up.explain()
    theirs = up.fact("workbench_instance")["disk_id"]
    ours = make_workbench("a")
    refused(
        ours,
        [theirs, f"belongs to workbench '{other.name}'"],
        workbench_disk_source="existing",
        workbench_disk_id=theirs,
    )


def test_disk_in_use_elsewhere_is_refused(workbench: Workbench) -> None:
    up = workbench.provision(workbench_configure=False)
    assert up.rc == 0, up.explain()
    disk = up.fact("workbench_instance")["disk_id"]
    down = workbench.teardown()
    assert down.rc == 0, down.explain()
    # Someone else's loop device holds the kept disk now.
    image = workbench.root / "disks" / f"{disk}.img"
    device = subprocess.run(
        ["losetup", "--find", "--show", str(image)], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        refused(
            workbench,
            [disk, "attached", device],
            workbench_disk_source="existing",
            workbench_disk_id=disk,
        )
    finally:
        subprocess.run(["losetup", "-d", device], check=True)


def test_foreign_container_of_the_same_name_is_refused(workbench: Workbench) -> None:
    subprocess.run(
        ["podman", "create", "--name", workbench.container, "localhost/mlbox-debian:bookworm"],
        capture_output=True,
        check=True,
    )
    refused(workbench, [workbench.container, "was not made for"])
