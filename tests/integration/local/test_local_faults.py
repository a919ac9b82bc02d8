"""Faults of the local provider: provisions killed at the worst moments, a snapshot that
fails, an instance whose SSH never answers.

A kill is SIGKILL to the whole ansible-playbook process tree (local_helpers.killed_when:
Ansible's workers and Mitogen's multiplexer call setsid, so the process group is not all of
it), sent the moment the resource is there: the run dies with it made and nothing after it.
The next run must converge on what exists, with no duplicates. The host roles are not the
point here: every provision runs with workbench_configure=false.

There is no stuck snapshot here: local_snapshot archives the detached disk synchronously
(tar | zstd, at the disk's read speed), with no pending state to wait on; a writer that died
is reported failed (tests/unit/plugins/module_utils/test_local_storage.py).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from local_helpers import Workbench, inventory, sh
from playbook_run import run_command

FAST = {"workbench_configure": False}
TEARDOWN = {"workbench_snapshot_on_delete": True, "workbench_delete_disk": True}


def containers(workbench: Workbench) -> list[str]:
    return [n for n in sh("podman", "ps", "-a", "--format", "{{.Names}}").split()
            if n == workbench.container]  # fmt: skip


# podman's container storage: the first trace of a container being made (`podman ps -a
# --external` shows it from then on), and cheap to poll, unlike podman itself.
CONTAINER_STORAGE = Path("/var/lib/containers/storage/overlay-containers/containers.json")


def container_begun(workbench: Workbench) -> bool:
    try:
        return f'"{workbench.container}"' in CONTAINER_STORAGE.read_text()
    except OSError:
        return False


def external_containers(workbench: Workbench) -> list[str]:
    """The workbench's containers, podman's and those only in its storage (half made)."""
    listed = sh("podman", "ps", "-a", "--external", "--format", "{{.Names}} {{.State}}")
    return [line for line in listed.splitlines() if line.split()[0] == workbench.container]


def disk_files(workbench: Workbench) -> list[str]:
    directory = workbench.root / "disks"
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


def loops_of(workbench: Workbench) -> list[tuple[str, str]]:
    return inventory(workbench.state_dir)["loops"]


def test_killed_provisions_converge_without_duplicates(workbench: Workbench) -> None:
    """provision killed after the disk, then after the container: one of each, then nothing

    The first run dies the moment the disk's state file is written, the second the moment
    podman's storage has the container (half made); the third converges on that disk (bound)
    and one container, with one disk, one image, one loop device; a teardown deleting the
    disk leaves nothing.
    """
    workbench.provision_killed_when(lambda: bool(workbench.metadata("disks")), **FAST)
    [disk] = workbench.metadata("disks")
    assert disk_files(workbench) == [f"{disk['id']}.img", f"{disk['id']}.json"]
    assert disk["bound_to"] == workbench.container

    # Killed while podman makes the container: it is left half made (only in podman's
    # storage, or created with an address the network plugin holds) or already running.
    workbench.provision_killed_when(lambda: container_begun(workbench), **FAST)
    [left] = external_containers(workbench)
    print("after the kill in podman run:", left)
    assert [d["id"] for d in workbench.metadata("disks")] == [disk["id"]]

    run = workbench.provision(**FAST)
    assert run.rc == 0, run.explain()
    instance = run.fact("workbench_instance")
    assert instance["disk_id"] == disk["id"] and instance["disk_origin"] == "bound", instance
    assert containers(workbench) == [workbench.container]
    assert [line.split()[1] for line in external_containers(workbench)] == ["Up"]
    print("tasks that changed:", run.changed_tasks())
    assert disk_files(workbench) == [f"{disk['id']}.img", f"{disk['id']}.json"]
    [(device, image)] = loops_of(workbench)
    assert device == instance["disk_device_hint"]["device"]
    assert Path(image) == (workbench.root / "disks" / f"{disk['id']}.img").resolve()
    label = sh("podman", "inspect", "--format", '{{index .Config.Labels "mlbox.disk"}}',
               workbench.container).strip()  # fmt: skip
    assert label == disk["id"]
    # Converged: one more run changes nothing.
    again = workbench.provision(**FAST)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks() or again.explain()

    run = workbench.teardown(workbench_delete_disk=True)
    assert run.rc == 0, run.explain()
    left = inventory(workbench.state_dir)
    assert left["containers"] == [] and left["loops"] == [], left
    assert left["files"] == [], left


def test_a_failed_snapshot_keeps_the_disk(workbench: Workbench) -> None:
    """a snapshot into a full directory fails the teardown, named; the disk is kept

    Teardown with snapshot and delete, the snapshot directory a full tmpfs (ENOSPC): it
    fails naming the disk, the directory and the error; the disk's image and state file are
    there, still bound; with space again the same teardown completes and deletes the disk.
    """
    run = workbench.provision(**FAST)
    assert run.rc == 0, run.explain()
    disk_id = run.fact("workbench_instance")["disk_id"]
    snapshots = workbench.root / "snapshots"
    # One page: the snapshot's first record fits, its archive does not.
    sh("mount", "-t", "tmpfs", "-o", "size=4k,mode=0700", "mlbox-test-full", str(snapshots))
    try:
        run = workbench.teardown(**TEARDOWN)
    finally:
        sh("umount", str(snapshots))
    assert run.rc != 0, run.explain()
    message = run.failure()
    for named in (disk_id, str(snapshots), "No space left on device", "kept as it was"):
        assert named in message, (named, message)
    # The container is gone (teardown stops it first); the disk is there, still bound.
    assert containers(workbench) == [] and loops_of(workbench) == []
    assert disk_files(workbench) == [f"{disk_id}.img", f"{disk_id}.json"]
    [disk] = workbench.metadata("disks")
    assert disk["bound_to"] == workbench.container

    run = workbench.teardown(**TEARDOWN)
    assert run.rc == 0, run.explain()
    assert disk_files(workbench) == []
    [snapshot] = workbench.metadata("snapshots")
    assert snapshot["status"] == "completed" and snapshot["disk_id"] == disk_id


def test_ssh_that_never_answers_names_what_exists_and_how_to_remove_it(
    workbench: Workbench,
) -> None:
    """SSH that never answers: container, ports, disk, state dir and teardown named; it works

    The instance's image has sshd masked; provision fails after workbench_local_ssh_timeout
    naming the container, the published SSH and notebook addresses, the disk with its image
    and loop device, the state directory and the exact teardown command; that command, run
    as printed, removes the container and keeps the disk, released.
    """
    image = f"localhost/mlbox-test-nossh:{workbench.name}"
    subprocess.run(
        ["podman", "build", "--quiet", "--tag", image, "-f", "-"],
        input="FROM localhost/mlbox-debian:bookworm\nRUN systemctl mask ssh.service ssh.socket\n",
        text=True, capture_output=True, check=True,
    )  # fmt: skip
    try:
        run = workbench.provision(workbench_image=image, workbench_local_ssh_timeout=3, **FAST)
        assert run.rc != 0, run.explain()
        message = run.failure()
        [disk] = workbench.metadata("disks")
        [(device, _back_file)] = loops_of(workbench)
        ssh_port = workbench.base_vars["workbench_local_ssh_port"]
        named = (
            f"podman container {workbench.container}",
            f"127.0.0.1:{ssh_port}",
            f"127.0.0.1:{workbench.notebook_port}",
            f"data disk {disk['id']}",
            str(workbench.root / "disks" / f"{disk['id']}.img"),
            device,
            f"state directory {workbench.state_dir}",
            "workbench_local_ssh_timeout",
            "-e workbench_delete_disk=true",
        )
        for name in named:
            assert name in message, (name, message)
        command = re.search(r"ansible-playbook playbooks/teardown\.yml[^()]*?(?= \(|$)", message)
        assert command, message
        # The state directory is the default one under the test's HOME: not in the command.
        expected = (
            "ansible-playbook playbooks/teardown.yml -e cloud=local"
            f" -e workbench_name={workbench.name}"
        )
        assert command.group(0) == expected, message

        # That very command removes the container and keeps the disk, released.
        run = run_command(shlex.split(command.group(0)), workbench.env)
        assert run.rc == 0, run.explain()
        assert containers(workbench) == [] and loops_of(workbench) == []
        assert disk_files(workbench) == [f"{disk['id']}.img", f"{disk['id']}.json"]
        [kept] = workbench.metadata("disks")
        assert kept["bound_to"] == ""
    finally:
        subprocess.run(["podman", "rmi", "-f", image], capture_output=True, check=False)
