"""local_snapshot: a snapshot directory that is full or read-only, or an archiver that fails,
fails the task naming the snapshot, the directory and the error, and leaves the disk as it was.

losetup is faked (no loop devices without root); tar and zstd are real. The disk-full and
read-only cases raise the OSError the real directory would (the integration test
tests/integration/local/test_local_faults.py fills a real tmpfs).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils import local_storage
from ansible_collections.mlbox.workbench.plugins.module_utils.local_storage import Store
from ansible_collections.mlbox.workbench.plugins.modules import local_snapshot


def no_loops(argv: list[str], **_: object) -> tuple[int, str, str]:
    if argv[0] == "losetup":
        return 0, json.dumps({"loopdevices": []}), ""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setattr(AnsibleModule, "run_command", lambda self, argv, **kw: no_loops(argv))
    return Store(str(tmp_path), "wb", no_loops).create_disk(1, "mlbox-wb")


def args(tmp_path: Path, disk: dict) -> dict:
    return {"state_dir": str(tmp_path), "workbench": "wb", "disk_id": disk["id"]}


def left_in(tmp_path: Path, kind: str) -> list[str]:
    return sorted(os.listdir(tmp_path / "local" / "wb" / kind))


def test_a_full_snapshot_directory_is_named_and_the_partial_snapshot_removed(
    tmp_path: Path, disk: dict, run_module, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = local_storage._write_json

    def full(path: str, data: dict) -> None:
        """The first record fits; the archive and the record of its failure do not."""
        if data.get("status") == "creating":
            real_write(path, data)
            return
        Path(f"{path}.tmp").write_text("")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def archiver(argv: list[str], **_: object) -> tuple[int, str, str]:
        if argv[0] == "bash":
            return 1, "", "zstd: error 70 : Write error : No space left on device"
        return no_loops(argv)

    monkeypatch.setattr(local_storage, "_write_json", full)
    monkeypatch.setattr(AnsibleModule, "run_command", lambda self, argv, **kw: archiver(argv))
    out = run_module(local_snapshot.main, args(tmp_path, disk))
    assert out.failed
    snapshots_dir = str(tmp_path / "local" / "wb" / "snapshots")
    for named in (disk["id"], snapshots_dir, "No space left on device", "kept as it was"):
        assert named in out.result["msg"], out.result["msg"]
    assert "snapshot snap-" in out.result["msg"], out.result["msg"]
    # Nothing of the snapshot is left; the disk is untouched.
    assert left_in(tmp_path, "snapshots") == []
    assert left_in(tmp_path, "disks") == [f"{disk['id']}.img", f"{disk['id']}.json"]


def test_a_read_only_snapshot_directory_is_named(
    tmp_path: Path, disk: dict, run_module, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshots_dir = str(tmp_path / "local" / "wb" / "snapshots")

    def read_only(self: Store) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), snapshots_dir)

    monkeypatch.setattr(Store, "ensure_dirs", read_only)
    out = run_module(local_snapshot.main, args(tmp_path, disk))
    assert out.failed
    message = out.result["msg"]
    assert message.startswith(f"snapshot of disk {disk['id']} failed in {snapshots_dir}: "), message
    assert f"Read-only file system ({snapshots_dir})" in message, message
    assert left_in(tmp_path, "snapshots") == []


def test_a_failing_archiver_leaves_a_failed_snapshot_and_says_the_disk_is_kept(
    tmp_path: Path, disk: dict, run_module, monkeypatch: pytest.MonkeyPatch
) -> None:
    def archiver(argv: list[str], **_: object) -> tuple[int, str, str]:
        if argv[0] == "bash":
            return 2, "", "tar: disk.img: Read error at byte 0: Input/output error"
        return no_loops(argv)

    monkeypatch.setattr(AnsibleModule, "run_command", lambda self, argv, **kw: archiver(argv))
    out = run_module(local_snapshot.main, args(tmp_path, disk))
    assert out.failed
    message = out.result["msg"]
    assert f"snapshot of {disk['id']} failed: tar: disk.img: Read error" in message, message
    assert f"disk {disk['id']} is kept as it was" in message, message
    [name] = left_in(tmp_path, "snapshots")
    assert json.loads((tmp_path / "local" / "wb" / "snapshots" / name).read_text())["status"] == (
        "failed"
    )
