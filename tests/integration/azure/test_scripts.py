"""The wrapper scripts with --cloud azure against the ARM double: the service principal from
AZURE_CLIENT_ID / AZURE_SECRET / AZURE_TENANT / AZURE_SUBSCRIPTION_ID, start with a new disk,
delete with the disk; the secret is never printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from azure_helpers import (
    ALLOWED_CIDR,
    CLIENT_SECRET,
    LOCATION,
    ROOT,
    SUBSCRIPTION,
    Arm,
    Workbench,
    group_id,
)

pytestmark = pytest.mark.azure

START = ROOT / "scripts" / "start_instance.py"
DELETE = ROOT / "scripts" / "delete_instance.py"


def script(path: Path, workbench: Workbench, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(workbench.env, HOME=str(home), WORKBENCH_NOTEBOOK_PASSWORD="unused-here-1")
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    common = ["--cloud", "azure", "--name", workbench.name, "--region", LOCATION, "--yes",
              "--state-dir", str(home / "state")]  # fmt: skip
    return subprocess.run(
        [sys.executable, str(path), *common, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def test_start_and_delete_through_the_scripts(
    arm: Arm, workbench: Workbench, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    started = script(
        START, workbench, home, "--disk", "new", "--no-configure", "--allowed-cidr", ALLOWED_CIDR
    )
    output = started.stdout + started.stderr
    assert started.returncode == 0, output
    vm = arm.get(workbench.vm_id)
    assert vm is not None and vm["properties"]["priority"] == "Spot"
    # The wrapper counts the subscription id among the credentials: it is masked too.
    shown = vm["id"].replace(SUBSCRIPTION, "********")
    assert f"instance:  {shown} (spot, azure)" in output
    assert SUBSCRIPTION not in output
    assert CLIENT_SECRET not in output
    # The run's recorded environment and log hold no secret either.
    runs = home / "state" / "_runs" / workbench.name
    for recorded in runs.rglob("*"):
        if recorded.is_file():
            assert CLIENT_SECRET not in recorded.read_text(errors="replace"), recorded

    deleted = script(DELETE, workbench, home, "--no-snapshot", "--delete-disk")
    output = deleted.stdout + deleted.stderr
    assert deleted.returncode == 0, output
    assert CLIENT_SECRET not in output
    # Nothing kept: no disk, no snapshot, so both resource groups are gone.
    assert arm.get(group_id(workbench.group)) is None
    assert arm.get(group_id(workbench.data_group)) is None
    assert [k for k in arm.state() if workbench.name in k] == []
