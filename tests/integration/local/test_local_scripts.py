"""The wrapper scripts on the real local provider, driven through a pseudo-terminal."""

from __future__ import annotations

import os
import sys

import pexpect
from local_helpers import PASSWORD, ROOT, Workbench, inventory

START = ROOT / "scripts" / "start_instance.py"
DELETE = ROOT / "scripts" / "delete_instance.py"


def spawn(workbench: Workbench, script: object, *args: str) -> pexpect.spawn:
    common = ["--cloud", "local", "--name", workbench.name, "--state-dir", str(workbench.state_dir)]
    child = pexpect.spawn(
        sys.executable,
        [str(script), *common, *args],
        env={**workbench.env, "WORKBENCH_NOTEBOOK_PASSWORD": PASSWORD},
        encoding="utf-8",
        timeout=600,
        dimensions=(40, 200),
    )
    child.logfile_read = sys.stdout
    return child


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -child.signalstatus)


def test_start_restores_the_snapshot_picked_from_the_list(workbench: Workbench) -> None:
    # Two snapshots of one disk, the older one first.
    for step in (
        lambda: workbench.provision(workbench_configure=False),
        lambda: workbench.teardown(workbench_snapshot_on_delete=True),
    ):
        assert (run := step()).rc == 0, run.explain()
    [disk] = workbench.metadata("disks")
    up = workbench.provision(
        workbench_configure=False, workbench_disk_source="existing", workbench_disk_id=disk["id"]
    )
    assert up.rc == 0, up.explain()
    down = workbench.teardown(workbench_snapshot_on_delete=True)
    assert down.rc == 0, down.explain()
    older, newer = sorted(workbench.metadata("snapshots"), key=lambda s: s["created"])
    assert older["created"] < newer["created"]

    child = spawn(
        workbench,
        START,
        "--no-configure",
        "--ssh-port",
        str(workbench.base_vars["workbench_local_ssh_port"]),
        "--notebook-port",
        str(workbench.notebook_port),
    )
    child.expect_exact("1 existing disk(s), 2 snapshot(s)")
    child.expect_exact("[n]ew disk / [e]xisting disk / [s]napshot?")
    child.sendline("s")
    child.expect(rf"1\) {newer['id']}\s+3 GB")
    child.expect(rf"2\) {older['id']}\s+3 GB")
    child.expect_exact("number (1-2) [1]:")
    child.sendline("2")
    child.expect_exact("instance up at 127.0.0.1")
    child.expect_exact(f"ssh -i {workbench.env['HOME']}/.config/mlbox/{workbench.name}/id_ed25519")
    assert finish(child) == 0
    restored = [d for d in workbench.metadata("disks") if d["id"] != disk["id"]]
    assert [d["snapshot_id"] for d in restored] == [older["id"]]
    assert workbench.container in inventory(workbench.state_dir)["containers"]

    child = spawn(workbench, DELETE, "--no-snapshot", "--delete-disk", "--yes")
    assert finish(child) == 0
    left = inventory(workbench.state_dir)
    assert left["containers"] == [] and left["loops"] == []
    # Only the restored disk was bound to the instance; the kept one stays.
    assert [d["id"] for d in workbench.metadata("disks")] == [disk["id"]]
    assert os.path.exists(workbench.root / "disks" / f"{disk['id']}.img")
