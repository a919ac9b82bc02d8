"""The git_keys_probe module: whether the git_keys role's last run still holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ansible_collections.mlbox.workbench.plugins.modules import git_keys_probe

GITHUB = (
    "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
)


@pytest.fixture
def home(tmp_path: Path) -> dict:
    ssh = tmp_path / ".ssh"
    ssh.mkdir()
    for name, mode in (("id_ed25519", 0o600), ("id_ed25519.pub", 0o644)):
        (ssh / name).write_text("k\n")
        (ssh / name).chmod(mode)
    (ssh / "known_hosts").write_text(GITHUB + "\n")
    (ssh / "config").write_text("# BEGIN mlbox.workbench.git_keys\nHost github.com\n")
    (tmp_path / ".gitconfig").write_text(
        "[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n"
    )
    (tmp_path / "state").write_text("d1\n")
    user = {"exists": True, "uid": os.getuid(), "gid": os.getgid(), "home": str(tmp_path)}
    params = {
        "user": "ml", "mode": "generate", "key_path": "", "key_name": "id_ed25519",
        "known_hosts": [GITHUB], "ssh_config": True,
        "ssh_config_marker": "# BEGIN mlbox.workbench.git_keys",
        "git_identity": {"user.name": "Ada Lovelace", "user.email": "ada@example.com"},
        "state_file": str(tmp_path / "state"), "digest": "d1",
    }  # fmt: skip
    return {"params": params, "user": user, "ssh": ssh}


def test_the_last_run_holds_when_everything_agrees(home: dict) -> None:
    if not git_keys_probe.shutil.which("git"):
        pytest.skip("no git here")
    assert git_keys_probe.still_current(home["params"], home["user"]) == ""


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"digest": "d2"}, "digest differs"),
        ({"mode": "copy"}, "always compared"),
        ({"key_name": "id_other"}, "is missing"),
        ({"git_identity": {"user.email": "eve@example.com"}}, "user.email"),
        ({"known_hosts": [GITHUB.replace("AAAAC3", "AAAAC4")]}, "known_hosts"),
        ({"ssh_config_marker": "# BEGIN other"}, "ssh config block"),
    ],
)
def test_the_full_path_runs_when_something_differs(home: dict, change: dict, why: str) -> None:
    if not git_keys_probe.shutil.which("git"):
        pytest.skip("no git here")
    assert why in git_keys_probe.still_current({**home["params"], **change}, home["user"])


def test_a_private_key_readable_by_others_is_not_current(home: dict) -> None:
    (home["ssh"] / "id_ed25519").chmod(0o644)
    assert "0600" in git_keys_probe.still_current(home["params"], home["user"])


def test_known_hosts_lines_with_several_names_count_for_each() -> None:
    pairs = git_keys_probe.known_pairs(
        "github.com,140.82.112.3 ssh-rsa AAAA\n|1|hashed ssh-rsa B\n"
    )
    assert pairs == {("github.com", "ssh-rsa", "AAAA"), ("140.82.112.3", "ssh-rsa", "AAAA")}


def test_git_settings_are_read_from_git_s_own_format() -> None:
    text = "[core]\n\teditor = vim\n[user]\n\tname = Ada Lovelace\n"
    assert git_keys_probe.git_setting(text, "user.name") == "Ada Lovelace"
    assert git_keys_probe.git_setting(text, "user.email") == ""
    assert git_keys_probe.git_setting("[broken", "user.name") == ""


def test_the_module_reports_a_missing_user(run_module) -> None:
    exited = run_module(git_keys_probe.main, {"user": "no-such-user-here"})
    assert exited.result["user"]["exists"] is False and exited.result["current"] is False
