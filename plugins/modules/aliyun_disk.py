#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aliyun_disk
short_description: Create, attach or delete an ECS data disk and wait until it is done
version_added: "0.1.0"
description:
  - Finds the data disk (by O(disk_id), or by O(name) in O(zone_id)) or creates it (tagged,
    with its category, ESSD performance level and size, or restored from O(snapshot_id)),
    and waits until it has left C(Creating).
  - With O(instance_id), waits until the instance is C(Running) or C(Stopped), attaches the
    disk and waits until the API reports it C(In_use) on that instance; it fails, naming the
    disk's state, when the disk is attached elsewhere or the attachment does not happen.
  - With O(state=absent), waits until the disk has left a transitional state and deletes it;
    a disk still attached to an instance is refused, never detached.
  - Adds the missing O(tags) to a disk found.
  - alibaba.alicloud's C(ali_disk) creates without tags or performance level, and attaches
    only a disk that is already C(Available), silently skipping one still C(Creating); this
    module polls with backoff instead (mlbox.workbench.backoff), a fraction of a second when
    the API is quick.
notes:
  - Supports check mode.
requirements:
  - aliyun-python-sdk-core
author:
  - mlbox.workbench developers (!UNKNOWN)
extends_documentation_fragment:
  - mlbox.workbench.aliyun_auth
  - mlbox.workbench.backoff
options:
  state:
    description: V(present) finds or creates (and attaches); V(absent) deletes.
    type: str
    choices: [present, absent]
    default: present
  disk_id:
    description: The disk to attach or delete; without it the disk is found by O(name) or made.
    type: str
  name:
    description: Name of the disk, looked up in O(zone_id) before one is created.
    type: str
  zone_id:
    description: Zone of a new disk (and of the name lookup).
    type: str
  category:
    description: Category of a new disk.
    type: str
    default: cloud_essd
  performance_level:
    description: Performance level of a new C(cloud_essd) disk (ignored for other categories).
    type: str
    choices: [PL0, PL1, PL2, PL3]
    default: PL1
  size_gb:
    description: Size of a new disk in GiB; a restored disk is at least the snapshot's size.
    type: int
  snapshot_id:
    description: Snapshot to restore a new disk from.
    type: str
  description:
    description: Description of a new disk.
    type: str
  tags:
    description: Tags of a new disk; the missing ones are added to a disk found.
    type: dict
  instance_id:
    description: Attach the disk to this instance and wait until it is attached.
    type: str
  delete_with_instance:
    description: Whether the disk goes when the instance is released.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Create the data disk and attach it
  mlbox.workbench.aliyun_disk:
    name: workbench-exp1-data-i-bp1abc
    zone_id: cn-hangzhou-h
    category: cloud_essd
    size_gb: 20
    tags:
      mlbox:workbench: exp1
    instance_id: i-bp1abc
    timeout: 300
  register: data_disk

- name: Delete a disk that no instance holds
  mlbox.workbench.aliyun_disk:
    state: absent
    disk_id: d-bp1abcdefg
"""

RETURN = r"""
disk:
  description: The disk as it is now (empty when it was deleted or never existed).
  returned: always
  type: dict
  contains:
    id:
      description: Disk id.
      type: str
    name:
      description: Name.
      type: str
    status:
      description: Status in lower case.
      type: str
      sample: in_use
    category:
      description: Category.
      type: str
      sample: cloud_essd
    performance_level:
      description: ESSD performance level, empty for others.
      type: str
    size_gb:
      description: Size in GiB.
      type: int
    zone_id:
      description: Zone.
      type: str
    instance_id:
      description: The instance holding it, empty when none.
      type: str
    device:
      description: Its device on the instance.
      type: str
      sample: /dev/xvdb
    snapshot_id:
      description: The snapshot it was made from.
      type: str
    tags:
      description: Tags.
      type: dict
waited:
  description: Seconds spent waiting for the disk and the instance.
  returned: always
  type: float
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.aliyun import (
    AliyunError,
    aliyun_argument_spec,
    connect,
    fail,
    tags_dict,
)
from ansible_collections.mlbox.workbench.plugins.module_utils.backoff import (
    BACKOFF_ARGS,
    check_seconds,
    poll,
)

# Disk states that pass by themselves; a disk in one is waited for, never acted on.
TRANSITIONAL = {"Creating", "Attaching", "Detaching", "ReIniting"}


def normalize(item):
    return {
        "id": item.get("DiskId", ""),
        "name": item.get("DiskName", ""),
        "status": str(item.get("Status", "")).lower(),
        "category": item.get("Category", ""),
        "performance_level": item.get("PerformanceLevel", ""),
        "size_gb": int(item.get("Size") or 0),
        "zone_id": item.get("ZoneId", ""),
        "instance_id": item.get("InstanceId", ""),
        "device": item.get("Device", ""),
        "snapshot_id": item.get("SourceSnapshotId", ""),
        "tags": tags_dict(item),
    }


class Waiter:
    """Polls with backoff within the module's timeout, and adds up the time waited."""

    def __init__(self, module):
        self.module = module
        self.waited = 0.0

    def until(self, attempt, what):
        params = self.module.params
        result = poll(attempt, params["timeout"], params["first_delay"], params["max_delay"])
        self.waited += result["elapsed"]
        if not result["ok"]:
            self.module.fail_json(
                msg=f"{what} did not happen within {params['timeout']} s: {result['last']}",
                waited=round(self.waited, 3),
            )
        return result["value"]


def describe(ecs, disk_id):
    found = ecs.call("DescribeDisks", DiskIds=[disk_id]).get("Disks", {}).get("Disk") or []
    return found[0] if found else None


def settled(ecs, waiter, disk_id):
    """The disk once it is in no transitional state (None when it does not exist)."""

    def attempt():
        item = describe(ecs, disk_id)
        if item is not None and item.get("Status") in TRANSITIONAL:
            return False, f"disk {disk_id} is {item['Status']}"
        return True, item

    return waiter.until(attempt, f"Disk {disk_id} settling")


def find_or_create(module, ecs, waiter):
    params = module.params
    if params["disk_id"]:
        item = settled(ecs, waiter, params["disk_id"])
        if item is None:
            module.fail_json(msg=f"Disk {params['disk_id']} does not exist")
        return item, False
    if not params["name"] or not params["zone_id"]:
        module.fail_json(msg="state=present needs disk_id, or name and zone_id")
    found = ecs.pages(
        "DescribeDisks", "Disks", "Disk", DiskName=params["name"], ZoneId=params["zone_id"]
    )
    found = [d for d in found if d.get("DiskName") == params["name"]]
    if len(found) > 1:
        module.fail_json(
            msg="More than one disk is named {} in {}: {}".format(
                params["name"], params["zone_id"], ", ".join(d["DiskId"] for d in found)
            )
        )
    if found:
        return settled(ecs, waiter, found[0]["DiskId"]), False
    if module.check_mode:
        module.exit_json(changed=True, disk={}, waited=0.0)
    essd = params["category"] == "cloud_essd"
    answer = ecs.call(
        "CreateDisk",
        ZoneId=params["zone_id"],
        DiskName=params["name"],
        Description=params["description"],
        DiskCategory=params["category"],
        PerformanceLevel=params["performance_level"] if essd else None,
        Size=params["size_gb"],
        SnapshotId=params["snapshot_id"],
        Tags=params["tags"] or None,
    )
    return settled(ecs, waiter, answer["DiskId"]), True


def add_missing_tags(module, ecs, item):
    wanted = module.params["tags"] or {}
    held = tags_dict(item)
    missing = {k: str(v) for k, v in wanted.items() if held.get(k) != str(v)}
    if missing and not module.check_mode:
        ecs.call(
            "TagResources", ResourceType="disk", **{"ResourceId.1": item["DiskId"]}, Tags=missing
        )
    return bool(missing)


def instance_ready(ecs, waiter, instance_id):
    """Wait until the instance can take a disk: Running or Stopped."""

    def attempt():
        found = ecs.call("DescribeInstances", InstanceIds=[instance_id])
        items = (found.get("Instances") or {}).get("Instance") or []
        if not items:
            return False, f"instance {instance_id} is not listed yet"
        status = items[0].get("Status")
        return status in ("Running", "Stopped"), f"instance {instance_id} is {status}"

    waiter.until(attempt, f"Instance {instance_id} becoming Running")


def attach(module, ecs, waiter, item):
    params = module.params
    instance_id = params["instance_id"]
    disk_id = item["DiskId"]
    holder = item.get("InstanceId") or ""
    if holder == instance_id and item.get("Status") == "In_use":
        return item, False
    if holder and holder != instance_id:
        module.fail_json(
            msg=f"Disk {disk_id} is attached to {holder}, not to {instance_id}; detach it first",
            disk=normalize(item),
        )
    if item.get("Status") != "Available":
        module.fail_json(
            msg=f"Disk {disk_id} is {item.get('Status')}; only an Available disk can be attached",
            disk=normalize(item),
        )
    if module.check_mode:
        return item, True
    instance_ready(ecs, waiter, instance_id)
    ecs.call(
        "AttachDisk",
        DiskId=disk_id,
        InstanceId=instance_id,
        DeleteWithInstance=params["delete_with_instance"],
    )

    def attempt():
        now = describe(ecs, disk_id)
        if now is None:
            return False, f"disk {disk_id} is no longer listed"
        if now.get("Status") == "In_use" and now.get("InstanceId") == instance_id:
            return True, now
        return False, f"disk {disk_id} is {now.get('Status')} on {now.get('InstanceId') or 'none'}"

    return waiter.until(attempt, f"Attaching disk {disk_id} to {instance_id}"), True


def present(module, ecs, waiter):
    item, changed = find_or_create(module, ecs, waiter)
    changed = add_missing_tags(module, ecs, item) or changed
    if module.params["instance_id"]:
        item, attached = attach(module, ecs, waiter, item)
        changed = changed or attached
    module.exit_json(changed=changed, disk=normalize(item), waited=round(waiter.waited, 3))


def absent(module, ecs, waiter):
    disk_id = module.params["disk_id"]
    if not disk_id:
        module.fail_json(msg="state=absent needs disk_id")
    item = settled(ecs, waiter, disk_id)
    if item is None:
        module.exit_json(changed=False, disk={}, waited=round(waiter.waited, 3))
    if item.get("Status") != "Available":
        module.fail_json(
            msg="Disk {} is {} on {}; it is not deleted while an instance holds it".format(
                disk_id, item.get("Status"), item.get("InstanceId") or "no instance"
            ),
            disk=normalize(item),
        )
    if not module.check_mode:
        try:
            ecs.call("DeleteDisk", DiskId=disk_id)
        except AliyunError as e:
            if e.code != "InvalidDiskId.NotFound":
                raise
    module.exit_json(changed=True, disk={}, waited=round(waiter.waited, 3))


def main():
    spec = aliyun_argument_spec()
    spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        disk_id=dict(type="str"),
        name=dict(type="str"),
        zone_id=dict(type="str"),
        category=dict(type="str", default="cloud_essd"),
        performance_level=dict(type="str", default="PL1", choices=["PL0", "PL1", "PL2", "PL3"]),
        size_gb=dict(type="int"),
        snapshot_id=dict(type="str"),
        description=dict(type="str"),
        tags=dict(type="dict"),
        instance_id=dict(type="str"),
        delete_with_instance=dict(type="bool", default=False),
        **BACKOFF_ARGS,
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    problem = check_seconds(module.params, ("timeout", "first_delay", "max_delay"))
    if problem:
        module.fail_json(msg=problem)
    ecs = connect(module)
    waiter = Waiter(module)
    try:
        {"present": present, "absent": absent}[module.params["state"]](module, ecs, waiter)
    except AliyunError as e:
        fail(module, e, waited=round(waiter.waited, 3))


if __name__ == "__main__":
    main()
