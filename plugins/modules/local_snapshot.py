#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: local_snapshot
short_description: Snapshots of the local provider's data disks - sparse tar archives, zstd
version_added: 0.1.0
description:
  - Creates, deletes and prunes the snapshots of C(cloud=local) data disks, under
    O(state_dir)C(/local/)O(workbench)C(/snapshots/).
  - O(state=present) archives a detached disk (C(tar --sparse | zstd)), tests the archive and
    syncs it, and returns only once the snapshot is C(completed). A failure leaves a
    snapshot marked C(failed) that is never restored from and that O(state=pruned) removes.
  - A snapshot directory that is full or read-only fails the task with the snapshot, the
    directory and the error named; the partial snapshot is removed (as far as the directory
    lets it) and the disk is left as it was.
  - It copies synchronously (as fast as the disk reads), so there is no pending
    state to wait on, and a writer that died is reported C(failed).
  - O(state=pruned) deletes the completed snapshots beyond the newest O(keep), and failed ones.
author:
  - mlbox.workbench developers (!UNKNOWN)
extends_documentation_fragment:
  - mlbox.workbench.local_state
options:
  state:
    description:
      - V(present) takes a snapshot of O(disk_id); V(absent) deletes O(snapshot_id).
      - V(pruned) keeps the newest O(keep).
    type: str
    choices: [present, absent, pruned]
    default: present
  disk_id:
    description: The disk to snapshot; it must not be attached (stop the instance first).
    type: str
    default: ""
  name:
    description: Name of the new snapshot; empty means C(<workbench>-<UTC timestamp>).
    type: str
    default: ""
  snapshot_id:
    description: The snapshot to delete.
    type: str
    default: ""
  keep:
    description: With O(state=pruned), how many newest completed snapshots to keep (0 keeps all).
    type: int
    default: 3
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Snapshot the detached data disk and wait until it is complete
  mlbox.workbench.local_snapshot:
    state_dir: "{{ workbench_state_dir }}"
    workbench: mlbox
    disk_id: disk-0a1b2c3d4e
  register: __cloud_local_snapshot

- name: Keep the three newest snapshots
  mlbox.workbench.local_snapshot:
    state_dir: "{{ workbench_state_dir }}"
    workbench: mlbox
    state: pruned
    keep: 3
"""

RETURN = r"""
snapshot:
  description: The new snapshot (normalized); null in check mode.
  returned: when state is present
  type: dict
  sample: {id: snap-0a1b2c3d4e, name: mlbox-20261201T100000Z, size_gb: 20, status: completed,
           created: "2026-12-01T10:00:00Z", zone: local, disk_id: disk-0a1b2c3d4e,
           stored_bytes: 1048576}
deleted:
  description: Ids of the snapshots deleted.
  returned: when state is absent or pruned
  type: list
  elements: str
"""

import contextlib
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.local_storage import (
    StorageError,
    Store,
)


def _abandon(store: Store, disk_id: str, error: OSError) -> str:
    """After an OSError in the snapshot (a full or read-only snapshot directory): remove
    what this process began, as far as the directory lets it, and say what happened."""
    try:
        begun = [s for s in store.snapshots() if s.get("pid") == os.getpid()]
    except OSError:
        begun = []
    for snapshot in begun:
        with contextlib.suppress(OSError):
            store.delete_snapshot(snapshot)
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(store.snapshots_dir, snapshot["id"] + ".json.tmp"))
    ids = ", ".join(s["id"] for s in begun)
    return (
        f"snapshot{' ' + ids if ids else ''} of disk {disk_id} failed in {store.snapshots_dir}: "
        f"{error.strerror or error}{f' ({error.filename})' if error.filename else ''}; "
        f"disk {disk_id} is kept as it was: free space there (or make it writable) and run "
        "the teardown again"
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type="path", required=True),
            workbench=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent", "pruned"]),
            disk_id=dict(type="str", default=""),
            name=dict(type="str", default=""),
            snapshot_id=dict(type="str", default=""),
            keep=dict(type="int", default=3),
        ),
        required_if=[("state", "present", ["disk_id"]), ("state", "absent", ["snapshot_id"])],
        supports_check_mode=True,
    )
    params = module.params
    store = Store(params["state_dir"], params["workbench"], module.run_command)
    try:
        if params["state"] == "present":
            disk = store.disk(params["disk_id"])
            if disk is None:
                module.fail_json(
                    msg=f"disk {params['disk_id']} not found for workbench '{store.workbench}'"
                )
            if disk.get("devices"):
                module.fail_json(
                    msg=(
                        f"disk {disk['id']} is attached ({', '.join(disk['devices'])}): stop and "
                        "delete the instance before the snapshot, so that it is consistent"
                    )
                )
            if module.check_mode:
                module.exit_json(changed=True, snapshot=None)
            try:
                snapshot = store.create_snapshot(disk, params["name"])
            except OSError as error:
                module.fail_json(msg=_abandon(store, disk["id"], error))
            except StorageError as error:
                module.fail_json(
                    msg=f"{error}; disk {disk['id']} is kept as it was: fix that and run the "
                    "teardown again"
                )
            module.exit_json(changed=True, snapshot=store.normalized_snapshot(snapshot))
        if params["state"] == "absent":
            snapshot = store.snapshot(params["snapshot_id"])
            if snapshot is None:
                module.exit_json(changed=False, deleted=[])
            if not module.check_mode:
                store.delete_snapshot(snapshot)
            module.exit_json(changed=True, deleted=[snapshot["id"]])
        if params["keep"] < 0:
            module.fail_json(msg=f"keep must be 0 or more, got {params['keep']}")
        doomed = store.prune_plan(params["keep"])
        if not module.check_mode:
            for snapshot in doomed:
                store.delete_snapshot(snapshot)
        module.exit_json(changed=bool(doomed), deleted=[s["id"] for s in doomed])
    except StorageError as error:
        module.fail_json(msg=str(error))


if __name__ == "__main__":
    main()
