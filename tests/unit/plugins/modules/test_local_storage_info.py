"""local_storage_info: with container and image it also reports podman's view of both, so the
local provider looks at everything in one module call; an unknown container is {}, a failing
podman is an error naming the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.mlbox.workbench.plugins.module_utils.local_podman import PodmanSettings
from ansible_collections.mlbox.workbench.plugins.modules import local_storage_info

FAKE_PODMAN = """#!/bin/sh
[ "$1" = --runtime ] && { echo "$2" >>"$0.runtimes"; shift 2; }
FOUND='[{"Name": "mlbox-wb", "Config": {"Labels": {"mlbox.workbench": "wb"}}}]'
case "$1 $2" in
  "container inspect")
    [ "$3" = mlbox-wb ] && { printf '%s' "$FOUND"; exit 0; }
    [ "$3" = broken ] && { echo "Error: database is locked" >&2; exit 125; }
    echo "[]"; echo "Error: inspecting object: no such container $3" >&2; exit 125 ;;
  "image exists") [ "$3" = localhost/present ] ;;
  *) exit 2 ;;
esac
"""


@pytest.fixture
def podman_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("losetup", "tar", "zstd"):
        (bin_dir / tool).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / tool).chmod(0o755)
    (bin_dir / "podman").write_text(FAKE_PODMAN)
    (bin_dir / "podman").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    # A host where podman's default runtime cannot work: every command names runc.
    here = PodmanSettings("runc", ["nofile=1024:4096", "nproc=512:512"])
    monkeypatch.setattr(local_storage_info, "settings", lambda: here)
    return tmp_path


def args(state: Path, **extra: str) -> dict:
    return {"state_dir": str(state / "state"), "workbench": "wb", **extra}


def test_container_and_image_found(run_module, podman_path: Path) -> None:
    result = run_module(
        local_storage_info.main,
        args(podman_path, container="mlbox-wb", image="localhost/present"),
    ).result
    assert result["container"]["Config"]["Labels"] == {"mlbox.workbench": "wb"}
    assert result["image_exists"] is True
    assert result["missing_tools"] == []
    assert json.dumps(result)  # plain data for the role
    # What podman needs here, for the role's own podman commands, and used for these.
    assert result["podman"]["command"] == ["podman", "--runtime", "runc"]
    assert result["podman"]["run_args"] == [
        "--runtime", "runc", "--ulimit", "nofile=1024:4096", "--ulimit", "nproc=512:512",
    ]  # fmt: skip
    runtimes = (podman_path / "bin" / "podman.runtimes").read_text().split()
    assert runtimes == ["runc", "runc"]


@pytest.mark.parametrize(("address", "local"), [("127.0.0.1", True), ("203.0.113.7", False)])
def test_the_address_to_publish_on_must_be_this_machines(
    run_module, podman_path: Path, address: str, local: bool
) -> None:
    result = run_module(local_storage_info.main, args(podman_path, address=address)).result
    assert result["address_local"] is local


def test_unknown_container_and_missing_image(run_module, podman_path: Path) -> None:
    result = run_module(
        local_storage_info.main, args(podman_path, container="mlbox-other", image="localhost/gone")
    ).result
    assert result["container"] == {} and result["image_exists"] is False


def test_nothing_asked_means_nothing_looked_up(run_module, podman_path: Path) -> None:
    result = run_module(local_storage_info.main, args(podman_path)).result
    assert result["container"] == {} and result["image_exists"] is False


def test_a_failing_podman_is_an_error(run_module, podman_path: Path) -> None:
    exited = run_module(local_storage_info.main, args(podman_path, container="broken"))
    assert exited.failed
    assert (
        "podman container inspect broken failed: Error: database is locked" in exited.result["msg"]
    )
