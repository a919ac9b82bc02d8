"""Spot refused the ways Azure refuses it, against the double's fault catalogue and quotas.

1. Without the fallback, an allocation failure that arrives through the long-running
   operation (AllocationFailed: Azure accepted the PUT, then left the VM Failed, holding the
   data disk) fails at once naming the switch; the failed VM and its OS disk are deleted, the
   data disk kept and free for the next VM.
2. The next up, with the fallback, meets a synchronous 409 OperationNotAllowed for the Spot
   quota (LowPriorityCores) and makes a Regular VM on that same data disk.
3. The teardown finds it all by its tags and takes it away.
(The fallback after an allocation failure, with the fallback allowed, is step 1 of
test_lifecycle.py; eviction is its step 4.)"""

from __future__ import annotations

import pytest
from azure_helpers import Arm, Workbench, resource_id
from test_lifecycle import DISKS, refuse_spot_once, requests_to, vm_puts

pytestmark = pytest.mark.azure


def test_spot_refused_through_the_operation_then_by_quota(arm: Arm, workbench: Workbench) -> None:
    refuse_spot_once(arm, "AllocationFailed")
    run = workbench.up(workbench_spot_fallback=False, workbench_spot_max_price="0.05")
    assert run.rc != 0
    message = run.failure()
    assert "AllocationFailed" in message, message
    assert "workbench_spot_fallback" in message, message
    [put] = vm_puts(arm, workbench)
    assert put["status"] == 201  # accepted: the failure came through the operation
    asked = put["body"]["properties"]
    assert asked["priority"] == "Spot"
    assert asked["evictionPolicy"] == "Deallocate"
    assert asked["billingProfile"]["maxPrice"] == 0.05
    # The Failed VM and its OS disk are gone; the data disk is kept, free, still bound to the
    # workbench's VM for the next try.
    os_disk = resource_id(workbench.group, "Compute/disks", f"{workbench.name}-os")
    assert requests_to(arm, "DELETE", workbench.vm_id) and requests_to(arm, "DELETE", os_disk)
    assert arm.get(workbench.vm_id) is None and arm.get(os_disk) is None
    [disk] = arm.of_kind(DISKS, workbench.name)
    assert requests_to(arm, "DELETE", disk["id"]) == []
    assert "managedBy" not in disk and disk["properties"]["diskState"] == "Unattached"
    assert disk["tags"]["mlbox-instance"] == workbench.name

    # Spot's quota pool is used up: a synchronous 409; the fallback makes a Regular VM.
    arm.configure(quota={"lowPriorityCores": 0})
    arm.forget_requests()
    run = workbench.up()
    assert run.rc == 0, run.explain()
    refused, regular = vm_puts(arm, workbench)
    assert (refused["status"], refused["code"]) == (409, "OperationNotAllowed")
    assert refused["body"]["properties"]["priority"] == "Spot"
    assert "priority" not in regular["body"]["properties"] and regular["status"] == 201
    vm = arm.get(workbench.vm_id)
    assert vm["properties"]["provisioningState"] == "Succeeded"
    assert "priority" not in vm["properties"]
    assert run.fact("workbench_instance")["spot"] is False
    [held] = vm["properties"]["storageProfile"]["dataDisks"]
    assert held["managedDisk"]["id"].lower() == disk["id"].lower()  # the same data disk
    assert requests_to(arm, "PUT", disk["id"]) == []

    down = workbench.down(workbench_delete_disk=True)
    assert down.rc == 0, down.explain()
    assert ("DELETE", disk["id"].lower()) in [
        (r["method"], r["path"].lower()) for r in arm.requests()
    ]
    assert [k for k in arm.state() if workbench.name in k] == []
