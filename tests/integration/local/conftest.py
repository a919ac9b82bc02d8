"""The cloud_local lifecycle on this machine: real podman, loop devices, Jupyter over HTTPS.

Each test gets a workbench name, ports and a HOME of its own (so the SSH key, the password
file and the state directory never touch the user's); whatever a test leaves behind is
removed at its end, containers and loop devices included.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_helpers import PASSWORD, ROOT, Workbench
from secret_guard import SecretGuard

pytestmark = pytest.mark.local


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "local: the cloud_local lifecycle on real podman")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.geteuid() != 0 or shutil.which("podman") is None:
        skip = pytest.mark.skip(reason="cloud_local needs root and podman (make setup)")
        for item in items:
            item.add_marker(skip)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def local_env(home: Path, secret_guard: SecretGuard) -> dict[str, str]:
    """The runs' environment, at -vvv; the password and the keys made are watched."""
    secret_guard.add("the notebook password", PASSWORD)
    # No CONTAINERS_CONF: the product passes podman what it needs itself (cloud_local).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANSIBLE_", "XDG_")) and k != "CONTAINERS_CONF"
    }
    env.update(
        HOME=str(home),
        WORKBENCH_NOTEBOOK_PASSWORD=PASSWORD,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_DEPRECATION_WARNINGS="False",
    )
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return secret_guard.env(env)


def cleanup(state_dir: Path, names: list[str]) -> None:
    for name in names:
        subprocess.run(
            ["podman", "rm", "-f", "-t", "5", f"mlbox-{name}"], capture_output=True, check=False
        )
    for image in state_dir.glob("local/*/disks/*.img"):
        out = subprocess.run(
            ["losetup", "-j", str(image)], capture_output=True, text=True, check=False
        )
        for line in out.stdout.splitlines():
            subprocess.run(
                ["losetup", "-d", line.split(":", 1)[0]], capture_output=True, check=False
            )


@pytest.fixture
def make_workbench(
    local_env: dict[str, str], home: Path, request: pytest.FixtureRequest
) -> Iterator:
    """Workbenches that share this test's state directory; all removed at the end."""
    state_dir = home / ".local" / "share" / "mlbox"
    made: list[str] = []
    base = re.sub(r"[^a-z0-9]", "", request.node.name.lower())[-12:]

    def make(suffix: str = "") -> Workbench:
        name = f"t{base}{suffix}"[:30]
        made.append(name)
        return Workbench(name, local_env, state_dir, free_port(), free_port())

    yield make
    cleanup(state_dir, made)


@pytest.fixture
def workbench(make_workbench) -> Workbench:
    return make_workbench()
