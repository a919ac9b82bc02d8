#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: snapshot_choice
short_description: Pick one snapshot to restore from, out of a provider's normalized list
version_added: 0.1.0
description:
  - Pure selection over the snapshot list that every C(cloud_*) role's C(disks.yml) produces;
    talks to no cloud and changes nothing.
  - O(choice) is a snapshot id, a snapshot name, V(latest) (the most recent completed
    snapshot) or V(none) (restore nothing).
  - An id is matched before a name. V(latest) and V(none) are keywords, so a snapshot
    literally named V(latest) or V(none) can only be chosen by its id.
  - Fails with a message that lists the snapshots that exist (id, name, created, status,
    size) when the choice is unknown, ambiguous, or not completed yet.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  snapshots:
    description:
      - The normalized snapshot list. Each entry has the keys C(id), C(name), C(created)
        (ISO 8601, for example V(2026-01-01T00:00:00Z)), C(status), C(size_gb) and
        C(disk_id); only C(id) is required, and other keys are passed through untouched.
    type: list
    elements: dict
    required: true
  choice:
    description:
      - A snapshot id, a snapshot name, V(latest) or V(none).
    type: str
    required: true
  disk_id:
    description:
      - Only consider snapshots whose C(disk_id) is this disk.
    type: str
  completed_statuses:
    description:
      - The C(status) values, compared case-insensitively, that mean a snapshot can be
        restored from.
      - The defaults cover the local provider and AWS (V(completed)), Alibaba Cloud
        (V(accomplished)) and Azure (V(succeeded)).
    type: list
    elements: str
    default: [completed, accomplished, succeeded]
attributes:
  check_mode:
    description: Can run in check mode and predict what would change without changing it.
    support: full
    details:
      - The module never changes anything, so check mode returns the same result.
  diff_mode:
    description: Returns what changed (or would change in check mode) in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Choose the snapshot the data disk is restored from
  mlbox.workbench.snapshot_choice:
    snapshots: "{{ __cloud_aws_disks.snapshots }}"
    choice: "{{ workbench_snapshot_id | default('latest') }}"
    disk_id: "{{ workbench_disk_id | default(omit) }}"
  register: __cloud_aws_snapshot

- name: Create the data disk from the chosen snapshot
  amazon.aws.ec2_vol:
    snapshot: "{{ __cloud_aws_snapshot.snapshot.id }}"
    zone: "{{ workbench_zone }}"
  when: __cloud_aws_snapshot.snapshot is not none

- name: Accept a provider-specific completed status as well
  mlbox.workbench.snapshot_choice:
    snapshots: "{{ __cloud_local_disks.snapshots }}"
    choice: nightly
    completed_statuses: [completed, ready]
  register: __cloud_local_snapshot
"""

RETURN = r"""
snapshot:
  description:
    - The chosen snapshot, exactly as it was given in O(snapshots).
    - V(null) when O(choice) is V(none).
  returned: success
  type: dict
  sample:
    id: snap-0a1b2c3d4e5f67890
    name: workbench-ml-2026-01-01
    created: "2026-01-01T00:00:00Z"
    status: completed
    size_gb: 100
    disk_id: vol-0a1b2c3d4e5f67890
  contains:
    id:
      description: The provider's snapshot id.
      returned: success
      type: str
      sample: snap-0a1b2c3d4e5f67890
    name:
      description: The snapshot's name.
      returned: when the provider gives one
      type: str
      sample: workbench-ml-2026-01-01
    created:
      description: When the snapshot was started, ISO 8601.
      returned: when the provider gives one
      type: str
      sample: "2026-01-01T00:00:00Z"
    status:
      description: The provider's status, one of O(completed_statuses).
      returned: when the provider gives one
      type: str
      sample: completed
    size_gb:
      description: The size of the snapshotted disk in GiB.
      returned: when the provider gives one
      type: int
      sample: 100
    disk_id:
      description: The disk the snapshot was taken from.
      returned: when the provider gives one
      type: str
      sample: vol-0a1b2c3d4e5f67890
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.workbench_contract import (
    DEFAULT_COMPLETED,
    SnapshotChoiceError,
    SnapshotDict,
    available,
    choose_snapshot,
    created_time,
    describe,
    find,
    for_disk,
    is_completed,
    latest_completed,
    parse_created,
    scope,
)

# The selection lives in module_utils (the providers' plan uses it too); these names stay
# importable from here.
__all__ = [
    "DEFAULT_COMPLETED",
    "SnapshotChoiceError",
    "SnapshotDict",
    "available",
    "choose_snapshot",
    "created_time",
    "describe",
    "find",
    "for_disk",
    "is_completed",
    "latest_completed",
    "parse_created",
    "scope",
]


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "snapshots": {"type": "list", "elements": "dict", "required": True},
            "choice": {"type": "str", "required": True},
            "disk_id": {"type": "str"},
            "completed_statuses": {
                "type": "list",
                "elements": "str",
                "default": DEFAULT_COMPLETED,
            },
        },
        supports_check_mode=True,
    )
    try:
        snapshot = choose_snapshot(
            module.params["snapshots"],
            module.params["choice"],
            module.params["disk_id"],
            module.params["completed_statuses"],
        )
    except SnapshotChoiceError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, snapshot=snapshot)


if __name__ == "__main__":
    main()
