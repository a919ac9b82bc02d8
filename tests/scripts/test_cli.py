"""The scripts end to end against the stub playbooks, without a terminal (stdin is
/dev/null): choices come from flags, a missing one is an error naming its flag."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, StubEnv
from mlbox_cli import cli, start
from mlbox_cli.errors import EXIT_CODES_HELP

START = REPO / "scripts" / "start_instance.py"
DELETE = REPO / "scripts" / "delete_instance.py"


def run(
    script: Path, *args: str, python: str = sys.executable, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, str(script), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def state(stub: StubEnv) -> list[str]:
    return ["--state-dir", str(stub.state_dir)]


def test_local_demo_without_questions(stub: StubEnv) -> None:
    done = run(START, "--cloud", "local", "--disk", "new", "--yes", *state(stub))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    password_file = stub.config_home / "mlbox" / "mlbox" / "notebook-password"
    assert f"notebook password generated, stored 0600 in {password_file}" in out
    assert password_file.read_text().strip() not in out  # not a terminal: not shown
    for line in (
        "▸ security group",
        "▸ data disk",
        "▸ instance",
        "✓ notebook at https://127.0.0.1:8888",
        f"password:  {password_file}",
        "ssh:       ssh -i /tmp/stub/id_ed25519 -p 2222 root@127.0.0.1",
        "data disk: d-new",
        "to take it away (the disk is kept): scripts/delete_instance.py --cloud local",
    ):
        assert line in out, line
    assert "to stop paying" not in out  # nothing is billed on this machine
    assert "price: free (local" in out
    assert "PLAY [" not in out  # Ansible's own output only with -v
    recorded = stub.recorded("provision")["vars"]
    assert recorded["cloud"] == "local"
    assert recorded["workbench_disk_source"] == "new"
    assert recorded["workbench_state_dir"] == str(stub.state_dir)
    assert "workbench_spot" not in recorded  # the playbook's default applies


def test_verbose_shows_ansible_output(stub: StubEnv) -> None:
    done = run(START, "--disk", "new", "--yes", "-v", *state(stub))
    assert done.returncode == 0, done.stderr
    assert "PLAY [Provision a workbench (stub)]" in done.stdout


def test_a_rerun_keeps_the_password(stub: StubEnv) -> None:
    run(START, "--disk", "new", "--yes", *state(stub))
    first = stub.recorded("provision")["env_sha256"]["WORKBENCH_NOTEBOOK_PASSWORD"]
    again = run(START, "--disk", "new", "--yes", *state(stub))
    assert "notebook password: the one stored in" in again.stdout
    assert stub.recorded("provision")["env_sha256"]["WORKBENCH_NOTEBOOK_PASSWORD"] == first


def test_no_disk_and_nothing_to_reuse_means_new(stub: StubEnv) -> None:
    done = run(START, *state(stub))
    assert done.returncode == 0, done.stderr
    assert "no disks or snapshots of this workbench yet: a new data disk" in done.stdout
    assert stub.recorded("disks")["vars"]["workbench_disks_output"].endswith(".json")
    assert stub.recorded("provision")["vars"]["workbench_disk_source"] == "new"


def test_missing_disk_choice_without_terminal_names_the_flag(stub: StubEnv) -> None:
    listing = stub.write_listing(
        [{"id": "d-1", "size_gb": 20, "created": "2024-01-01T00:00:00Z", "status": "available"}],
        [{"id": "s-1", "size_gb": 20, "created": "2024-01-02T00:00:00Z", "status": "completed"}],
    )
    done = run(START, *state(stub), STUB_LISTING=str(listing))
    assert done.returncode == 2
    assert "--disk is needed" in done.stderr
    assert "--disk existing:d-1" in done.stderr and "--disk snapshot:s-1" in done.stderr
    assert not stub.was_run("provision")


def test_snapshot_flag_without_id_and_without_terminal(stub: StubEnv) -> None:
    done = run(START, "--disk", "snapshot", *state(stub))
    assert done.returncode == 2
    assert "--disk snapshot needs an id" in done.stderr


def test_missing_cloud_credentials_exit_3(stub: StubEnv) -> None:
    done = run(START, "--cloud", "aliyun", "--disk", "new", *state(stub))
    assert done.returncode == 3
    assert "ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET" in done.stderr
    assert not stub.was_run("provision")


def test_aliyun_keys_reach_the_playbook_under_the_collection_names(stub: StubEnv) -> None:
    done = run(
        START,
        "--cloud=aliyun",
        "--disk=snapshot:latest",
        "--region=cn-hongkong",
        *state(stub),
        ALIYUN_ACCESS_KEY_ID="LTAI-id-1234",
        ALIYUN_ACCESS_KEY_SECRET="secret-5678",
        WORKBENCH_NOTEBOOK_PASSWORD="a-long-password",
    )
    assert done.returncode == 0, done.stderr
    record = stub.recorded("provision")
    assert set(record["env_sha256"]) >= {"ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY"}
    assert record["env_sha256"]["ALICLOUD_SECRET_KEY"] == hashlib.sha256(b"secret-5678").hexdigest()
    assert record["vars"]["workbench_snapshot_id"] == "latest"
    assert record["vars"]["workbench_region"] == "cn-hongkong"
    assert "password:  the one in $WORKBENCH_NOTEBOOK_PASSWORD" in done.stdout


def test_cloud_without_password_and_terminal_exit_2(stub: StubEnv) -> None:
    done = run(START, "--cloud", "aws", "--disk", "new", *state(stub), AWS_PROFILE="ml")
    assert done.returncode == 2
    assert "WORKBENCH_NOTEBOOK_PASSWORD" in done.stderr and "--generate-password" in done.stderr


def test_playbook_failure_exit_4_with_the_task_message(stub: StubEnv) -> None:
    done = run(START, "--disk", "new", "--yes", *state(stub), STUB_FAIL="provision")
    assert done.returncode == 4
    assert "✗ task 'Fail as the test asked' failed on localhost:" in done.stderr
    assert "QuotaExceeded: the stub was told to fail" in done.stderr
    log = Path(done.stderr.rsplit("full log: ", 1)[1].strip())
    assert log.is_file() and log.is_relative_to(stub.state_dir / "_runs" / "mlbox")


def test_delete_without_terminal_names_the_missing_flag(stub: StubEnv) -> None:
    done = run(DELETE, *state(stub))
    assert done.returncode == 2
    assert "--snapshot/--no-snapshot is needed" in done.stderr
    done = run(DELETE, "--snapshot", *state(stub))
    assert done.returncode == 2
    assert "--delete-disk/--no-delete-disk is needed" in done.stderr
    assert not stub.was_run("teardown")


def test_delete_with_yes_takes_the_safe_defaults(stub: StubEnv) -> None:
    done = run(DELETE, "--yes", *state(stub))
    assert done.returncode == 0, done.stderr
    recorded = stub.recorded("teardown")["vars"]
    assert recorded["workbench_snapshot_on_delete"] is True
    assert recorded["workbench_delete_disk"] is False
    assert "▸ snapshot of the data disk" in done.stdout
    assert "data disk: kept" in done.stdout


def test_delete_everything(stub: StubEnv) -> None:
    done = run(
        DELETE, "--no-snapshot", "--delete-disk", "--keep-snapshots", "1", "--yes", *state(stub)
    )
    assert done.returncode == 0, done.stderr
    recorded = stub.recorded("teardown")["vars"]
    assert recorded["workbench_snapshot_on_delete"] is False
    assert recorded["workbench_delete_disk"] is True
    assert recorded["workbench_keep_snapshots"] == 1
    assert "data disk: deleted" in done.stdout


def test_deleting_a_disk_without_terminal_needs_yes(stub: StubEnv) -> None:
    done = run(DELETE, "--no-snapshot", "--delete-disk", *state(stub))
    assert done.returncode == 2
    assert "--delete-disk needs --yes" in done.stderr
    assert not stub.was_run("teardown")


def test_delete_failure_exit_4(stub: StubEnv) -> None:
    done = run(DELETE, "--yes", *state(stub), STUB_FAIL="teardown")
    assert done.returncode == 4
    assert "the stub was told to fail" in done.stderr


def test_system_python_without_ansible_runner_moves_to_the_venv(stub: StubEnv) -> None:
    system = "/usr/bin/python3"
    probe = subprocess.run(
        [system, "-c", "import ansible_runner"], capture_output=True, check=False
    )
    if not Path(system).exists() or probe.returncode == 0:
        pytest.skip("needs a system python3 without ansible-runner")
    assert run(START, "--help", python=system).returncode == 0
    done = run(START, "--disk", "new", "--yes", *state(stub), python=system)
    assert done.returncode == 0, done.stderr


def test_without_ansible_runner_anywhere_says_how_to_install(stub: StubEnv) -> None:
    system = "/usr/bin/python3"
    probe = subprocess.run(
        [system, "-c", "import ansible_runner"], capture_output=True, check=False
    )
    if not Path(system).exists() or probe.returncode == 0:
        pytest.skip("needs a system python3 without ansible-runner")
    done = run(START, "--disk", "new", "--yes", *state(stub), python=system, MLBOX_REEXEC="1")
    assert done.returncode == 1
    assert "make setup" in done.stderr and "requirements.txt" in done.stderr


def test_unexpected_errors_are_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def broken(args: object) -> None:
        raise RuntimeError("boom")

    assert cli.run_main(start.build_parser(), broken, []) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: unexpected RuntimeError: boom (run with -v for the traceback)"
    assert cli.run_main(start.build_parser(), broken, ["-v"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_interrupt_is_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> None:
        raise KeyboardInterrupt

    assert cli.run_main(start.build_parser(), interrupted, []) == 130


def test_exit_codes_are_documented() -> None:
    for code in ("0", "1", "2", "3", "4", "130"):
        assert f"\n  {code} " in EXIT_CODES_HELP


def test_missing_playbooks_fail_before_any_question(stub: StubEnv) -> None:
    empty = stub.tmp / "not-a-collection"
    empty.mkdir()
    done = run(START, "--disk", "new", "--yes", *state(stub), MLBOX_PROJECT_DIR=str(empty))
    assert done.returncode == 1
    assert "provision.yml does not exist" in done.stderr
    assert not (stub.config_home / "mlbox").exists()  # no password generated


def test_the_summary_says_what_is_true_for_the_cloud() -> None:
    from mlbox_cli.password import NotebookPassword
    from mlbox_cli.start import build_parser, summary

    password = NotebookPassword("x" * 12, "env", None)
    instance = {"public_ip": "192.0.2.9", "disk_id": "vol-1", "id": "i-1", "disk_origin": "bound"}
    aws = build_parser().parse_args(["--cloud", "aws", "--disk", "new"])
    text = "\n".join(line for _kind, line in summary(aws, instance, password))
    assert "to stop paying: scripts/delete_instance.py --cloud aws --snapshot" in text
    assert "--disk new made no new disk" in text
    local = build_parser().parse_args(["--cloud", "local"])
    text = "\n".join(
        line for _kind, line in summary(local, dict(instance, disk_origin="new"), password)
    )
    assert "to stop paying" not in text and "to take it away" in text
    assert "made no new disk" not in text


def test_prices_are_printed_before_anything_is_made(stub: StubEnv) -> None:
    """--yes: the prices (from moto's EC2 and the Price List double) and no question."""
    done = run(
        START,
        "--cloud=aws",
        "--disk=new",
        "--disk-size=50",
        "--instance-type=g4dn.xlarge",
        "--yes",
        *state(stub),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        WORKBENCH_NOTEBOOK_PASSWORD="a-long-password",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "prices (aws us-east-1, g4dn.xlarge, live from the cloud's pricing API):" in out
    assert "on-demand:    0.526 USD/hour" in out
    assert "data disk:    4 USD/month  (50 GB)" in out
    assert "snapshot:     0.05 USD/GB-month" in out
    assert "go on" not in out
    assert out.index("on-demand:") < out.index("▸ instance")


def test_a_price_the_api_refuses_is_said_unavailable(stub: StubEnv) -> None:
    done = run(
        START,
        "--cloud=aliyun",
        "--disk=new",
        "--region=cn-hongkong",  # a region the ECS double does not serve
        "--yes",
        *state(stub),
        ALIYUN_ACCESS_KEY_ID="LTAI-id-1234",
        ALIYUN_ACCESS_KEY_SECRET="secret-5678",
        WORKBENCH_NOTEBOOK_PASSWORD="a-long-password",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "on-demand:    unavailable (InvalidRegionId.NotFound for ecs:DescribePrice)" in out
    assert (
        "spot now:     unavailable (InvalidRegionId.NotFound for ecs:DescribeSpotPriceHistory)"
        in out
    )


def test_the_summary_names_the_ssh_entry_and_the_vscode_link() -> None:
    from mlbox_cli.password import NotebookPassword
    from mlbox_cli.start import build_parser, summary

    args = build_parser().parse_args(["--cloud", "aws", "--name", "exp1", "--disk", "new"])
    instance = {"public_ip": "203.0.113.9", "ssh_user": "admin", "id": "i-1", "disk_id": "vol-1"}
    entry = {
        "host": "mlbox-exp1",
        "path": "/home/u/.ssh/config.d/mlbox-exp1",
        "vscode": "vscode://vscode-remote/ssh-remote+mlbox-exp1/mnt/ml",
    }
    password = NotebookPassword("x" * 12, "env", None)
    text = "\n".join(line for _unused, line in summary(args, instance, password, entry))
    assert "or: ssh mlbox-exp1  (/home/u/.ssh/config.d/mlbox-exp1)" in text
    assert "VS Code:   vscode://vscode-remote/ssh-remote+mlbox-exp1/mnt/ml" in text
    assert "mlbox-exp1" not in "\n".join(line for _n, line in summary(args, instance, password))
