#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: local_disk
short_description: The local provider's data disk - a sparse image file on a loop device
version_added: 0.1.0
description:
  - Manages the data disks of C(cloud=local) workbenches on the controller. A disk is a sparse
    image file under O(state_dir)C(/local/)O(workbench)C(/disks/), attached to the instance
    (a podman container) through a loop device.
  - O(state=present) settles the workbench's data disk. The disk already bound to O(instance)
    wins over O(source), so a re-run (or a run after a killed one) never makes a second
    disk; otherwise a new disk is made, an existing one is bound, or a snapshot is restored
    into a new disk.
  - The module never formats, resizes the filesystem of, or writes into a disk; the
    C(data_disk) role on the instance formats only a device without a filesystem.
  - A disk is deleted (O(state=absent)) only when detached.
  - Needs root (losetup), C(tar) and C(zstd) on the controller.
author:
  - mlbox.workbench developers (!UNKNOWN)
extends_documentation_fragment:
  - mlbox.workbench.local_state
options:
  state:
    description:
      - V(present) settles the data disk and binds it to O(instance).
      - V(attached) gives O(disk_id) a loop device (or returns the one it has).
      - V(detached) removes the loop devices of O(disk_id), or of every disk bound to
        O(instance).
      - V(released) unbinds the disks bound to O(instance) (kept for the next up).
      - V(absent) deletes O(disk_id), or every disk bound to O(instance); refused while one is
        attached.
    type: str
    choices: [present, attached, detached, released, absent]
    default: present
  instance:
    description: Name of the instance the disk is bound to (the container name).
    type: str
    default: ""
  source:
    description:
      - With O(state=present) and no bound disk, where the disk comes from.
      - With a bound disk, a O(disk_id) (V(existing)) or O(snapshot_id) (V(snapshot)) other
        than that disk (or the snapshot it was restored from) fails, naming the disk the
        instance holds and how to switch; V(new) keeps the bound disk (origin V(bound)).
    type: str
    choices: [new, existing, snapshot]
    default: new
  disk_id:
    description: The disk for O(source=existing) and for the other states.
    type: str
    default: ""
  snapshot_id:
    description: The completed snapshot of this workbench to restore, for O(source=snapshot).
    type: str
    default: ""
  size_gb:
    description: Size of a new disk in GiB; a restored disk is at least its snapshot's size.
    type: int
    default: 20
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - Every check (unknown ids, a disk attached elsewhere, an incomplete snapshot) runs in
        check mode too, so C(validate.yml) refuses bad input before anything exists.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Settle the data disk, bound to the workbench's container
  mlbox.workbench.local_disk:
    state_dir: "{{ workbench_state_dir }}"
    workbench: mlbox
    instance: mlbox-mlbox
    source: snapshot
    snapshot_id: snap-0123456789
  register: __cloud_local_disk

- name: Give the data disk a loop device
  mlbox.workbench.local_disk:
    state_dir: "{{ workbench_state_dir }}"
    workbench: mlbox
    disk_id: "{{ __cloud_local_disk.disk.id }}"
    state: attached
  register: __cloud_local_attached
"""

RETURN = r"""
disk:
  description:
    - The disk (normalized), for O(state=present) and O(state=attached).
    - Null in check mode when it would be made.
  returned: when state is present or attached
  type: dict
  sample: {id: disk-0a1b2c3d4e, name: mlbox-data, size_gb: 20, created: "2026-12-01T10:00:00Z",
           status: in-use, zone: local, attached_to: mlbox-mlbox, bound_to: mlbox-mlbox,
           devices: [/dev/loop3], snapshot_id: ""}
device:
  description: The loop device of the disk.
  returned: when state is attached
  type: str
  sample: /dev/loop3
origin:
  description:
    - How the disk of O(state=present) was settled.
    - V(bound) (already the instance's), V(new), V(existing) or V(snapshot).
  returned: when state is present
  type: str
disks:
  description: Ids of the disks detached, released or deleted.
  returned: when state is detached, released or absent
  type: list
  elements: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.local_storage import (
    StorageError,
    Store,
)


def _targets(store: Store, module: AnsibleModule) -> list[dict[str, Any]]:
    params = module.params
    if params["disk_id"]:
        disk = store.disk(params["disk_id"])
        if disk is None:
            module.fail_json(msg=_unknown_disk(store, params["disk_id"]))
        return [disk]
    if not params["instance"]:
        module.fail_json(msg=f"state={params['state']} needs disk_id or instance")
    return [d for d in store.disks() if d.get("bound_to") == params["instance"]]


def _unknown_disk(store: Store, disk_id: str) -> str:
    owner = store.owner_of("disk", disk_id)
    if owner:
        return (
            f"disk {disk_id} belongs to workbench '{owner}', not '{store.workbench}': use one of "
            f"this workbench's disks, or -e workbench_name={owner}"
        )
    known = ", ".join(f"{d['id']} ({d['size_gb']} GB, {d['status']})" for d in store.disks())
    return (
        f"disk {disk_id} not found for workbench '{store.workbench}' (workbench_disk_id); its "
        f"disks: {known or 'none'} (list them with playbooks/disks.yml)"
    )


def _refuse_another_choice(store: Store, module: AnsibleModule, bound: dict[str, Any]) -> None:
    """An instance keeps the disk bound to it: a disk or snapshot chosen explicitly that is not
    that disk (or the snapshot it was restored from) fails, naming the disk and how to switch.
    A choice that does not exist fails as it would without an instance."""
    params = module.params
    source, held = params["source"], bound["id"]
    if source == "existing" and params["disk_id"]:
        if store.disk(params["disk_id"]) is None:
            module.fail_json(msg=_unknown_disk(store, params["disk_id"]))
        if params["disk_id"] == held:
            return
        chosen = f"disk {params['disk_id']} (workbench_disk_id)"
    elif source == "snapshot" and params["snapshot_id"]:
        if store.snapshot(params["snapshot_id"]) is None:
            module.fail_json(msg=_unknown_snapshot(store, params["snapshot_id"]))
        if params["snapshot_id"] == bound.get("snapshot_id"):
            return
        chosen = f"a disk restored from snapshot {params['snapshot_id']} (workbench_snapshot_id)"
    else:
        return
    origin = f", restored from {bound['snapshot_id']}" if bound.get("snapshot_id") else ""
    name = "" if store.workbench == "mlbox" else f" --name {store.workbench}"
    module.fail_json(
        msg=(
            f"The instance {params['instance']} of workbench '{store.workbench}' holds data disk "
            f"{held}{origin}, and an instance keeps its disk: {chosen} was not used, and "
            "nothing was changed. To switch, delete the instance first (the disk is kept): "
            f"scripts/delete_instance.py --cloud local{name} --no-snapshot --no-delete-disk "
            "(or playbooks/teardown.yml), then start again with that choice. To go on with "
            f"{held}: --disk existing:{held} (workbench_disk_source=existing "
            f"workbench_disk_id={held}), or no disk choice at all."
        )
    )


def _unknown_snapshot(store: Store, snap_id: str) -> str:
    owner = store.owner_of("snapshot", snap_id) if snap_id else None
    known = ", ".join(f"{s['id']} ({s['name']}, {s['status']})" for s in store.snapshots())
    where = f" (it belongs to workbench '{owner}')" if owner else ""
    return (
        f"snapshot {snap_id or '(none given)'} not found for workbench "
        f"'{store.workbench}'{where} (workbench_snapshot_id); its snapshots: "
        f"{known or 'none'}"
    )


def present(store: Store, module: AnsibleModule) -> dict[str, Any]:
    params = module.params
    instance = params["instance"]
    if not instance:
        module.fail_json(msg="state=present needs instance (the name the disk is bound to)")
    bound = store.bound_disk(instance)
    source = params["source"]
    if bound is not None:
        _refuse_another_choice(store, module, bound)
        return {"changed": False, "disk": store.normalized_disk(bound), "origin": "bound"}
    if source == "existing":
        disk_id = params["disk_id"]
        if not disk_id:
            module.fail_json(msg="source=existing needs disk_id (workbench_disk_id)")
        disk = store.disk(disk_id)
        if disk is None:
            module.fail_json(msg=_unknown_disk(store, disk_id))
        holder = disk.get("bound_to") or ""
        if holder or disk.get("devices"):
            module.fail_json(
                msg=(
                    f"disk {disk_id} is attached to {holder or 'another instance'} "
                    f"({', '.join(disk.get('devices') or []) or 'bound'}): delete that instance "
                    "first (scripts/delete_instance.py), or choose another disk"
                )
            )
        if not module.check_mode:
            store.set_binding(disk, instance)
            disk = store.disk(disk_id) or disk
        return {"changed": True, "disk": store.normalized_disk(disk), "origin": "existing"}
    if source == "snapshot":
        snap_id = params["snapshot_id"]
        snapshot = store.snapshot(snap_id) if snap_id else None
        if snapshot is None:
            module.fail_json(msg=_unknown_snapshot(store, snap_id))
        if snapshot["status"] != "completed":
            module.fail_json(
                msg=(
                    f"snapshot {snap_id} is {snapshot['status']}, not completed: it cannot be "
                    "restored; choose another (workbench_snapshot_id) or latest"
                )
            )
        size = max(params["size_gb"], int(snapshot.get("size_gb", 0)))
        if module.check_mode:
            return {"changed": True, "disk": None, "origin": "snapshot"}
        disk = store.restore_disk(snapshot, size, instance)
        return {"changed": True, "disk": store.normalized_disk(disk), "origin": "snapshot"}
    if params["size_gb"] < 1:
        module.fail_json(msg=f"size_gb must be at least 1, got {params['size_gb']}")
    if module.check_mode:
        return {"changed": True, "disk": None, "origin": "new"}
    disk = store.create_disk(params["size_gb"], instance)
    return {"changed": True, "disk": store.normalized_disk(disk), "origin": "new"}


def attached(store: Store, module: AnsibleModule) -> dict[str, Any]:
    if not module.params["disk_id"]:
        module.fail_json(msg="state=attached needs disk_id")
    disk = _targets(store, module)[0]
    if module.check_mode:
        device = disk["devices"][0] if disk.get("devices") else ""
        return {"changed": not device, "device": device, "disk": store.normalized_disk(disk)}
    device, changed = store.attach(disk)
    disk = store.disk(disk["id"]) or disk
    return {"changed": changed, "device": device, "disk": store.normalized_disk(disk)}


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type="path", required=True),
            workbench=dict(type="str", required=True),
            state=dict(
                type="str",
                default="present",
                choices=["present", "attached", "detached", "released", "absent"],
            ),
            instance=dict(type="str", default=""),
            source=dict(type="str", default="new", choices=["new", "existing", "snapshot"]),
            disk_id=dict(type="str", default=""),
            snapshot_id=dict(type="str", default=""),
            size_gb=dict(type="int", default=20),
        ),
        supports_check_mode=True,
    )
    store = Store(module.params["state_dir"], module.params["workbench"], module.run_command)
    state = module.params["state"]
    try:
        if state == "present":
            module.exit_json(**present(store, module))
        if state == "attached":
            module.exit_json(**attached(store, module))
        targets = _targets(store, module)
        ids = [d["id"] for d in targets]
        if state == "detached":
            busy = [d for d in targets if d.get("devices")]
            if not module.check_mode:
                for disk in busy:
                    store.detach(disk)
            module.exit_json(changed=bool(busy), disks=[d["id"] for d in busy])
        if state == "released":
            bound = [d for d in targets if d.get("bound_to")]
            if not module.check_mode:
                for disk in bound:
                    store.set_binding(disk, "")
            module.exit_json(changed=bool(bound), disks=[d["id"] for d in bound])
        attached_now = [d for d in targets if d.get("devices")]
        if attached_now:
            module.fail_json(
                msg=(
                    "refusing to delete attached disks: "
                    + ", ".join(f"{d['id']} ({', '.join(d['devices'])})" for d in attached_now)
                    + "; delete the instance first"
                )
            )
        if not module.check_mode:
            for disk in targets:
                store.delete_disk(disk)
        module.exit_json(changed=bool(targets), disks=ids)
    except StorageError as error:
        module.fail_json(msg=str(error))


if __name__ == "__main__":
    main()
