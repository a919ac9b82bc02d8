#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aliyun_snapshot_info
short_description: List Alibaba Cloud ECS disk snapshots by disk, name, tags and state
version_added: "0.1.0"
description:
  - Lists the snapshots that match every filter given, oldest first, in the shape
    M(mlbox.workbench.aliyun_snapshot) returns one.
  - Replaces M(mlbox.workbench.aliyun_snapshot)'s former C(state=list), with the same filters
    and the same RV(snapshots).
notes:
  - Supports check mode; changes nothing.
requirements:
  - aliyun-python-sdk-core
author:
  - mlbox.workbench developers (!UNKNOWN)
extends_documentation_fragment:
  - mlbox.workbench.aliyun_auth
options:
  disk_id:
    description: Only snapshots of this disk.
    type: str
  snapshot_id:
    description: Only this snapshot.
    type: str
  name:
    description: Only snapshots of this name.
    type: str
  tags:
    description: Only snapshots carrying all of these tags.
    type: dict
  status:
    description: Only snapshots in this state.
    type: str
    choices: [progressing, accomplished, failed, all]
    default: all
"""

EXAMPLES = r"""
- name: List the workbench's accomplished snapshots
  mlbox.workbench.aliyun_snapshot_info:
    tags:
      mlbox:workbench: mlbox
    status: accomplished
  register: snaps
"""

RETURN = r"""
snapshots:
  description: The snapshots found, oldest first.
  returned: always
  type: list
  elements: dict
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
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.aliyun import (
    AliyunError,
    aliyun_argument_spec,
    connect,
    fail,
)
from ansible_collections.mlbox.workbench.plugins.module_utils.aliyun_snapshots import describe


def main():
    spec = aliyun_argument_spec()
    spec.update(
        disk_id=dict(type="str"),
        snapshot_id=dict(type="str"),
        name=dict(type="str"),
        tags=dict(type="dict"),
        status=dict(
            type="str", default="all", choices=["progressing", "accomplished", "failed", "all"]
        ),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    ecs = connect(module)
    filters = dict(
        DiskId=params["disk_id"],
        SnapshotName=params["name"],
        Tags=params["tags"] or None,
        Status=None if params["status"] == "all" else params["status"],
    )
    if params["snapshot_id"]:
        filters["SnapshotIds"] = [params["snapshot_id"]]
    try:
        module.exit_json(changed=False, snapshots=describe(ecs, **filters))
    except AliyunError as e:
        fail(module, e)


if __name__ == "__main__":
    main()
