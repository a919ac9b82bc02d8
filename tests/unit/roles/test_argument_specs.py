"""Each role's meta/argument_specs.yml rejects a wrong value before any of its tasks runs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]

# role -> (a wrong value, the words the rejection must name)
WRONG_VALUES: dict[str, tuple[dict[str, object], str]] = {
    "tools": ({"tools_user_uid": "not-a-number"}, "tools_user_uid"),
    "libs": ({"libs_gpu": "maybe"}, "libs_gpu"),
    "jupyter": ({"jupyter_port": "https", "jupyter_password": "long-enough-pw"}, "jupyter_port"),
    "git_keys": ({"git_keys_mode": "bogus"}, "git_keys_mode"),
    "data_disk": ({"data_disk_size_gb": "big", "data_disk_device": "/dev/x"}, "data_disk_size_gb"),
}


def run_role(
    controller: Any, tmp_path: Path, role: str, extra_vars: dict[str, object]
) -> subprocess.CompletedProcess:
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        f"- hosts: all\n  gather_facts: false\n  roles:\n    - role: mlbox.workbench.{role}\n"
    )
    env = controller.env(os.environ)
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    return subprocess.run(
        [
            controller.playbook,
            "-i", "localhost,", "-c", "local",
            "-e", json.dumps(extra_vars),
            str(playbook),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("role", sorted(WRONG_VALUES))
def test_wrong_value_is_rejected_before_any_task(
    tmp_path: Path, role: str, controller: Any
) -> None:
    extra_vars, names = WRONG_VALUES[role]
    result = run_role(controller, tmp_path, role, extra_vars)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "Validating arguments against arg spec" in out, out
    assert names in out, out
    # The validation task is the only task that ran: nothing else was started.
    tasks = [line for line in out.splitlines() if line.startswith("TASK [")]
    assert len(tasks) == 1, tasks
    assert "ok=0" in out and "changed=0" in out, out


def test_every_role_is_covered() -> None:
    roles = {p.parent.parent.name for p in ROOT.glob("roles/*/meta/argument_specs.yml")}
    host_roles = {r for r in roles if not r.startswith("cloud_") and r != "workbench_common"}
    assert host_roles <= set(WRONG_VALUES), host_roles - set(WRONG_VALUES)
