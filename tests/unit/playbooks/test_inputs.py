"""The provisioning playbooks refuse bad shared inputs before any provider runs.

Each case runs the real playbook on the controller. A refused input must fail in
workbench_common with a message naming the fix, and no provider task may have started, so
nothing can have been created (the providers' own checks are tested with each provider).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK_BIN = str(Path(sys.executable).parent / "ansible-playbook")
GOOD_PASSWORD = "correct-horse-battery"

# (playbook, extra vars, notebook password or None, words the error must contain)
CASES: dict[str, tuple[str, dict[str, object], str | None, str]] = {
    "unknown cloud": ("provision", {"cloud": "gcp"}, GOOD_PASSWORD, "local, aws, aliyun, azure"),
    "unknown cloud on teardown": ("teardown", {"cloud": "gce"}, None, "got: gce"),
    "bad name": ("provision", {"workbench_name": "My_Box"}, GOOD_PASSWORD, "--name"),
    "name ends with dash": ("teardown", {"workbench_name": "box-"}, None, "workbench_name"),
    "unknown disk source": (
        "provision", {"workbench_disk_source": "floppy"}, GOOD_PASSWORD, "new, existing, snapshot"
    ),
    "existing without id": (
        "provision", {"workbench_disk_source": "existing"}, GOOD_PASSWORD, "--disk existing:ID"
    ),
    "disk size not a number": (
        "provision", {"workbench_disk_size_gb": "big"}, GOOD_PASSWORD, "workbench_disk_size_gb"
    ),
    "disk size zero": ("provision", {"workbench_disk_size_gb": 0}, GOOD_PASSWORD, "1 to 16384"),
    "port below 1024": (
        "provision", {"workbench_notebook_port": 80}, GOOD_PASSWORD, "1024 to 65535"
    ),
    "negative retention": ("teardown", {"workbench_keep_snapshots": -1}, None, "0 or more"),
    "cidr malformed": (
        "provision", {"cloud": "aws", "workbench_allowed_cidr": "300.1.2.3/32"}, GOOD_PASSWORD,
        "--allowed-cidr",
    ),
    "world without opt-in": (
        "provision", {"cloud": "aws", "workbench_allowed_cidr": "0.0.0.0/0"}, GOOD_PASSWORD,
        "workbench_allow_world=true",
    ),
    "no password": ("provision", {}, None, "WORKBENCH_NOTEBOOK_PASSWORD"),
    "short password": ("provision", {}, "seven77", "WORKBENCH_NOTEBOOK_PASSWORD"),
    "undetectable address": (
        "provision", {"cloud": "aws", "workbench_ip_echo_url": "http://127.0.0.1:9/"},
        GOOD_PASSWORD, "-e workbench_allowed_cidr=",
    ),
    "snapshot flag not a boolean": (
        "teardown", {"workbench_snapshot_on_delete": "perhaps"}, None,
        "workbench_snapshot_on_delete",
    ),
}  # fmt: skip


def run_playbook(
    name: str, extra_vars: dict[str, object], password: str | None, home: Path
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.pop("WORKBENCH_NOTEBOOK_PASSWORD", None)
    if password is not None:
        env["WORKBENCH_NOTEBOOK_PASSWORD"] = password
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", HOME=str(home))
    return subprocess.run(
        [PLAYBOOK_BIN, f"playbooks/{name}.yml", "-e", json.dumps(extra_vars)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_stops_before_the_provider(case: str, tmp_path: Path) -> None:
    playbook, extra_vars, password, words = CASES[case]
    result = run_playbook(playbook, extra_vars, password, tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert words in " ".join(out.split()), out
    started = [line for line in out.splitlines() if line.startswith("TASK [")]
    assert started, out
    assert all("workbench_common" in line or "Check the inputs" in line for line in started), (
        started
    )
    # Nothing was made on the controller either: no key pair, no state.
    assert not (tmp_path / ".config").exists()
    assert not (tmp_path / ".local").exists()
    if password:
        assert password not in out


def test_password_never_printed_even_when_refused(tmp_path: Path) -> None:
    result = run_playbook("provision", {}, "seven77", tmp_path)
    assert "seven77" not in result.stdout + result.stderr
