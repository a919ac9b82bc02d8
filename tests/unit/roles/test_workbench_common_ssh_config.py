"""The SSH config entry's lifecycle (roles/workbench_common/tasks/ssh_config.yml) in a
temporary HOME: provision writes ~/.ssh/config.d/mlbox-NAME and one Include line at the top
of ~/.ssh/config, leaving the user's lines as they were; a re-run changes nothing; teardown
removes the entry and only it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
PLAY = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Include the SSH config entry's tasks
      ansible.builtin.include_role:
        name: mlbox.workbench.workbench_common
        tasks_from: ssh_config
    - name: Show the fact
      ansible.builtin.debug:
        var: workbench_ssh_entry
"""
INSTANCE = {
    "cloud": "local",
    "public_ip": "127.0.0.1",
    "ssh_user": "root",
    "ssh_port": 2222,
    "ssh_key_path": "/keys/id_ed25519",
    "ssh_known_hosts": "/state/local/exp1/known_hosts",
}


def run(home: Path, action: str, **extra: Any) -> subprocess.CompletedProcess[str]:
    playbook = home.parent / "play.yml"
    playbook.write_text(PLAY)
    variables = {"workbench_action": action, "workbench_name": "exp1", **extra}
    # This interpreter: with a HOME of its own, pyenv's shims would find no python3.
    variables["ansible_python_interpreter"] = sys.executable
    if action == "provision":
        variables.setdefault("workbench_instance", INSTANCE)
    env = dict(os.environ, HOME=str(home), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_STRATEGY"] = "linear"  # a few local tasks: mitogen's start-up costs more
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i", "localhost,", "-c", "local", "-e", json.dumps(variables), str(playbook),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_entry_lifecycle_keeps_the_users_lines(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    users = "Host github.com\n    User git\n\nHost *\n    ServerAliveInterval 30\n"
    (ssh / "config").write_text(users)
    (ssh / "config").chmod(0o644)

    first = run(home, "provision")
    entry = ssh / "config.d" / "mlbox-exp1"
    text = entry.read_text()
    for line in (
        "Host mlbox-exp1",
        "    HostName 127.0.0.1",
        "    User root",
        "    Port 2222",
        "    IdentityFile /keys/id_ed25519",
        "    UserKnownHostsFile /state/local/exp1/known_hosts",
        "    StrictHostKeyChecking yes",
    ):
        assert line in text.splitlines(), (line, text)
    assert (mode(entry), mode(ssh / "config.d")) == (0o600, 0o700)
    config = (ssh / "config").read_text()
    assert config == "Include config.d/*\n" + users  # at the top, the rest untouched
    assert mode(ssh / "config") == 0o644  # the user's file keeps its mode
    assert "vscode://vscode-remote/ssh-remote+mlbox-exp1/mnt/ml" in first.stdout

    again = run(home, "provision")
    assert "changed=0" in again.stdout, again.stdout
    assert (ssh / "config").read_text().count("Include") == 1

    (ssh / "config.d" / "other").write_text("Host other\n")
    run(home, "teardown")
    assert not entry.exists()
    assert (ssh / "config.d" / "other").exists()
    assert (ssh / "config").read_text() == config


def test_no_config_yet_and_the_users_own_include(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    home.mkdir()
    instance = {**INSTANCE, "ssh_known_hosts": "", "ssh_port": 22}
    run(home, "provision", workbench_instance=instance, workbench_state_dir="/st")
    config = home / ".ssh" / "config"
    assert config.read_text() == "Include config.d/*\n"
    assert (mode(config), mode(home / ".ssh")) == (0o600, 0o700)
    text = (home / ".ssh" / "config.d" / "mlbox-exp1").read_text()
    # No known_hosts from the provider: the workbench's own, pinned on first use.
    assert "    UserKnownHostsFile /st/local/exp1/known_hosts" in text.splitlines()
    assert "    StrictHostKeyChecking accept-new" in text.splitlines()

    other = tmp_path / "other"
    (other / ".ssh").mkdir(parents=True)
    mine = "Host a\n    User b\nInclude ~/.ssh/config.d/*\n"
    (other / ".ssh" / "config").write_text(mine)
    run(other, "provision")
    assert (other / ".ssh" / "config").read_text() == mine  # their Include already does it
