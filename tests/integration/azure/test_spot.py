"""A Spot refusal without the fallback fails at once and names the switch; the teardown
after it finds the half-built workbench by its tags. (The fallback to Regular and the Spot
parameters on the wire are in test_lifecycle.py, on its provisions.)"""

from __future__ import annotations

import pytest
from azure_helpers import Arm, Workbench

pytestmark = pytest.mark.azure


def test_spot_refusal_without_fallback_fails_clearly(arm: Arm, workbench: Workbench) -> None:
    arm.inject(
        {
            "method": "PUT",
            "type": "Microsoft.Compute/virtualMachines",
            "match": {"properties.priority": "Spot"},
            "code": "OverconstrainedAllocationRequest",
            "status": 409,
            "message": "Allocation failed. VM(s) with the following constraints cannot be "
            "allocated, because the condition is too restrictive.",
        }
    )
    run = workbench.up(workbench_spot_fallback=False, workbench_spot_max_price="0.05")
    assert run.rc != 0
    message = run.failure()
    assert "OverconstrainedAllocationRequest" in message, message
    assert "workbench_spot_fallback" in message, message
    puts = [
        r
        for r in arm.requests()
        if r["method"] == "PUT" and r["path"].rstrip("/").lower() == workbench.vm_id.lower()
    ]
    assert len(puts) == 1
    asked = puts[0]["body"]["properties"]
    assert asked["priority"] == "Spot"
    assert asked["billingProfile"]["maxPrice"] == 0.05
    assert arm.get(workbench.vm_id) is None
    [disk] = arm.of_kind("Microsoft.Compute/disks", workbench.name)
    # The disk waits for a retry, bound to the VM that never came: what a teardown finds
    # after a killed run. It finds it by that tag and takes everything away.
    assert disk["tags"]["mlbox-instance"] == workbench.name
    down = workbench.down(workbench_delete_disk=True)
    assert down.rc == 0, down.explain()
    assert ("DELETE", disk["id"].lower()) in [
        (r["method"], r["path"].lower()) for r in arm.requests()
    ]
    assert [k for k in arm.state() if workbench.name in k] == []
