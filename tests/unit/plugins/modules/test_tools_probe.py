"""The tools_probe module: the package plan (apt's output read in Python) and the fast path."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pytest
from ansible_collections.mlbox.workbench.plugins.modules import tools_probe

DPKG = (
    "ii \tgit\t\n"
    "ii \tmawk\tawk\n"
    "rc \ttmux\t\n"  # removed, its configuration kept: not installed
    "ii \tbsdextrautils\tcol (= 2.38), hexdump\n"
    "un \tcurl\t\n"
)


def test_installed_names_and_what_they_provide() -> None:
    assert tools_probe.parse_dpkg(DPKG) == {"git", "mawk", "awk", "bsdextrautils", "col", "hexdump"}


def test_the_dpkg_query_is_one_call_over_the_whole_database() -> None:
    calls = []

    def run(argv, **_kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout=DPKG, stderr="")

    if not tools_probe.shutil.which("dpkg-query"):
        pytest.skip("no dpkg-query on this machine")
    manager, present = tools_probe.installed_names(run)
    assert manager == "apt" and "awk" in present
    assert calls == [["dpkg-query", "-W", "-f", tools_probe.DPKG_FORMAT]]


def test_missing_packages_keep_their_order_once_each() -> None:
    present = {"git", "awk"}
    assert tools_probe.plan(["tmux", "git", "awk", "tmux", "jq"], present, [], False) == {
        "missing": ["tmux", "jq"],
        "foreground": ["tmux", "jq"],
        "background": [],
    }


def test_background_splits_the_first_packages_off() -> None:
    result = tools_probe.plan(["sudo", "tmux", "openssl"], set(), ["sudo", "openssl"], True)
    assert result["foreground"] == ["sudo", "openssl"]
    assert result["background"] == ["tmux"]


def test_the_index_age_and_lists(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    assert tools_probe.index_state(str(lists), str(tmp_path / "no-stamp"))[0] == 0
    (lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4").touch()
    stamp = tmp_path / "stamp"
    stamp.touch()
    os.utime(stamp, (1000, 1000))
    assert tools_probe.index_state(str(lists), str(stamp), now=1600) == (1, 600)


def gpu_tree(root: Path, driver: bool) -> str:
    dev = root / "sys/bus/pci/devices/0000:00:06.0"
    dev.mkdir(parents=True)
    (dev / "vendor").write_text("0x10de\n")
    (dev / "class").write_text("0x030200\n")
    if driver:
        (root / "proc/driver/nvidia").mkdir(parents=True)
        (root / "proc/driver/nvidia/version").write_text("NVRM version: 580\n")
    return str(root)


def test_a_gpu_without_a_driver_is_seen(tmp_path: Path) -> None:
    assert tools_probe.nvidia_state(gpu_tree(tmp_path / "a", False)) == (["0000:00:06.0"], False)
    assert tools_probe.nvidia_state(gpu_tree(tmp_path / "b", True)) == (["0000:00:06.0"], True)
    assert tools_probe.nvidia_state(str(tmp_path / "none")) == ([], False)


ME = pwd.getpwuid(os.getuid())


@pytest.fixture
def params(tmp_path: Path) -> dict:
    state = tmp_path / "tools.digest"
    state.write_text("d1\n")
    return {
        "state_file": str(state), "digest": "d1", "user": ME.pw_name, "uid": ME.pw_uid,
        "shell": ME.pw_shell, "sudo": False, "sudoers_file": str(tmp_path / "90-me"),
        "authorized_keys": [],
    }  # fmt: skip


RESULT = {"missing": [], "nvidia_gpus": [], "nvidia_loaded": False}


def test_the_last_run_holds_when_everything_agrees(params: dict) -> None:
    assert tools_probe.still_current(params, RESULT) == ""


@pytest.mark.parametrize(
    ("change", "result", "why"),
    [
        ({"digest": "d2"}, {}, "digest differs"),
        ({}, {"missing": ["jq"]}, "missing packages: jq"),
        ({}, {"nvidia_gpus": ["0000:00:06.0"]}, "no loaded driver"),
        ({"user": "no-such-user-here"}, {}, "does not exist"),
        ({"uid": 4242}, {}, "is not uid 4242"),
        ({"sudo": True}, {}, "tools_user_sudo"),
        ({"authorized_keys": ["ssh-ed25519 AAAAnothere x@y"]}, {}, "authorized key is missing"),
    ],
)
def test_the_full_path_runs_when_something_differs(params, change, result, why) -> None:
    assert why in tools_probe.still_current({**params, **change}, {**RESULT, **result})


def test_authorized_keys_are_matched_by_type_and_key(tmp_path: Path) -> None:
    keys = tmp_path / "authorized_keys"
    keys.write_text('from="10.0.0.1" ssh-ed25519 AAAA1 a@b\nssh-rsa AAAA2\n# ssh-ed25519 AAAA3\n')
    assert tools_probe.key_lines(str(keys)) == {"ssh-ed25519 AAAA1", "ssh-rsa AAAA2"}


def test_the_module_plans_and_answers(run_module) -> None:
    exited = run_module(tools_probe.main, {"packages": ["mlbox-no-such-package"]})
    assert not exited.failed
    assert exited.result["missing"] == ["mlbox-no-such-package"]
    assert exited.result["current"] is False and exited.result["changed"] is False
