"""Two provisions of one workbench at once leave one disk and one instance: the second says
at once who holds the workbench's lock, or waits for it with workbench_lock_wait."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from local_helpers import Workbench, inventory
from playbook_run import Run


def holder(workbench: Workbench) -> dict:
    path = (
        Path(workbench.env["HOME"])
        / ".local/state/mlbox/locks"
        / f"local-{workbench.name}.holder.json"
    )
    return json.loads(path.read_text()) if path.exists() else {}


def test_two_concurrent_provisions_make_one_disk_and_one_instance(workbench: Workbench) -> None:
    runs: dict[str, Run] = {}

    def provision(key: str, **extra: object) -> threading.Thread:
        thread = threading.Thread(
            target=lambda: runs.update(
                {key: workbench.provision(workbench_configure=False, **extra)}
            )
        )
        thread.start()
        return thread

    first = provision("first")
    deadline = time.monotonic() + 120
    while not holder(workbench):
        assert first.is_alive() and time.monotonic() < deadline, runs
        time.sleep(0.05)
    held_by = holder(workbench)
    waiting = provision("waiting", workbench_lock_wait=True)
    busy = workbench.provision(workbench_configure=False)
    first.join(600)
    waiting.join(600)

    assert busy.rc != 0
    said = " ".join(busy.failure().split())
    assert f"Workbench '{workbench.name}' (cloud=local) is busy" in said, said
    assert f"pid {held_by['pid']} (ansible-playbook -e" in said and "since 20" in said, said
    assert "workbench_lock_wait=true" in said
    assert runs["first"].rc == 0, runs["first"].explain()
    assert runs["waiting"].rc == 0, runs["waiting"].explain()
    assert len(workbench.metadata("disks")) == 1
    assert inventory(workbench.state_dir)["containers"] == [workbench.container]
    assert (
        runs["waiting"].fact("workbench_instance")["disk_id"]
        == workbench.metadata("disks")[0]["id"]
    )
