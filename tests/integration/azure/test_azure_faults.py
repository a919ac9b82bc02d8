"""Faults on Azure: runs killed at the worst moments, snapshots that fail or never finish, a
VM whose SSH never answers.

A kill is SIGKILL to the whole process tree of ansible-playbook (Mitogen's multiplexer calls
setsid, so the process group alone is not enough), sent once the ARM double has accepted the
PUT named: the run dies with that resource made and nothing after it; Azure finishes the
operation on its own (the double too). The next run must converge on what exists, with no
duplicates.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from azure_helpers import DRIVER, LOCATION, ROOT, Arm, Workbench, group_id, run_playbook
from playbook_run import killed_when, playbook_args
from test_lifecycle import (
    DISKS,
    SNAPSHOTS,
    TAG,
    assert_access_rules,
    assert_up,
    decoys,
    requests_to,
)

pytestmark = pytest.mark.azure

NSGS = "Microsoft.Network/networkSecurityGroups"
VMS = "Microsoft.Compute/virtualMachines"
NICS = "Microsoft.Network/networkInterfaces"
IPS = "Microsoft.Network/publicIPAddresses"
VNETS = "Microsoft.Network/virtualNetworks"
TEARDOWN = {"workbench_snapshot_on_delete": True, "workbench_delete_disk": True}


def accepted_puts(arm: Arm, kind: str) -> list[dict[str, Any]]:
    """The PUTs of resources of that type ('Microsoft.Compute/disks') the double accepted."""
    tail = "/providers/" + kind.lower() + "/"
    return [
        r
        for r in arm.requests()
        if r["method"] == "PUT"
        and tail in r["path"].lower()
        and r["path"].lower().split(tail, 1)[1].count("/") == 0
        and r["status"] < 300
    ]


def killed_at(arm: Arm, workbench: Workbench, entry: str, kind: str, **extra: Any) -> None:
    """Run one entry point and kill its process tree right after the double accepted a PUT
    of a resource of `kind`."""
    arm.forget_requests()
    extra_vars = {**workbench.base_vars, "cloud_azure_entry": entry, **extra}
    args = playbook_args(DRIVER, extra_vars)
    killed_when(args, workbench.env, lambda: bool(accepted_puts(arm, kind)), settle=0.3)


def data_disks(arm: Arm, workbench: Workbench) -> list[dict[str, Any]]:
    """The workbench's data disks (its OS disk carries no workbench tag)."""
    return [d for d in arm.of_kind(DISKS, workbench.name) if d["tags"].get("mlbox-disk") == "data"]


def left_of(arm: Arm, workbench: Workbench) -> set[str]:
    return {k for k in arm.state() if workbench.name in k}


def test_a_failed_or_stuck_snapshot_keeps_the_disk(arm: Arm, workbench: Workbench) -> None:
    """a Failed snapshot stops teardown at once, a stuck one at the timeout; the disk is kept

    Each is named with its state; no DELETE goes to the disk; the rerun without the fault
    completes (and prunes the failed snapshot)."""
    facts = assert_up(workbench.up(), arm, workbench)
    disk_id = facts["disk_id"]
    disk_name = disk_id.rsplit("/", 1)[1]
    arm.forget_requests()

    arm.inject({"method": "PUT", "type": SNAPSHOTS, "outcome": "Failed", "times": 1})
    run = workbench.down(workbench_azure_snapshot_timeout=300, **TEARDOWN)
    assert run.rc != 0, run.explain()
    [failed] = arm.of_kind(SNAPSHOTS, workbench.name)
    assert failed["properties"]["provisioningState"] == "Failed"
    said = run.failure()
    assert f"snapshot {failed['name']} of disk {disk_name}: Failed" in said, said
    # Not waited for: a look or two after the PUT saw it Failed, far from the 300 s.
    looks = [r["time"] for r in arm.requests() if r["path"].lower() == failed["id"].lower()]
    assert looks[-1] - looks[0] < 15, looks

    arm.inject({"method": "PUT", "type": SNAPSHOTS, "outcome": "stuck", "times": 1})
    run = workbench.down(workbench_azure_snapshot_timeout=3, **TEARDOWN)
    assert run.rc != 0, run.explain()
    [stuck] = [s for s in arm.of_kind(SNAPSHOTS, workbench.name) if s["id"] != failed["id"]]
    assert stuck["properties"]["completionPercent"] == 0
    message = run.failure()
    assert f"snapshot {stuck['name']} of disk {disk_name}: Succeeded, copied 0.0 %" in message
    assert "workbench_azure_snapshot_timeout" in message, message

    # Whatever the snapshots did, the disk is there, still bound for the next try, and the
    # VM was not deleted either.
    [disk] = data_disks(arm, workbench)
    assert disk["id"].lower() == disk_id.lower()
    assert disk["tags"]["mlbox-instance"] == workbench.name
    assert requests_to(arm, "DELETE", disk_id) == []
    assert [r for r in arm.mutations() if r[0] == "DELETE"] == []
    assert arm.get(workbench.vm_id) is not None

    arm.clear_faults()
    run = workbench.down(**TEARDOWN)
    assert run.rc == 0, run.explain()
    assert data_disks(arm, workbench) == []
    snapshots = {s["id"]: s for s in arm.of_kind(SNAPSHOTS, workbench.name)}
    # The failed one is pruned; the stuck one is left to finish; the new one completed.
    assert failed["id"] not in snapshots and stuck["id"] in snapshots
    [done] = [s for s in snapshots.values() if s["id"] != stuck["id"]]
    assert done["properties"]["completionPercent"] == 100
    assert done["properties"]["creationData"]["sourceResourceId"].lower() == disk_id.lower()
    # Nothing else of the workbench: the data group stays for its two snapshots.
    assert left_of(arm, workbench) == {
        group_id(workbench.data_group).lower(),
        done["id"].lower(),
        stuck["id"].lower(),
    }


def test_killed_provisions_converge_and_unanswered_ssh_names_the_teardown(
    arm: Arm, workbench: Workbench, tmp_path: Path
) -> None:
    """killed provisions converge; SSH that never answers names it all and the teardown

    Each rerun goes one step further on what the killed one left; the full one (host
    configuration asked, so it waits for SSH) leaves exactly one NSG, VM, data disk, NIC and
    public IP, then fails naming them, both groups, the location and the teardown command;
    that command leaves only the data disk in its group (the decoys untouched)."""
    others = decoys(arm)
    # up makes the groups, network and NSG, public IP and NIC, then the data disk (tagged as
    # bound to the VM), then the VM that takes it.
    for kind in (NSGS, DISKS, VMS):
        killed_at(arm, workbench, "up", kind)
        assert len(arm.of_kind(NSGS, workbench.name)) == 1, kind
        assert len(data_disks(arm, workbench)) <= 1, (kind, data_disks(arm, workbench))
        assert len(arm.of_kind(VMS, workbench.name)) <= 1, kind
    assert len(data_disks(arm, workbench)) == 1
    assert len(arm.of_kind(VMS, workbench.name)) == 1

    # The full provision: the double's public IPs are addresses nothing answers on, so the
    # SSH wait gives up once everything is there.
    arm.forget_requests()
    run = workbench.up(workbench_configure=True, workbench_azure_ssh_timeout=3)
    assert run.rc != 0, run.explain()
    assert accepted_puts(arm, DISKS) == []  # the killed run's disk, not a second one
    [vm] = arm.of_kind(VMS, workbench.name)
    [disk] = data_disks(arm, workbench)
    [nsg] = arm.of_kind(NSGS, workbench.name)
    for kind in (NICS, IPS, VNETS):
        assert len(arm.of_kind(kind, workbench.name)) == 1, kind
    [held] = vm["properties"]["storageProfile"]["dataDisks"]
    assert (held["lun"], held["managedDisk"]["id"].lower()) == (0, disk["id"].lower())
    assert disk["managedBy"].lower() == vm["id"].lower()
    assert_access_rules(arm, workbench)

    message = run.failure()
    for named in (vm["name"], vm["id"], disk["name"], nsg["name"], workbench.group,
                  workbench.data_group, LOCATION, "workbench_azure_ssh_timeout",
                  "-e workbench_delete_disk=true"):  # fmt: skip
        assert named in message, (named, message)
    command = re.search(r"ansible-playbook (playbooks/teardown\.yml(?: -e \S+)+)", message)
    assert command, message
    assert command[1].startswith(
        f"playbooks/teardown.yml -e cloud=azure -e workbench_name={workbench.name} "
        f"-e workbench_region={LOCATION}"
    ), command[1]

    # The command it names, as it is (a HOME of its own), removes all but the data disk.
    teardown_vars = dict(arg.split("=", 1) for arg in re.findall(r"-e (\S+)", command[1]))
    home = tmp_path / "home"
    home.mkdir()
    env = dict(workbench.env, HOME=str(home))
    down = run_playbook(ROOT / "playbooks" / "teardown.yml", teardown_vars, env)
    assert down.rc == 0, down.explain()
    assert left_of(arm, workbench) == {group_id(workbench.data_group).lower(), disk["id"].lower()}
    kept = arm.get(disk["id"])
    assert "managedBy" not in kept and "mlbox-instance" not in kept["tags"]
    assert kept["tags"][TAG] == workbench.name

    for rid in others.values():  # someone else's group, disk and snapshot: untouched
        assert arm.get(rid) is not None, rid
