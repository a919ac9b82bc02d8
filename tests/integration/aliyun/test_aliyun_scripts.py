"""The wrapper scripts with --cloud aliyun against the ECS double: the keys from the
ALIYUN_ACCESS_KEY_ID / ALIYUN_ACCESS_KEY_SECRET users know, start with a new disk, delete
with a snapshot and the disk; the secret never shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from aliyun_helpers import ACCESS_KEY, ALLOWED_CIDR, REGION, ROOT, SECRET, Double, Workbench

pytestmark = pytest.mark.aliyun

START = ROOT / "scripts" / "start_instance.py"
DELETE = ROOT / "scripts" / "delete_instance.py"


def script(path: Path, workbench: Workbench, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(workbench.env, HOME=str(home), WORKBENCH_NOTEBOOK_PASSWORD="unused-here-1")
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    common = ["--cloud", "aliyun", "--name", workbench.name, "--region", REGION, "--yes",
              "--state-dir", str(home / "state")]  # fmt: skip
    return subprocess.run(
        [sys.executable, str(path), *common, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_start_and_delete_through_the_scripts(
    double: Double, workbench: Workbench, tmp_path: Path
) -> None:
    assert "ALICLOUD_ACCESS_KEY" not in workbench.env  # only the ALIYUN_* names are given
    home = tmp_path / "home"
    home.mkdir()
    started = script(
        START, workbench, home, "--disk", "new", "--no-configure", "--allowed-cidr", ALLOWED_CIDR
    )
    output = started.stdout + started.stderr
    assert started.returncode == 0, output
    [instance] = double.tagged("inst", workbench.name)
    assert f"instance:  {instance['InstanceId']} (spot, aliyun)" in output
    [launch] = double.calls("RunInstances")
    assert launch["SpotStrategy"] == "SpotAsPriceGo"
    # Every call was signed with the key given as ALIYUN_ACCESS_KEY_ID.
    assert {c["access_key"] for c in double.requests()} == {ACCESS_KEY}
    assert SECRET not in output

    deleted = script(DELETE, workbench, home, "--snapshot", "--delete-disk")
    output = deleted.stdout + deleted.stderr
    assert deleted.returncode == 0, output
    assert SECRET not in output
    assert double.tagged("inst", workbench.name) == []
    assert double.tagged("disk", workbench.name) == []
    assert double.tagged("vpc", workbench.name) == []
    [snapshot] = double.tagged("snap", workbench.name)
    assert snapshot["Status"] == "accomplished"
