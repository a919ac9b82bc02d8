"""The local provider's disk and snapshot store, on real files with real tar and zstd.

losetup is faked (a table in memory): loop devices need root, and the lifecycle suite
(tests/integration/local) runs the real ones.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from ansible_collections.mlbox.workbench.plugins.module_utils.local_storage import (
    GIB,
    StorageError,
    Store,
)


class FakeLoops:
    """losetup for the store: --list --json, --find --show FILE, --detach DEV; else real."""

    def __init__(self) -> None:
        self.table: dict[str, str] = {}

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        if argv[0] != "losetup":
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            return proc.returncode, proc.stdout, proc.stderr
        if "--list" in argv:
            rows = [{"name": d, "back-file": f} for d, f in self.table.items()]
            return 0, json.dumps({"loopdevices": rows}), ""
        if "--find" in argv:
            device = f"/dev/loop{len(self.table) + 7}"
            self.table[device] = argv[-1]
            return 0, device + "\n", ""
        if "--detach" in argv:
            self.table.pop(argv[-1])
            return 0, "", ""
        return 1, "", "unexpected"


@pytest.fixture
def loops() -> FakeLoops:
    return FakeLoops()


@pytest.fixture
def store(tmp_path: Path, loops: FakeLoops) -> Store:
    return Store(str(tmp_path / "state"), "wb", loops)


def write_into(store: Store, disk_id: str, offset: int, data: bytes) -> None:
    with open(store.disk_image(disk_id), "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def test_a_new_disk_is_sparse_private_and_bound(store: Store) -> None:
    disk = store.create_disk(2, "mlbox-wb")
    image = Path(store.disk_image(disk["id"]))
    assert image.stat().st_size == 2 * GIB
    assert image.stat().st_blocks == 0  # sparse: takes nothing until written
    assert oct(image.stat().st_mode & 0o777) == "0o600"
    assert oct(Path(store.root).stat().st_mode & 0o777) == "0o700"
    assert store.bound_disk("mlbox-wb")["id"] == disk["id"]
    assert store.normalized_disk(disk)["status"] == "available"


def test_attach_is_idempotent_and_detach_frees(store: Store, loops: FakeLoops) -> None:
    disk = store.create_disk(1, "i")
    device, changed = store.attach(disk)
    assert changed and device.startswith("/dev/loop")
    disk = store.disk(disk["id"])
    assert disk["status"] == "in-use" and disk["devices"] == [device]
    assert store.attach(disk) == (device, False)
    assert store.detach(disk) == [device]
    assert store.disk(disk["id"])["status"] == "available"


def test_snapshot_and_restore_keep_the_data_and_the_holes(store: Store) -> None:
    disk = store.create_disk(1, "i")
    write_into(store, disk["id"], 0, b"head")
    write_into(store, disk["id"], GIB - 4, b"tail")
    snap = store.create_snapshot(store.disk(disk["id"]))
    assert snap["status"] == "completed"
    archive = Path(store.snapshot_archive(snap["id"]))
    assert archive.stat().st_size < 1024 * 1024  # the holes were not archived
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    restored = store.restore_disk(snap, 2, "i2")
    image = Path(store.disk_image(restored["id"]))
    assert image.stat().st_size == 2 * GIB  # grown to the size asked for
    with image.open("rb") as handle:
        assert handle.read(4) == b"head"
        handle.seek(GIB - 4)
        assert handle.read(4) == b"tail"
    assert image.stat().st_blocks * 512 < 1024 * 1024
    assert restored["snapshot_id"] == snap["id"]


def test_a_disk_in_use_is_not_snapshotted_or_deleted(store: Store) -> None:
    disk = store.create_disk(1, "i")
    store.attach(disk)
    disk = store.disk(disk["id"])
    with pytest.raises(StorageError, match="attached"):
        store.create_snapshot(disk)
    with pytest.raises(StorageError, match="attached"):
        store.delete_disk(disk)
    assert store.snapshots() == []
    assert os.path.exists(store.disk_image(disk["id"]))


def test_a_failed_snapshot_is_marked_failed_and_pruned(store: Store, loops: FakeLoops) -> None:
    disk = store.create_disk(1, "i")
    os.unlink(store.disk_image(disk["id"]))  # tar will find nothing to archive
    with pytest.raises(StorageError, match="failed"):
        store.create_snapshot(disk)
    [snap] = store.snapshots()
    assert snap["status"] == "failed"
    assert not os.path.exists(store.snapshot_archive(snap["id"]))
    assert [s["id"] for s in store.prune_plan(3)] == [snap["id"]]


def test_a_snapshot_whose_writer_died_is_failed(store: Store) -> None:
    disk = store.create_disk(1, "i")
    snap = store.create_snapshot(disk)
    meta = Path(store.snapshots_dir) / f"{snap['id']}.json"
    record = json.loads(meta.read_text())
    record.update(status="creating", pid=2**22 + 12345)  # above pid_max: never alive
    meta.write_text(json.dumps(record))
    assert store.snapshot(snap["id"])["status"] == "failed"


def test_prune_keeps_the_newest_completed(store: Store) -> None:
    disk = store.create_disk(1, "i")
    snaps = []
    for n in range(4):
        snap = store.create_snapshot(disk, name=f"s{n}")
        meta = Path(store.snapshots_dir) / f"{snap['id']}.json"
        record = json.loads(meta.read_text())
        record["created"] = f"2026-01-0{n + 1}T00:00:00Z"
        meta.write_text(json.dumps(record))
        snaps.append(snap["id"])
    assert [s["id"] for s in store.prune_plan(2)] == snaps[:2]
    assert store.prune_plan(0) == []
    assert store.prune_plan(10) == []


def test_ids_of_another_workbench_are_known_as_theirs(tmp_path: Path, loops: FakeLoops) -> None:
    theirs = Store(str(tmp_path), "other", loops).create_disk(1, "x")
    ours = Store(str(tmp_path), "wb", loops)
    assert ours.disk(theirs["id"]) is None
    assert ours.owner_of("disk", theirs["id"]) == "other"
    assert ours.owner_of("disk", "disk-0000000000") is None


def test_binding_is_set_and_released(store: Store) -> None:
    disk = store.create_disk(1, "")
    assert store.bound_disk("i") is None
    assert store.set_binding(disk, "i") is True
    assert store.set_binding(disk, "i") is False
    assert store.bound_disk("i")["id"] == disk["id"]
    store.set_binding(disk, "")
    assert store.bound_disk("i") is None
