"""The wrapper scripts with --cloud aws against the moto server: credentials from the
standard AWS variables, start with a new disk, delete with a snapshot and the disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from aws_helpers import ALLOWED_CIDR, REGION, ROOT, Moto, Workbench

pytestmark = pytest.mark.aws

START = ROOT / "scripts" / "start_instance.py"
DELETE = ROOT / "scripts" / "delete_instance.py"


def script(path: Path, workbench: Workbench, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(workbench.env, HOME=str(home), WORKBENCH_NOTEBOOK_PASSWORD="unused-here-1")
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    common = ["--cloud", "aws", "--name", workbench.name, "--region", REGION, "--yes",
              "--state-dir", str(home / "state")]  # fmt: skip
    return subprocess.run(
        [sys.executable, str(path), *common, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def live(moto: Moto, name: str) -> list[str]:
    flt = [{"Name": "tag:mlbox:workbench", "Values": [name]}]
    return [
        i["InstanceId"]
        for r in moto.ec2.describe_instances(Filters=flt)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]


def test_start_and_delete_through_the_scripts(
    moto: Moto, workbench: Workbench, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # The wrapper's test: the scripts' runs poll at the role's production interval (10 s
    # between two looks at a snapshot), so snapshots and attachments settle on their first
    # read here; test_lifecycle covers the role's waits for them.
    moto.settle(snapshots=1, attachments=1)
    started = script(
        START, workbench, home, "--disk", "new", "--no-configure", "--allowed-cidr", ALLOWED_CIDR
    )
    assert started.returncode == 0, started.stdout + started.stderr
    [instance_id] = live(moto, workbench.name)
    assert f"instance:  {instance_id} (spot, aws)" in started.stdout
    assert "testing" not in started.stdout + started.stderr  # the dummy secret key

    deleted = script(DELETE, workbench, home, "--snapshot", "--delete-disk")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert live(moto, workbench.name) == []
    flt = [{"Name": "tag:mlbox:workbench", "Values": [workbench.name]}]
    assert moto.ec2.describe_volumes(Filters=flt)["Volumes"] == []
    [snapshot] = moto.ec2.describe_snapshots(Filters=flt, OwnerIds=["self"])["Snapshots"]
    assert snapshot["State"] == "completed"
