"""Two runs of one workbench at once: the second says at once who holds the workbench's lock
and exits 5, or waits with --wait; another workbench is not held up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, StubEnv

START = REPO / "scripts" / "start_instance.py"
DELETE = REPO / "scripts" / "delete_instance.py"


@pytest.fixture
def state_home(stub: StubEnv, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = stub.tmp / "state-home"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


def script(path: Path, *args: str, stub: StubEnv) -> list[str]:
    return [sys.executable, str(path), "--yes", "--state-dir", str(stub.state_dir), *args]


def holder_of(home: Path, name: str = "mlbox") -> dict:
    path = home / "mlbox" / "locks" / f"local-{name}.holder.json"
    return json.loads(path.read_text()) if path.exists() else {}


def started(stub: StubEnv, home: Path) -> subprocess.Popen[str]:
    """A start that sleeps in its playbook, once it holds the lock."""
    first = subprocess.Popen(
        script(START, "--disk", "new", stub=stub),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "STUB_SLEEP": "3"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while holder_of(home).get("pid") != first.pid:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return first


def test_a_second_run_says_who_holds_the_workbench(stub: StubEnv, state_home: Path) -> None:
    first = started(stub, state_home)
    try:
        began = time.monotonic()
        second = subprocess.run(
            script(DELETE, "--no-snapshot", stub=stub),
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert second.returncode == 5, second.stderr
        assert time.monotonic() - began < 15  # at once, not after the first run
        assert "workbench 'mlbox' (local) is busy" in second.stderr
        assert f"pid {first.pid} (start_instance.py --yes --state-dir" in second.stderr
        assert "since 20" in second.stderr and "--wait" in second.stderr
        assert not stub.was_run("teardown")
        # Another workbench is not held up.
        other = subprocess.run(
            script(START, "--disk", "new", "--name", "other", stub=stub),
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert other.returncode == 0, other.stderr
    finally:
        _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err


def test_wait_runs_after_the_holder(stub: StubEnv, state_home: Path) -> None:
    first = started(stub, state_home)
    second = subprocess.run(
        script(DELETE, "--no-snapshot", "--wait", stub=stub),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    first.communicate(timeout=60)
    assert second.returncode == 0, second.stderr
    assert f"waiting for the workbench's lock, held by pid {first.pid}" in second.stdout
    assert first.returncode == 0
    # The teardown ran only once the start was over: its record is the newer one.
    provision = Path(f"{stub.record}-provision.json").stat().st_mtime
    assert Path(f"{stub.record}-teardown.json").stat().st_mtime >= provision
