#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

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
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - The module never changes anything, so check mode returns the same result.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
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

import re
from datetime import datetime, timezone
from typing import Any, Dict

from ansible.module_utils.basic import AnsibleModule

# typing.Dict: a runtime alias, evaluated on the target's Python (3.8 has no dict[str, ...]).
Snapshot = Dict[str, Any]

DEFAULT_COMPLETED = ["completed", "accomplished", "succeeded"]


class SnapshotChoiceError(Exception):
    """A choice this module cannot satisfy; main() turns it into fail_json."""


def parse_created(value: str) -> datetime:
    """ISO 8601 as the providers write it, on Python 3.9 too (no 'Z', 6-digit fractions)."""
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    # Azure writes 7 fractional digits; fromisoformat before 3.11 takes only 3 or 6.
    text = re.sub(r"\.(\d+)", lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def describe(snapshot: Snapshot) -> str:
    size = snapshot.get("size_gb")
    size_text = f"{size:g} GB" if isinstance(size, (int, float)) else f"{size or '?'} GB"
    return (
        f"{snapshot.get('id')} (name {snapshot.get('name') or '-'}, "
        f"{snapshot.get('created') or 'unknown time'}, {snapshot.get('status') or 'unknown'}, "
        f"{size_text})"
    )


def available(snapshots: list[Snapshot]) -> str:
    return ", ".join(describe(s) for s in snapshots) or "none"


def scope(disk_id: str | None) -> str:
    return f" (disk {disk_id})" if disk_id else ""


def is_completed(snapshot: Snapshot, completed_statuses: list[str]) -> bool:
    wanted = {status.lower() for status in completed_statuses}
    return str(snapshot.get("status") or "").lower() in wanted


def for_disk(snapshots: list[Snapshot], disk_id: str | None) -> list[Snapshot]:
    if not disk_id:
        return list(snapshots)
    return [s for s in snapshots if str(s.get("disk_id") or "") == disk_id]


def created_time(snapshot: Snapshot, snapshots: list[Snapshot]) -> datetime:
    try:
        return parse_created(str(snapshot.get("created") or ""))
    except ValueError:
        raise SnapshotChoiceError(
            f"snapshot {snapshot.get('id')} has no ISO 8601 created time "
            f"({snapshot.get('created')!r}), so the latest one is unknown; "
            f"choose a snapshot by id; available: {available(snapshots)}"
        ) from None


def latest_completed(
    snapshots: list[Snapshot], completed_statuses: list[str], disk_id: str | None = None
) -> Snapshot:
    completed = [s for s in snapshots if is_completed(s, completed_statuses)]
    if not completed:
        raise SnapshotChoiceError(
            f"no completed snapshot to restore from{scope(disk_id)}; "
            f"available: {available(snapshots)}"
        )
    newest: Snapshot = completed[0]
    newest_time = created_time(newest, snapshots)
    for snapshot in completed[1:]:
        when = created_time(snapshot, snapshots)
        # Strictly newer, so on a tie the one listed first wins.
        if when > newest_time:
            newest, newest_time = snapshot, when
    return newest


def find(snapshots: list[Snapshot], choice: str, disk_id: str | None = None) -> Snapshot:
    by_id = [s for s in snapshots if str(s.get("id")) == choice]
    if by_id:
        return by_id[0]
    by_name = [s for s in snapshots if s.get("name") == choice]
    if len(by_name) > 1:
        raise SnapshotChoiceError(
            f"snapshot name '{choice}' matches {len(by_name)} snapshots{scope(disk_id)}: "
            f"{available(by_name)}; choose one by id"
        )
    if not by_name:
        raise SnapshotChoiceError(
            f"snapshot '{choice}' not found{scope(disk_id)}; available: {available(snapshots)}"
        )
    return by_name[0]


def choose_snapshot(
    snapshots: list[Snapshot],
    choice: str,
    disk_id: str | None = None,
    completed_statuses: list[str] | None = None,
) -> Snapshot | None:
    """The snapshot to restore from, or None for `none`."""
    if choice == "none":
        return None
    statuses = DEFAULT_COMPLETED if completed_statuses is None else completed_statuses
    for position, snapshot in enumerate(snapshots):
        if not snapshot.get("id"):
            raise SnapshotChoiceError(f"snapshot #{position} in the list has no id: {snapshot}")
    candidates = for_disk(snapshots, disk_id)
    if choice == "latest":
        return latest_completed(candidates, statuses, disk_id)
    chosen = find(candidates, choice, disk_id)
    if not is_completed(chosen, statuses):
        raise SnapshotChoiceError(
            f"snapshot {chosen.get('id')} is {chosen.get('status') or 'of unknown status'}, "
            f"not completed{scope(disk_id)}; wait for it or choose another; "
            f"available: {available(candidates)}"
        )
    return chosen


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
