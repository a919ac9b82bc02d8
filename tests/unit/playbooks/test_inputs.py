"""The provisioning playbooks refuse bad shared inputs before any provider runs.

Each case runs the real playbook on the controller. A refused input must fail in
workbench_common with a message naming the fix, and no provider task may have started, so
nothing can have been created (the providers' own checks are tested with each provider).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
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
    "address malformed": (
        "provision", {"cloud": "aws", "workbench_allowed_cidr": "203.0.113"}, GOOD_PASSWORD,
        "is not an IPv4 address or CIDR",
    ),
    "ipv6 address": (
        "provision", {"cloud": "aws", "workbench_allowed_cidr": "2001:db8::7"}, GOOD_PASSWORD,
        "2001:db8::7/128 is an IPv6 address",
    ),
    "world in disguise": (
        "provision", {"cloud": "aws", "workbench_allowed_cidr": "203.0.113.7/0"}, GOOD_PASSWORD,
        "workbench_allow_world=true",
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


def bare_env(controller: Any, home: Path) -> dict[str, str]:
    """The environment without any ANSIBLE_* setting of the caller's, HOME in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.pop("WORKBENCH_NOTEBOOK_PASSWORD", None)
    return controller.env(env, HOME=str(home))


def run_playbook(
    controller: Any, name: str, extra_vars: dict[str, object], password: str | None, home: Path
) -> subprocess.CompletedProcess:
    env = bare_env(controller, home)
    if password is not None:
        env["WORKBENCH_NOTEBOOK_PASSWORD"] = password
    return subprocess.run(
        [controller.playbook, f"playbooks/{name}.yml", "-e", json.dumps(extra_vars)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_stops_before_the_provider(case: str, tmp_path: Path, controller: Any) -> None:
    playbook, extra_vars, password, words = CASES[case]
    result = run_playbook(controller, playbook, extra_vars, password, tmp_path)
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


def test_password_never_printed_even_when_refused(tmp_path: Path, controller: Any) -> None:
    result = run_playbook(controller, "provision", {}, "seven77", tmp_path)
    assert "seven77" not in result.stdout + result.stderr


# (extra vars, the variable the message must name, the others it must not name)
RANGES = {
    "notebook port": ({"workbench_notebook_port": 22}, "workbench_notebook_port"),
    "disk size": ({"workbench_disk_size_gb": 20000}, "workbench_disk_size_gb"),
    "retention": ({"workbench_keep_snapshots": -2}, "workbench_keep_snapshots"),
}


@pytest.mark.parametrize("case", sorted(RANGES))
def test_range_errors_name_only_what_is_wrong(case: str, tmp_path: Path, controller: Any) -> None:
    extra_vars, wrong = RANGES[case]
    result = run_playbook(controller, "provision", extra_vars, GOOD_PASSWORD, tmp_path)
    out = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, out
    assert f"{wrong} must be" in out, out
    for name in ("workbench_notebook_port", "workbench_disk_size_gb", "workbench_keep_snapshots"):
        if name != wrong:
            assert name not in out, out


RESOLVE_PLAY = """
- name: Resolve the shared inputs as provision.yml does
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    workbench_action: provision
    workbench_configure: false
  tasks:
    - name: Check the inputs and prepare the controller
      ansible.builtin.include_role:
        name: mlbox.workbench.workbench_common
        public: true

    - name: Show what a provider receives
      ansible.builtin.debug:
        msg: "RESOLVED={{ workbench_allowed_cidr_resolved }}"
"""


@pytest.mark.parametrize(
    ("cloud", "given", "resolved"),
    [
        ("aws", "203.0.113.7", "203.0.113.7/32"),
        ("azure", "203.0.113.77/24", "203.0.113.0/24"),
        ("local", "", "127.0.0.1/32"),
    ],
)
def test_the_allowed_address_is_resolved_once_for_the_providers(
    cloud: str, given: str, resolved: str, tmp_path: Path, controller: Any
) -> None:
    play = tmp_path / "resolve.yml"
    play.write_text(RESOLVE_PLAY)
    env = bare_env(controller, tmp_path)
    extra_vars = json.dumps({"cloud": cloud, "workbench_allowed_cidr": given})
    result = subprocess.run(
        [controller.playbook, str(play), "-e", extra_vars],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert f"RESOLVED={resolved}" in out, out
