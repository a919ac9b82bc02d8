"""workbench_lock: one holder at a time, the holder named to the others, the caller's own
family let through, and a lock whose holder was killed taken over at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.mlbox.workbench.plugins.module_utils import workbench_lock

# Holds the lock of argv[1] (written as a holder with pid = its own) until killed.
HOLD = """
import importlib.util, os, sys, time
spec = importlib.util.spec_from_file_location("workbench_lock", sys.argv[2])
w = importlib.util.module_from_spec(spec)
spec.loader.exec_module(w)
me = {"pid": os.getpid(), "command": "holder-under-test", "since": w.utc_now()}
w.acquire(sys.argv[1], me)
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture
def lock(tmp_path: Path) -> str:
    return workbench_lock.lock_path("local", "wb", str(tmp_path / "locks"))


@pytest.fixture
def other_holder(lock: str):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, lock, workbench_lock.__file__],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout and proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def me(pid: int | None = None) -> dict:
    return {"pid": pid or os.getpid(), "command": "test", "since": workbench_lock.utc_now()}


def test_the_lock_dir_follows_the_state_home() -> None:
    assert workbench_lock.lock_dir({"XDG_STATE_HOME": "/s"}) == "/s/mlbox/locks"
    assert workbench_lock.lock_dir({"HOME": "/h"}) == "/h/.local/state/mlbox/locks"
    assert workbench_lock.lock_path("aws", "exp2", "/d") == "/d/aws-exp2.lock"


def test_a_free_lock_is_taken_and_its_holder_written(lock: str) -> None:
    fd = workbench_lock.acquire(lock, me())
    assert isinstance(fd, int)
    assert workbench_lock.read_holder(lock)["pid"] == os.getpid()
    os.close(fd)


def test_another_holder_is_named_at_once(lock: str, other_holder) -> None:
    with pytest.raises(workbench_lock.LockHeld) as held:
        workbench_lock.acquire(lock, me(), {os.getpid()})
    assert held.value.holder["pid"] == other_holder.pid
    assert f"pid {other_holder.pid} (holder-under-test), since " in str(held.value)


def test_a_run_under_the_holder_goes_on(lock: str, other_holder) -> None:
    # The holder's child (ansible-playbook under the wrapper script) is let through.
    assert workbench_lock.acquire(lock, me(), {os.getpid(), other_holder.pid}) is None


def test_a_killed_holder_leaves_the_lock_free(lock: str, other_holder) -> None:
    os.kill(other_holder.pid, signal.SIGKILL)
    other_holder.wait()
    fd = workbench_lock.acquire(lock, me())
    assert fd is not None
    assert workbench_lock.read_holder(lock)["pid"] == os.getpid()  # the old info replaced
    os.close(fd)


def test_waiting_ends_when_the_holder_ends_or_times_out(lock: str, other_holder) -> None:
    seen: list[dict] = []
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            os.kill(other_holder.pid, signal.SIGKILL)
            other_holder.wait()

    fd = workbench_lock.acquire(lock, me(), wait=True, on_wait=seen.append, sleep=nap)
    assert fd is not None and [s["pid"] for s in seen] == [other_holder.pid]
    assert naps == [0.05, 0.1, 0.2]  # backoff, not whole seconds
    os.close(fd)


def test_waiting_with_a_timeout_gives_up(lock: str, other_holder) -> None:
    with pytest.raises(workbench_lock.LockHeld) as held:
        workbench_lock.acquire(lock, me(), wait=True, timeout=0.2)
    assert held.value.waited >= 0.2


def test_lineage_and_command_of_this_process() -> None:
    family = workbench_lock.lineage(os.getpid())
    assert os.getpid() in family and os.getppid() in family
    # This process's own command line, as /proc holds it (pytest, or an xdist worker's).
    expected = Path(f"/proc/{os.getpid()}/cmdline").read_bytes().split(b"\0")
    assert workbench_lock.command_of(os.getpid()) in " ".join(a.decode() for a in expected if a)
