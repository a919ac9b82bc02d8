"""Bad input stops in validation, with a message that names the fix, before anything exists.

The cases share one ansible-playbook run (one play each, its failure caught and kept), as
every run pays the SDK's start-up; missing credentials need their own environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure_helpers import (
    LOCATION,
    Arm,
    Workbench,
    group_id,
    resource_id,
    run_playbook,
)

pytestmark = pytest.mark.azure

# case -> (extra variables, the words the refusal must name)
CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "location": (
        {"workbench_region": "moon-central"},
        ["moon-central", "workbench_region", "westeurope"],
    ),
    "size": (
        {"workbench_instance_type": "Standard_Huge_v9"},
        ["Standard_Huge_v9", "workbench_instance_type", "Standard_D2s_v3"],
    ),
    "unknown_disk": (
        {"workbench_disk_source": "existing", "workbench_disk_id": "nope-disk"},
        ["nope-disk", "no such managed disk", "workbench_disk_id"],
    ),
    "attached_disk": (
        {"workbench_disk_source": "existing", "workbench_disk_id": "busy-disk"},
        ["busy-disk", "attached to", "someone-vm", "detach it"],
    ),
    "foreign_group": ({}, ["not this workbench's", "workbench_azure_resource_group"]),
    "unknown_snapshot": (
        {"workbench_disk_source": "snapshot", "workbench_snapshot_id": "snap-missing"},
        ["snap-missing", "workbench_snapshot_id"],
    ),
    # Azure refuses a premium disk on a size without premium storage, once the network and
    # the disk exist: refused here first.
    "premium_disk_on_small_size": (
        {"workbench_instance_type": "Standard_D2_v3", "workbench_azure_disk_sku": "Premium_LRS"},
        ["Standard_D2_v3", "premium", "workbench_azure_disk_sku=StandardSSD_LRS"],
    ),
    # Eviction under Delete takes the VM's disks with it: only Deallocate is taken.
    "eviction_delete": (
        {"workbench_azure_eviction_policy": "Delete"},
        ["workbench_azure_eviction_policy", "Deallocate"],
    ),
}


def fixtures(arm: Arm, names: dict[str, str]) -> None:
    """A disk of the workbench attached to someone else's VM; a group of the workbench's
    name that is not the workbench's."""
    busy = names["attached_disk"]
    mine = {"mlbox-workbench": busy}
    someone_vm = resource_id("someone", "Compute/virtualMachines", "someone-vm")
    created = "2026-01-01T00:00:00+00:00"
    arm.put(
        {"id": group_id(f"mlbox-{busy}-data"), "location": LOCATION, "tags": mine},
        {"id": resource_id(f"mlbox-{busy}-data", "Compute/disks", "busy-disk"),
         "location": LOCATION, "tags": mine, "managedBy": someone_vm,
         "properties": {"diskSizeGB": 4, "diskState": "Attached", "timeCreated": created}},
        {"id": group_id(f"mlbox-{names['foreign_group']}"), "location": LOCATION,
         "tags": {"owner": "else"}},
    )  # fmt: skip


def keep(case: str, value: str) -> dict[str, Any]:
    """A set_fact task adding case: value to the fact outcome."""
    merged = f"{{{{ outcome | default({{}}) | combine({{'{case}': {value}}}) }}}}"
    return {"ansible.builtin.set_fact": {"outcome": merged}}


def playbook(path: Path, workbench: Workbench, names: dict[str, str]) -> Path:
    """One play per case: the validate entry point, its failure kept as a fact."""
    plays = []
    for case, (extra, _words) in CASES.items():
        plays.append(
            {
                "name": f"Validate case {case}",
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "vars": {**workbench.base_vars, "workbench_name": names[case], **extra},
                "tasks": [
                    {
                        "name": "Run the validate entry point",
                        "block": [
                            {"ansible.builtin.include_role": {
                                "name": "mlbox.workbench.cloud_azure", "tasks_from": "validate"}},
                            keep(case, "'accepted'"),
                        ],
                        "rescue": [keep(case, "ansible_failed_result.msg")],
                    }
                ],
            }
        )  # fmt: skip
    path.write_text(json.dumps(plays))
    return path


def test_bad_input_is_refused_before_anything_is_created(
    arm: Arm, workbench: Workbench, tmp_path: Path
) -> None:
    names = {case: f"v-{case.replace('_', '-')}" for case in CASES}
    fixtures(arm, names)
    before = arm.state()
    arm.forget_requests()
    run = run_playbook(playbook(tmp_path / "cases.yml", workbench, names), {}, workbench.env)
    assert run.rc == 0, run.explain()
    outcome = run.fact("outcome")
    for case, (_extra, words) in CASES.items():
        message = outcome.get(case, "")
        for word in words:
            assert word in message, (case, message)
    assert arm.mutations() == []
    assert arm.state() == before


def test_missing_credentials(arm: Arm, workbench: Workbench) -> None:
    env = {
        k: v
        for k, v in workbench.env.items()
        if not k.startswith("AZURE_") or k == "AZURE_CONFIG_DIR"
    }
    arm.forget_requests()
    run = workbench.run("validate", env=env)
    assert run.rc != 0
    message = run.failure()
    for word in ("No usable Azure credentials", "AZURE_CLIENT_ID", "AZURE_SECRET", "az login"):
        assert word in message, message
    assert arm.requests() == []  # not one call reached ARM
