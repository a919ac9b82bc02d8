"""The real local lifecycle through the scripts: podman stands in for the cloud.

start (new disk, full configure) -> the notebook answers over HTTPS -> delete with a
snapshot and the disk -> start again from snapshot:latest -> delete everything. Slow
(minutes): marked `lifecycle`, `pytest -m lifecycle tests/scripts` runs it; it skips only
when podman is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from conftest import CLEARED, REPO

START = REPO / "scripts" / "start_instance.py"
DELETE = REPO / "scripts" / "delete_instance.py"
TIMEOUT = 45 * 60

pytestmark = [
    pytest.mark.lifecycle,
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed"),
    # TEMPORARY, until playbooks/provision.yml and roles/cloud_local land: then only podman.
    pytest.mark.skipif(
        not (REPO / "playbooks" / "provision.yml").exists()
        or not (REPO / "roles" / "cloud_local").is_dir(),
        reason="the real provision playbook and cloud_local role are not there yet",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def notebook_answers(url: str) -> int:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the workbench's certificate is self-signed
    try:
        with urllib.request.urlopen(f"{url}/login", context=context, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class Scripts:
    def __init__(self, tmp: Path, name: str) -> None:
        self.common = ["--cloud", "local", "--name", name, "--state-dir", str(tmp / "state")]
        self.env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        self.env.update(
            {
                "XDG_CONFIG_HOME": str(tmp / "config"),
                "WORKBENCH_NOTEBOOK_PASSWORD": "lifecycle-" + uuid.uuid4().hex[:12],
            }
        )
        # As a user calls the scripts: no CONTAINERS_CONF (cloud_local passes podman what it
        # needs itself).
        self.env.pop("CONTAINERS_CONF", None)
        self.env.pop("MLBOX_PROJECT_DIR", None)
        self.runs = tmp / "state" / "_runs" / name

    def run(self, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, str(script), *self.common, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=TIMEOUT,
            check=False,
        )
        sys.stdout.write(done.stdout + done.stderr)
        return done


def podman_names() -> str:
    listed = subprocess.run(
        ["podman", "ps", "-a", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return listed.stdout


def test_local_lifecycle_through_the_scripts(tmp_path: Path) -> None:
    name = "lc-" + uuid.uuid4().hex[:8]
    scripts = Scripts(tmp_path, name)
    port = str(free_port())
    # Not the default 2222: another local workbench on this machine may hold it.
    ports = ("--notebook-port", port, "--ssh-port", str(free_port()))
    try:
        started = scripts.run(START, "--disk", "new", "--yes", *ports)
        assert started.returncode == 0, started.stderr
        url = re.search(r"notebook at (https://\S+)", started.stdout)
        assert url, started.stdout
        assert notebook_answers(url.group(1)) == 200
        assert re.search(r"ssh:\s+ssh .*@127\.0\.0\.1", started.stdout)
        disk = re.search(r"data disk: (\S+)", started.stdout)
        assert disk and disk.group(1) != "?"

        deleted = scripts.run(DELETE, "--snapshot", "--delete-disk", "--yes")
        assert deleted.returncode == 0, deleted.stderr
        assert "data disk: deleted" in deleted.stdout

        again = scripts.run(START, "--disk", "snapshot:latest", "--no-configure", *ports)
        assert again.returncode == 0, again.stderr
        assert "instance up at 127.0.0.1" in again.stdout
    finally:
        last = scripts.run(DELETE, "--no-snapshot", "--delete-disk", "--yes")
    assert last.returncode == 0, last.stderr
    assert name not in podman_names()

    # Not one secret in anything ansible-runner kept of the four runs.
    password = scripts.env["WORKBENCH_NOTEBOOK_PASSWORD"].encode()
    kept = [path for path in scripts.runs.rglob("*") if path.is_file()]
    assert kept
    assert not [path for path in kept if password in path.read_bytes()]
