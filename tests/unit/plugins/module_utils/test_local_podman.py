"""local_podman: what podman needs on this machine is worked out from the machine itself
(cgroup layout, the caller's hard limits), never from a containers.conf."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from ansible_collections.mlbox.workbench.plugins.module_utils import local_podman


def cgroup_tree(root: Path, mode: str) -> Path:
    if mode == "unified":
        (root / "cgroup.controllers").parent.mkdir(parents=True, exist_ok=True)
        (root / "cgroup.controllers").write_text("cpu memory\n")
    elif mode == "hybrid":
        (root / "unified").mkdir(parents=True)
        (root / "unified" / "cgroup.controllers").write_text("")
        (root / "memory").mkdir()
    else:
        (root / "memory").mkdir(parents=True)
    return root


@pytest.mark.parametrize("mode", ["unified", "hybrid", "legacy"])
def test_the_cgroup_layout_is_recognized(tmp_path: Path, mode: str) -> None:
    assert local_podman.cgroup_mode(str(cgroup_tree(tmp_path / "cg", mode))) == mode


@pytest.mark.parametrize(
    ("mode", "runc", "runtime"),
    [
        ("hybrid", "/usr/sbin/runc", "runc"),  # crun: "cgroups in hybrid mode not supported"
        ("hybrid", None, ""),
        ("unified", "/usr/sbin/runc", ""),  # podman's default works: nothing is named
        ("legacy", "/usr/sbin/runc", ""),
    ],
)
def test_runc_is_named_where_crun_cannot_work(mode: str, runc: str | None, runtime: str) -> None:
    assert local_podman.choose_runtime(mode, lambda tool: runc) == runtime


def test_a_hybrid_host_without_runc_names_it_missing(tmp_path: Path) -> None:
    root = cgroup_tree(tmp_path / "cg", "hybrid")
    found = local_podman.settings(str(root), which=lambda tool: None)
    assert found.runtime == "" and found.missing == ["runc"]
    assert found.command("ps") == ["podman", "ps"]


@pytest.mark.parametrize(
    ("nofile", "nproc", "ulimits"),
    [
        (20000, 96369, ["nofile=1024:20000", "nproc=96369:96369"]),
        (512, 100, ["nofile=512:512", "nproc=100:100"]),
        (
            resource.RLIM_INFINITY,
            resource.RLIM_INFINITY,
            ["nofile=1024:1048576", "nproc=1048576:1048576"],
        ),
        (4194304, 4194304, ["nofile=1024:1048576", "nproc=1048576:1048576"]),
    ],
)
def test_limits_never_exceed_the_hard_limits(nofile: int, nproc: int, ulimits: list[str]) -> None:
    assert local_podman.derive_ulimits(nofile, nproc) == ulimits


def test_nproc_never_exceeds_pid_max(tmp_path: Path) -> None:
    # podman lowers its own nproc limit to pid_max: a runtime it starts cannot set more.
    assert local_podman.derive_ulimits(20000, 96369, 32768) == [
        "nofile=1024:20000",
        "nproc=32768:32768",
    ]
    (tmp_path / "pid_max").write_text("32768\n")
    assert local_podman.pid_max(str(tmp_path / "pid_max")) == 32768
    assert local_podman.pid_max(str(tmp_path / "missing")) == local_podman.NPROC_MAX


def test_settings_read_this_process_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = {resource.RLIMIT_NOFILE: (1024, 8192), resource.RLIMIT_NPROC: (300, 700)}
    monkeypatch.setattr(local_podman.resource, "getrlimit", limits.__getitem__)
    root = cgroup_tree(tmp_path / "cg", "hybrid")
    (tmp_path / "pid_max").write_text("4194304\n")
    found = local_podman.settings(
        str(root), which=lambda tool: f"/usr/bin/{tool}", pid_max_path=str(tmp_path / "pid_max")
    )
    assert found.run_args == [
        "--runtime", "runc", "--ulimit", "nofile=1024:8192", "--ulimit", "nproc=700:700",
    ]  # fmt: skip
    assert found.as_dict()["global_args"] == ["--runtime", "runc"]
