"""The whole local lifecycle, configured for real: new disk -> snapshot -> existing disk ->
restore from latest -> delete, with a file written through the notebook surviving each step."""

from __future__ import annotations

import json

from local_helpers import Notebook, Workbench, inventory, sh

NOTE = "written through the notebook before the first teardown\n"


def container_exists(name: str) -> bool:
    return name in sh("podman", "ps", "-a", "--format", "{{.Names}}").split()


def test_lifecycle_new_snapshot_existing_restore_delete(workbench: Workbench) -> None:
    # 1. A new disk; the notebook answers over HTTPS with the password; a file goes in.
    up = workbench.provision()
    assert up.rc == 0, up.explain()
    instance = up.fact("workbench_instance")
    assert instance["cloud"] == "local"
    assert instance["disk_origin"] == "new"
    first_disk = instance["disk_id"]
    assert instance["disk_device_hint"]["device"].startswith("/dev/loop")
    Notebook(workbench.notebook_port).write("keep.txt", NOTE)
    # Announced with its address as soon as it answered, before the tools' wait and git_keys.
    names = [name for _play, name, _result in up.results()]
    [said] = [
        r["msg"] for _play, name, r in up.results() if name == "Say that the notebook answers"
    ]
    assert said.startswith(f"Notebook answers at https://127.0.0.1:{workbench.notebook_port}/")
    first_git_keys = next(i for i, name in enumerate(names) if "git_keys :" in name)
    assert names.index("Say that the notebook answers") < first_git_keys
    mounted = sh("podman", "exec", workbench.container, "findmnt", "-n", "-o", "SOURCE", "/mnt/ml")
    assert mounted.strip() == instance["disk_device_hint"]["device"]
    # The local "security group": exactly SSH and the notebook, on 127.0.0.1 only.
    ports = json.loads(sh("podman", "inspect", "--format", "{{json .HostConfig.PortBindings}}",
                          workbench.container))  # fmt: skip
    published = sorted(
        (inside, bind["HostIp"], int(bind["HostPort"]))
        for inside, binds in ports.items()
        for bind in binds
    )
    assert published == sorted(
        [
            ("22/tcp", "127.0.0.1", workbench.base_vars["workbench_local_ssh_port"]),
            (f"{workbench.notebook_port}/tcp", "127.0.0.1", workbench.notebook_port),
        ]
    ), ports

    # 2. A second run changes nothing, on the controller or on the instance.
    again = workbench.provision()
    assert again.rc == 0, again.explain()
    assert again.changed == 0, again.changed_tasks()
    assert again.fact("workbench_instance")["disk_id"] == first_disk

    # 3. Teardown with a snapshot: no container, no loop device, the disk kept and unbound.
    down = workbench.teardown(workbench_snapshot_on_delete=True)
    assert down.rc == 0, down.explain()
    assert not container_exists(workbench.container)
    assert inventory(workbench.state_dir)["loops"] == []
    [snap1] = workbench.metadata("snapshots")
    assert snap1["status"] == "completed" and snap1["disk_id"] == first_disk
    [disk] = workbench.metadata("disks")
    assert disk["id"] == first_disk and disk["bound_to"] == ""

    # 4. Back on the existing disk: the file is there.
    up = workbench.provision(workbench_disk_source="existing", workbench_disk_id=first_disk)
    assert up.rc == 0, up.explain()
    assert up.fact("workbench_instance")["disk_origin"] == "existing"
    assert Notebook(workbench.notebook_port).read("keep.txt") == NOTE

    # 5. Teardown keeping the disk, with a second snapshot and a retention of one.
    down = workbench.teardown(workbench_snapshot_on_delete=True, workbench_keep_snapshots=1)
    assert down.rc == 0, down.explain()
    snapshots = workbench.metadata("snapshots")
    assert [s["id"] for s in snapshots] != [snap1["id"]]
    assert len(snapshots) == 1 and snapshots[0]["status"] == "completed"
    snap2 = snapshots[0]

    # 6. Restored from the latest snapshot into a new disk: the file is there.
    up = workbench.provision(workbench_disk_source="snapshot", workbench_snapshot_id="latest")
    assert up.rc == 0, up.explain()
    restored = up.fact("workbench_instance")
    assert restored["disk_origin"] == "snapshot"
    assert restored["disk_id"] != first_disk
    assert Notebook(workbench.notebook_port).read("keep.txt") == NOTE
    listing = workbench.disks(workbench_disks_output=str(workbench.state_dir / "list.json"))
    assert listing.rc == 0, listing.explain()
    listed = json.loads((workbench.state_dir / "list.json").read_text())
    by_id = {d["id"]: d for d in listed["workbench_disks"]}
    assert by_id[restored["disk_id"]]["snapshot_id"] == snap2["id"]
    assert by_id[restored["disk_id"]]["status"] == "in-use"
    assert by_id[first_disk]["status"] == "available"
    (workbench.state_dir / "list.json").unlink()

    # 7. Teardown deleting the disk, then deleting the kept first disk by its id: nothing left
    #    but the snapshot the retention keeps.
    down = workbench.teardown(workbench_delete_disk=True)
    assert down.rc == 0, down.explain()
    assert [d["id"] for d in workbench.metadata("disks")] == [first_disk]
    down = workbench.teardown(workbench_delete_disk=True, workbench_disk_id=first_disk)
    assert down.rc == 0, down.explain()
    left = inventory(workbench.state_dir)
    assert workbench.container not in left["containers"]
    assert left["loops"] == []
    assert not [f for f, _size in left["files"] if f.endswith(".img")]
    assert [s["id"] for s in workbench.metadata("snapshots")] == [snap2["id"]]
