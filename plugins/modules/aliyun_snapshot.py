#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aliyun_snapshot
short_description: Create (and wait for), tag and delete Alibaba Cloud ECS disk snapshots
version_added: "0.1.0"
description:
  - Creates a snapshot of an ECS disk and waits until the API reports it C(accomplished),
    polling with a growing pause up to O(wait_timeout); a C(failed) snapshot fails the task.
  - With a O(name), an existing snapshot of that name of the disk is found and reused (and
    waited for) instead of taking a second one, so a re-run changes nothing.
  - Deletes a snapshot by id (O(state=absent)).
  - M(mlbox.workbench.aliyun_snapshot_info) lists snapshots (this module's former
    C(state=list)).
  - alibaba.alicloud has no snapshot module; this one calls the ECS RPC API through
    aliyunsdkcore, and honours C(HTTP_PROXY) like the rest of the Alibaba SDK.
options:
  state:
    description: V(present) creates or finds, V(absent) deletes.
    type: str
    choices: [present, absent]
    default: present
  disk_id:
    description: The disk to snapshot (O(state=present)).
    type: str
  snapshot_id:
    description: An existing snapshot to find, tag or delete.
    type: str
  name:
    description:
      - The snapshot's name (2-128 characters, not starting with C(auto) or C(http)).
      - With O(state=present), a snapshot of O(disk_id) with this name is reused.
    type: str
  description:
    description: Description of a new snapshot.
    type: str
  tags:
    description:
      - Tags of a new snapshot; missing ones are added to a found one (others are kept).
    type: dict
  force:
    description:
      - With O(state=absent), delete a snapshot even if disks were created from it (they can
        then no longer be re-initialized).
      - Without it such a snapshot is kept, and RV(skipped_reason) says why.
    type: bool
    default: false
  wait:
    description: Wait until the snapshot is accomplished.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the snapshot; a large disk's first snapshot is slow.
    type: int
    default: 7200
  poll_interval:
    description:
      - Seconds before the first look at a new snapshot.
      - Each pause after it is 1.5 times longer, up to O(max_poll_interval).
    type: float
    default: 5
  max_poll_interval:
    description: The longest pause between two looks, in seconds.
    type: float
    default: 60
notes:
  - Supports check mode.
requirements:
  - aliyun-python-sdk-core
author:
  - mlbox.workbench developers (!UNKNOWN)
extends_documentation_fragment:
  - mlbox.workbench.aliyun_auth
"""

EXAMPLES = r"""
- name: Snapshot the data disk and wait until it is accomplished
  mlbox.workbench.aliyun_snapshot:
    disk_id: d-bp1abcdefg
    name: mlbox-20260101T120000Z
    tags:
      mlbox:workbench: mlbox
    wait_timeout: 3600
  register: snap

- name: Delete one
  mlbox.workbench.aliyun_snapshot:
    state: absent
    snapshot_id: s-bp1abcdefg
"""

RETURN = r"""
snapshot:
  description: The snapshot created, found or deleted (empty when none).
  returned: always
  type: dict
  contains:
    id:
      description: Snapshot id.
      type: str
      sample: s-bp1abcdefg
    name:
      description: Name.
      type: str
    status:
      description: C(progressing), C(accomplished) or C(failed).
      type: str
      sample: accomplished
    progress:
      description: Percentage done.
      type: str
      sample: 100%
    disk_id:
      description: The source disk.
      type: str
    size_gb:
      description: Size of the source disk in GiB.
      type: int
    created:
      description: Creation time, ISO 8601 UTC.
      type: str
    tags:
      description: Tags.
      type: dict
skipped_reason:
  description:
    - Why nothing was done, when the API's answer means there is nothing to do.
    - V(never_attached) (O(state=present)) - the disk was never attached to an instance, so its
      content is what it was made from (empty, or the snapshot it was restored from); ECS
      refuses to snapshot it (C(IncorrectDiskStatus.NeverAttached)).
    - V(disk_created_from_it) (O(state=absent) without O(force)) - a disk was made from the
      snapshot; ECS keeps it (C(SnapshotCreatedDisk)), and so does this module.
  returned: when nothing was done for such a reason
  type: str
  sample: disk_created_from_it
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.aliyun import (
    AliyunError,
    aliyun_argument_spec,
    connect,
    fail,
)
from ansible_collections.mlbox.workbench.plugins.module_utils.aliyun_snapshots import (
    by_id,
    describe,
)


def wait_until_accomplished(module, ecs, snap):
    """Poll with a growing pause until the snapshot is accomplished, failed or time is up."""
    params = module.params
    clock, sleep = time.monotonic, time.sleep
    deadline = clock() + params["wait_timeout"]
    delay = max(params["poll_interval"], 0.0)
    while snap["status"] != "accomplished":
        if snap["status"] == "failed":
            module.fail_json(
                msg="Snapshot {} of disk {} failed".format(snap["id"], snap["disk_id"]),
                snapshot=snap,
            )
        left = deadline - clock()
        if left <= 0:
            module.fail_json(
                msg=f"Snapshot {snap['id']} is still {snap['status']} ({snap['progress']}) after "
                f"{params['wait_timeout']} seconds; wait longer (wait_timeout) or look later",
                snapshot=snap,
            )
        sleep(min(delay, left))
        delay = min(delay * 1.5 or 1.0, params["max_poll_interval"])
        current = by_id(ecs, snap["id"])
        if current is None:
            module.fail_json(
                msg="Snapshot {} disappeared while it was being taken".format(snap["id"])
            )
        snap = current
    return snap


def add_missing_tags(module, ecs, snap):
    wanted = module.params["tags"] or {}
    missing = {k: v for k, v in wanted.items() if snap["tags"].get(k) != str(v)}
    if not missing:
        return snap, False
    if not module.check_mode:
        ecs.call(
            "TagResources", ResourceType="snapshot", **{"ResourceId.1": snap["id"]}, Tags=missing
        )
    snap = dict(snap, tags=dict(snap["tags"], **{k: str(v) for k, v in missing.items()}))
    return snap, True


def present(module, ecs):
    params = module.params
    snap = None
    if params["snapshot_id"]:
        snap = by_id(ecs, params["snapshot_id"])
        if snap is None:
            module.fail_json(msg="Snapshot {} does not exist".format(params["snapshot_id"]))
    elif params["name"]:
        if not params["disk_id"]:
            module.fail_json(msg="state=present needs disk_id (or snapshot_id)")
        found = describe(ecs, DiskId=params["disk_id"], SnapshotName=params["name"])
        found = [s for s in found if s["status"] != "failed"]
        snap = found[-1] if found else None
    elif not params["disk_id"]:
        module.fail_json(msg="state=present needs disk_id (or snapshot_id)")

    if snap is not None:
        snap, changed = add_missing_tags(module, ecs, snap)
        if params["wait"] and not module.check_mode:
            snap = wait_until_accomplished(module, ecs, snap)
        module.exit_json(changed=changed, snapshot=snap)

    if module.check_mode:
        module.exit_json(changed=True, snapshot={})
    try:
        answer = ecs.call(
            "CreateSnapshot",
            DiskId=params["disk_id"],
            SnapshotName=params["name"],
            Description=params["description"],
            Tags=params["tags"] or None,
        )
    except AliyunError as e:
        if e.code != "IncorrectDiskStatus.NeverAttached":
            raise
        module.exit_json(changed=False, snapshot={}, skipped_reason="never_attached", msg=str(e))
    snap = by_id(ecs, answer["SnapshotId"]) or {
        "id": answer["SnapshotId"],
        "status": "progressing",
        "progress": "0%",
        "disk_id": params["disk_id"],
    }
    if params["wait"]:
        snap = wait_until_accomplished(module, ecs, snap)
    module.exit_json(changed=True, snapshot=snap)


def absent(module, ecs):
    params = module.params
    if not params["snapshot_id"]:
        module.fail_json(msg="state=absent needs snapshot_id")
    snap = by_id(ecs, params["snapshot_id"])
    if snap is None:
        module.exit_json(changed=False, snapshot={})
    if not module.check_mode:
        try:
            ecs.call("DeleteSnapshot", SnapshotId=snap["id"], Force=params["force"] or None)
        except AliyunError as e:
            if e.code == "SnapshotCreatedDisk":
                module.exit_json(
                    changed=False, snapshot=snap, skipped_reason="disk_created_from_it", msg=str(e)
                )
            if e.code != "InvalidSnapshotId.NotFound":
                raise
    module.exit_json(changed=True, snapshot=snap)


def main():
    spec = aliyun_argument_spec()
    spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        disk_id=dict(type="str"),
        snapshot_id=dict(type="str"),
        name=dict(type="str"),
        description=dict(type="str"),
        tags=dict(type="dict"),
        force=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=7200),
        poll_interval=dict(type="float", default=5),
        max_poll_interval=dict(type="float", default=60),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    ecs = connect(module)
    try:
        {"present": present, "absent": absent}[module.params["state"]](module, ecs)
    except AliyunError as e:
        fail(module, e)


if __name__ == "__main__":
    main()
