# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)
"""The contract's shapes as filters: workbench_instance, ec2_disks, ec2_snapshots."""

from __future__ import annotations

from typing import Any, Callable

from ansible.errors import AnsibleFilterError
from ansible_collections.mlbox.workbench.plugins.module_utils.aws_workbench import (
    disk_from_ec2,
    snapshot_from_ec2,
)
from ansible_collections.mlbox.workbench.plugins.module_utils.workbench_contract import (
    Instance,
    PlanError,
)

DOCUMENTATION = r"""
---
name: workbench_instance
short_description: The workbench_instance fact, its shape checked
version_added: 0.1.0
description:
  - Checks a provider's description of its instance against the contract
    (C(plugins/module_utils/workbench_contract.py)) and returns it typed (ports as integers,
    C(spot) as a boolean); fails naming the missing field.
  - The same file holds C(ec2_disks) and C(ec2_snapshots), which turn C(amazon.aws.ec2_vol_info)'s
    volumes and C(amazon.aws.ec2_snapshot_info)'s snapshots into the contract's disks and
    snapshots (oldest first).
options:
  _input:
    description: The instance's description (cloud, id, name, public_ip, ssh_user, ...).
    type: dict
    required: true
author:
  - mlbox.workbench developers
"""

EXAMPLES = r"""
- name: Describe the workbench
  ansible.builtin.set_fact:
    workbench_instance: "{{ described | mlbox.workbench.workbench_instance }}"
"""

RETURN = r"""
_value:
  description: The instance in the contract's shape.
  type: dict
"""


def workbench_instance(data: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AnsibleFilterError(f"workbench_instance expects a dict, got {type(data).__name__}")
    try:
        return Instance.from_dict(data).to_dict()
    except PlanError as exc:
        raise AnsibleFilterError(str(exc)) from None


def ec2_disks(volumes: list[dict[str, Any]], tag: str = "mlbox:workbench") -> list[dict[str, Any]]:
    disks = [disk_from_ec2(v, tag) for v in volumes or []]
    return [d.to_dict() for d in sorted(disks, key=lambda d: d.created)]


def ec2_snapshots(snapshots: list[dict[str, Any]], region: str) -> list[dict[str, Any]]:
    found = [snapshot_from_ec2(s, region) for s in snapshots or []]
    return [s.to_dict() for s in sorted(found, key=lambda s: s.created)]


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "workbench_instance": workbench_instance,
            "ec2_disks": ec2_disks,
            "ec2_snapshots": ec2_snapshots,
        }
