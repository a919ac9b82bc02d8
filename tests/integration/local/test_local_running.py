"""A running local workbench and what a later run asks of it.

Bad input never breaks it: each refused run leaves the container exactly as it was (same id,
same state, same start time, same process), and the loop devices and the state directory's
files too. An explicit disk choice other than the disk the instance holds is an error (no such
snapshot / disk), never a silent exit 0. The runs have no CONTAINERS_CONF: cloud_local passes
podman the runtime and the limits this machine needs itself.
"""

from __future__ import annotations

import json
import resource
import socket
from typing import Any

import pytest
from local_helpers import Workbench, inventory, sh


def container_state(name: str) -> dict[str, Any]:
    [found] = json.loads(sh("podman", "container", "inspect", name))
    state = found["State"]
    return {
        "id": found["Id"],
        "status": state["Status"],
        "started": state["StartedAt"],
        "pid": state["Pid"],
        "ports": found["HostConfig"]["PortBindings"],
        "labels": found["Config"]["Labels"],
    }


@pytest.fixture
def running(workbench: Workbench) -> Workbench:
    assert "CONTAINERS_CONF" not in workbench.env
    up = workbench.provision(workbench_configure=False)
    assert up.rc == 0, up.explain()
    return workbench


def test_the_instance_runs_without_a_containers_conf(running: Workbench) -> None:
    # The limits podman was given are within this machine's hard limits.
    limits = sh("podman", "exec", running.container, "cat", "/proc/1/limits")
    rows = {line[:26].strip(): line[26:].split() for line in limits.splitlines()[1:]}
    for row, kind in (("Max open files", resource.RLIMIT_NOFILE),
                      ("Max processes", resource.RLIMIT_NPROC)):  # fmt: skip
        hard = resource.getrlimit(kind)[1]
        soft_in, hard_in = (int(v) for v in rows[row][:2])
        assert soft_in <= hard_in <= hard, (row, rows[row], hard)


def refused(workbench: Workbench, words: list[str], **extra: Any) -> None:
    before = container_state(workbench.container), inventory(workbench.state_dir, workbench.name)
    run = workbench.provision(**{"workbench_configure": False, **extra})
    assert run.rc != 0, run.explain()
    message = " ".join(run.failure().split())
    for word in words:
        assert word in message, message
    after = container_state(workbench.container), inventory(workbench.state_dir, workbench.name)
    assert after == before


def test_bad_input_leaves_the_running_instance_as_it_was(running: Workbench) -> None:
    disk = running.metadata("disks")[0]["id"]
    # An address this machine does not have: podman would remove the container, then fail
    # to publish on it.
    refused(running, ["203.0.113.7", "not an address of this machine"],
            workbench_allowed_cidr="203.0.113.7")  # fmt: skip
    refused(running, ["one address"], workbench_allowed_cidr="127.0.0.0/8")
    # Explicit disk choices that do not exist: errors, never ignored.
    refused(running, ["snap-0000000bad"], workbench_disk_source="snapshot",
            workbench_snapshot_id="snap-0000000bad")  # fmt: skip
    refused(running, ["disk-0000000bad", "not found"], workbench_disk_source="existing",
            workbench_disk_id="disk-0000000bad")  # fmt: skip
    refused(running, ["no completed snapshot"], workbench_disk_source="snapshot",
            workbench_snapshot_id="latest")  # fmt: skip
    # A new port that another program holds: the container would be remade on it.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        refused(running, [str(busy), "in use"], workbench_notebook_port=busy)
    # The input the workbench was made with still works, and changes nothing.
    again = running.provision(workbench_configure=False, workbench_disk_source="existing",
                              workbench_disk_id=disk)  # fmt: skip
    assert again.rc == 0, again.explain()
    assert again.changed == 0, again.changed_tasks()


def test_an_explicit_new_disk_on_a_running_instance_is_said(running: Workbench) -> None:
    before = container_state(running.container)
    [disk] = running.metadata("disks")
    again = running.provision(workbench_configure=False, workbench_disk_source="new")
    assert again.rc == 0, again.explain()
    [said] = [r["msg"] for _host, name, r in again.results()
              if name.endswith("Say that the instance keeps the data disk it holds")]  # fmt: skip
    assert f"holds data disk {disk['id']}" in said and "no new disk was made" in said
    assert [d["id"] for d in running.metadata("disks")] == [disk["id"]]
    assert container_state(running.container) == before
