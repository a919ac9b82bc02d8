"""git_keys in copy mode refuses a bad key pair on the controller, before it touches the host.

The role runs against localhost with a local connection: its first tasks only look at the
controller's files, and the run must stop there (no facts gathered, nothing changed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
HOST_TASKS = ("Gather the OS facts", "Read the installed system packages", "Copy the private key")


def run_copy(controller: Any, tmp_path: Path, private: Path, public: Path | None = None) -> str:
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  roles:\n    - role: mlbox.workbench.git_keys\n"
    )
    extra_vars = {
        "git_keys_mode": "copy",
        "git_keys_user": "nobody",
        "git_keys_private_key_src": str(private),
        "git_keys_public_key_src": str(public or ""),
    }
    env = controller.env(os.environ)
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    result = subprocess.run(
        [
            controller.playbook,
            "-i", "localhost,", "-c", "local",
            "-e", json.dumps(extra_vars),
            str(playbook),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "changed=0" in out, out
    for task in HOST_TASKS:
        assert task not in out, out
    return out


def keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return path


def test_a_missing_private_key_is_refused(tmp_path: Path, controller: Any) -> None:
    out = run_copy(controller, tmp_path, tmp_path / "no_such_key")
    assert "git_keys_private_key_src must name a private key" in out
    assert "no_such_key' (missing)" in out


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_a_missing_public_key_is_refused(tmp_path: Path, controller: Any) -> None:
    private = keygen(tmp_path / "id_test")
    (tmp_path / "id_test.pub").unlink()
    out = run_copy(controller, tmp_path, private)
    assert "id_test.pub' (missing)" in out


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_a_public_key_of_another_pair_is_refused(tmp_path: Path, controller: Any) -> None:
    private = keygen(tmp_path / "id_test")
    other = keygen(tmp_path / "id_other")
    out = run_copy(controller, tmp_path, private, Path(f"{other}.pub"))
    assert "is not the public half of" in out
    # The private key's content never shows in the output.
    assert private.read_text().splitlines()[1] not in out
