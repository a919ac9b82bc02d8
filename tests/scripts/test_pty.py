"""The scripts on a pseudo-terminal, driven like a person would (pexpect): the seed's
[n]ew / [e]xisting / [s]napshot question, a numbered list, hidden password prompts, the
delete questions and the typed confirmation, and Ctrl-C."""

from __future__ import annotations

import hashlib
import os
import sys
import time

import pexpect
import pytest
from conftest import REPO, StubEnv

START = REPO / "scripts" / "start_instance.py"
DELETE = REPO / "scripts" / "delete_instance.py"

DISKS = [{"id": "d-1", "size_gb": 20, "created": "2024-05-01T08:00:00Z", "status": "available"}]
SNAPSHOTS = [
    {"id": "s-old", "size_gb": 20, "created": "2024-03-01T10:00:00Z", "status": "completed"},
    {"id": "s-new", "size_gb": 30, "created": "2024-04-01T10:00:00Z", "status": "completed"},
]


def spawn(script: object, *args: str, **env: str) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable,
        [str(script), *args],
        env={**os.environ, **env},
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
    )
    child.logfile_read = sys.stdout  # shown by pytest when a test fails
    return child


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -child.signalstatus)


def test_start_picks_a_snapshot_from_the_numbered_list(stub: StubEnv) -> None:
    listing = stub.write_listing(DISKS, SNAPSHOTS)
    child = spawn(START, "--state-dir", str(stub.state_dir), STUB_LISTING=str(listing))
    child.expect_exact("▸ listing disks and snapshots")
    child.expect_exact("1 existing disk(s), 2 snapshot(s)")
    child.expect_exact("[n]ew disk / [e]xisting disk / [s]napshot?")
    child.sendline("s")
    child.expect_exact("snapshots (newest first):")
    child.expect(r"1\) s-new\s+30 GB\s+2024-04-01 10:00 UTC\s+completed")
    child.expect(r"2\) s-old\s+20 GB\s+2024-03-01 10:00 UTC\s+completed")
    child.expect_exact("number (1-2) [1]:")
    child.sendline("2")
    child.expect_exact("notebook password (8+ characters):")
    child.sendline("typed-on-a-pty")
    child.expect_exact("the same again:")
    child.sendline("typed-on-a-pty")
    child.expect_exact("▸ security group")
    child.expect_exact("✓ notebook at https://127.0.0.1:8888")
    child.expect_exact("password:  the one you typed")
    output = child.before or ""
    assert finish(child) == 0
    assert "typed-on-a-pty" not in output
    recorded = stub.recorded("provision")
    assert recorded["vars"]["workbench_disk_source"] == "snapshot"
    assert recorded["vars"]["workbench_snapshot_id"] == "s-old"
    assert (
        recorded["env_sha256"]["WORKBENCH_NOTEBOOK_PASSWORD"]
        == hashlib.sha256(b"typed-on-a-pty").hexdigest()
    )


def test_start_asks_the_cloud_keys_hidden_and_the_instance_type(stub: StubEnv) -> None:
    child = spawn(
        START,
        "--cloud=aliyun",
        "--disk=new",
        "--state-dir",
        str(stub.state_dir),
        WORKBENCH_NOTEBOOK_PASSWORD="from-the-environment",
    )
    child.expect_exact("aliyun credentials (not echoed, not stored):")
    child.expect_exact("Aliyun AccessKey ID:")
    child.sendline("LTAI-typed")
    child.expect_exact("Aliyun AccessKey secret:")
    child.sendline("secret-typed")
    child.expect_exact("instance type (Enter:")
    child.sendline("ecs.g7.large")
    # The prices, from the ECS double, before anything is made; then the question.
    child.expect_exact("prices (aliyun cn-hangzhou, ecs.g7.large, live from")
    child.expect_exact("on-demand:    0.69 CNY/hour")
    child.expect_exact("snapshot:     unavailable (the ECS API has no snapshot price)")
    child.expect_exact("go on and create it? [Y/n]")
    child.sendline("")
    child.expect_exact("✓ notebook at")
    assert finish(child) == 0
    recorded = stub.recorded("provision")
    assert recorded["vars"]["workbench_instance_type"] == "ecs.g7.large"
    assert (
        recorded["env_sha256"]["ALICLOUD_SECRET_KEY"] == hashlib.sha256(b"secret-typed").hexdigest()
    )


def test_generated_password_is_shown_once_on_the_terminal(stub: StubEnv) -> None:
    child = spawn(START, "--disk=new", "--yes", "--state-dir", str(stub.state_dir))
    child.expect(r"it is \(shown this once\): (\S+)")
    shown = child.match.group(1)
    assert finish(child) == 0
    stored = (stub.config_home / "mlbox" / "mlbox" / "notebook-password").read_text().strip()
    assert shown == stored


def test_delete_asks_and_confirms_the_disk_by_its_id(stub: StubEnv) -> None:
    listing = stub.write_listing(DISKS, [])
    child = spawn(DELETE, "--state-dir", str(stub.state_dir), STUB_LISTING=str(listing))
    child.expect_exact("snapshot the data disk before deleting? [Y/n]")
    child.sendline("")
    child.expect_exact("delete the data disk too? [y/N]")
    child.sendline("y")
    child.expect_exact("d-1  20 GB  2024-05-01 08:00 UTC")
    child.expect_exact("type the disk id (or 'yes') to confirm:")
    child.sendline("d-1")
    child.expect_exact("▸ snapshot of the data disk")
    child.expect_exact("✓ workbench 'mlbox' (local): instance deleted")
    assert finish(child) == 0
    recorded = stub.recorded("teardown")["vars"]
    assert recorded["workbench_snapshot_on_delete"] is True
    assert recorded["workbench_delete_disk"] is True


def test_delete_not_confirmed_deletes_nothing(stub: StubEnv) -> None:
    listing = stub.write_listing(DISKS, [])
    child = spawn(
        DELETE, "--no-snapshot", "--state-dir", str(stub.state_dir), STUB_LISTING=str(listing)
    )
    child.expect_exact("delete the data disk too? [y/N]")
    child.sendline("yes")
    child.expect_exact("type the disk id (or 'yes') to confirm:")
    child.sendline("d-2")
    child.expect_exact("not confirmed: nothing was deleted")
    assert finish(child) == 2
    assert not stub.was_run("teardown")


def test_ctrl_c_stops_the_playbook_and_exits_130(stub: StubEnv) -> None:
    child = spawn(START, "--disk=new", "--yes", "--state-dir", str(stub.state_dir), STUB_SLEEP="60")
    child.expect_exact("▸ instance")
    time.sleep(1)
    started = time.monotonic()
    child.sendintr()
    child.expect_exact("stopping after the running task")
    child.expect_exact("interrupted during instance; run the same command again to finish")
    assert finish(child) == 130
    assert time.monotonic() - started < 20
    assert not stub.was_run("provision")


@pytest.fixture(autouse=True)
def _needs_a_pty() -> None:
    if not os.path.exists("/dev/ptmx"):
        pytest.skip("no pseudo-terminals here")


def test_no_to_the_prices_creates_nothing(stub: StubEnv) -> None:
    child = spawn(
        START,
        "--cloud=aliyun",
        "--disk=new",
        "--instance-type=ecs.gn6i-c4g1.xlarge",
        "--state-dir",
        str(stub.state_dir),
        ALIYUN_ACCESS_KEY_ID="LTAI-x",
        ALIYUN_ACCESS_KEY_SECRET="secret-x",
        WORKBENCH_NOTEBOOK_PASSWORD="from-the-environment",
    )
    child.expect_exact("spot now:     1.78 CNY/hour")
    child.expect_exact("go on and create it? [Y/n]")
    child.sendline("n")
    child.expect_exact("stopped: nothing was created")
    assert finish(child) == 0
    assert not stub.was_run("provision")
