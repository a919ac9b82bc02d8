"""local_disk state=present with a disk already bound to the instance: that disk is kept, and
an explicit choice of another disk or snapshot is refused (in check mode too, as validate.yml
runs it) naming the disk the instance holds and how to switch; an unknown choice is an error,
never silently ignored. losetup is faked; nothing else runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils import local_storage
from ansible_collections.mlbox.workbench.plugins.module_utils.local_storage import Store
from ansible_collections.mlbox.workbench.plugins.modules import local_disk

INSTANCE = "mlbox-wb"


def no_loops(argv: list[str], **_: object) -> tuple[int, str, str]:
    assert argv[0] == "losetup", argv
    return 0, json.dumps({"loopdevices": []}), ""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(AnsibleModule, "run_command", lambda self, argv, **kw: no_loops(argv))
    return Store(str(tmp_path), "wb", no_loops)


def snapshot_record(store: Store, snap_id: str) -> None:
    """A completed snapshot record (its archive is not needed to be chosen)."""
    store.ensure_dirs()
    record = {"id": snap_id, "name": "wb-data", "created": "2026-12-01T10:00:00Z",
              "workbench": "wb", "disk_id": "disk-00000000aa", "status": "completed",
              "size_gb": 1}  # fmt: skip
    local_storage._write_json(f"{store.snapshots_dir}/{snap_id}.json", record)
    Path(store.snapshot_archive(snap_id)).write_bytes(b"")


def present(run_module, store: Store, check_mode: bool = True, **choice: str):
    args = {"state_dir": str(Path(store.base).parent), "workbench": "wb", "instance": INSTANCE,
            "_ansible_check_mode": check_mode, **choice}  # fmt: skip
    return run_module(local_disk.main, args)


def test_a_rerun_keeps_the_bound_disk(run_module, store: Store) -> None:
    held = store.create_disk(1, INSTANCE)
    for choice in ({}, {"source": "new"}, {"source": "existing", "disk_id": held["id"]}):
        exited = present(run_module, store, **choice)
        assert not exited.failed, exited.result
        assert exited.result["disk"]["id"] == held["id"]
        assert exited.result["origin"] == "bound"


def test_another_disk_is_refused_naming_the_held_one(run_module, store: Store) -> None:
    held = store.create_disk(1, INSTANCE)
    other = store.create_disk(1, "")
    exited = present(run_module, store, source="existing", disk_id=other["id"])
    assert exited.failed
    msg = exited.result["msg"]
    assert f"holds data disk {held['id']}" in msg
    assert f"disk {other['id']} (workbench_disk_id) was not used" in msg
    assert "delete the instance first" in msg and "delete_instance.py --cloud local" in msg
    assert f"--disk existing:{held['id']}" in msg
    # Not made, not rebound.
    assert store.disk(other["id"])["bound_to"] == ""
    assert store.disk(held["id"])["bound_to"] == INSTANCE


def test_an_unknown_snapshot_is_an_error_while_a_disk_is_held(run_module, store: Store) -> None:
    store.create_disk(1, INSTANCE)
    exited = present(run_module, store, source="snapshot", snapshot_id="snap-00000000ff")
    assert exited.failed
    assert "snapshot snap-00000000ff not found for workbench 'wb'" in exited.result["msg"]


def test_an_unknown_disk_is_an_error_while_a_disk_is_held(run_module, store: Store) -> None:
    store.create_disk(1, INSTANCE)
    exited = present(run_module, store, source="existing", disk_id="disk-00000000ff")
    assert exited.failed
    assert "disk disk-00000000ff not found for workbench 'wb'" in exited.result["msg"]


def test_another_snapshot_is_refused_its_own_is_kept(run_module, store: Store) -> None:
    snapshot_record(store, "snap-00000000a1")
    snapshot_record(store, "snap-00000000b2")
    held = store.create_disk(1, INSTANCE)
    record = local_storage._read_json(f"{store.disks_dir}/{held['id']}.json")
    record["snapshot_id"] = "snap-00000000a1"  # restored from it by an earlier run
    local_storage._write_json(f"{store.disks_dir}/{held['id']}.json", record)

    same = present(run_module, store, check_mode=False, source="snapshot",
                   snapshot_id="snap-00000000a1")  # fmt: skip
    assert not same.failed and same.result["disk"]["id"] == held["id"]

    other = present(run_module, store, check_mode=False, source="snapshot",
                    snapshot_id="snap-00000000b2")  # fmt: skip
    assert other.failed
    assert f"holds data disk {held['id']}, restored from snap-00000000a1" in other.result["msg"]
    assert "snapshot snap-00000000b2 (workbench_snapshot_id) was not used" in other.result["msg"]
    assert [d["id"] for d in store.disks()] == [held["id"]]
