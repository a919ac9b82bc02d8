"""Helpers for the cloud_local lifecycle tests: playbook runs and what exists on this machine.

Everything is real: podman containers, loop devices, disk images and snapshot archives under a
state directory of the test's own, and the workbench's Jupyter over HTTPS.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from playbook_run import Run, killed_when, playbook_args, run_playbook

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = ROOT / "playbooks"
PASSWORD = "correct-horse-battery-9"
TIMEOUT = 30


def sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


class Workbench:
    """The three playbooks for one workbench name, with its own ports and state directory."""

    def __init__(
        self, name: str, env: dict[str, str], state_dir: Path, ssh_port: int, notebook_port: int
    ) -> None:
        self.name = name
        self.env = env
        self.state_dir = state_dir
        self.notebook_port = notebook_port
        self.base_vars: dict[str, Any] = {
            "cloud": "local",
            "workbench_name": name,
            "workbench_state_dir": str(state_dir),
            "workbench_local_ssh_port": ssh_port,
            "workbench_notebook_port": notebook_port,
            "workbench_disk_size_gb": 3,
        }

    def provision(self, env: dict[str, str] | None = None, **extra: Any) -> Run:
        return self.run("provision.yml", env, **extra)

    def run(self, playbook: str, env: dict[str, str] | None = None, **extra: Any) -> Run:
        return run_playbook(PLAYBOOKS / playbook, {**self.base_vars, **extra}, env or self.env)

    def provision_killed_when(self, moment: Callable[[], bool], **extra: Any) -> None:
        args = playbook_args(PLAYBOOKS / "provision.yml", {**self.base_vars, **extra})
        killed_when(args, self.env, moment)

    def teardown(self, **extra: Any) -> Run:
        return self.run("teardown.yml", **extra)

    def disks(self, **extra: Any) -> Run:
        return self.run("disks.yml", **extra)

    @property
    def container(self) -> str:
        return f"mlbox-{self.name}"

    @property
    def root(self) -> Path:
        return self.state_dir / "local" / self.name

    def metadata(self, kind: str) -> list[dict[str, Any]]:
        directory = self.root / kind
        if not directory.is_dir():
            return []
        return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


def inventory(state_dir: Path, *extra_names: str) -> dict[str, Any]:
    """What exists: containers, loop devices on images of the state dir, and its files."""
    # Only the workbenches of this state directory: other suites may run containers meanwhile.
    names = {p.name for p in (state_dir / "local").glob("*")} | set(extra_names)
    containers = sorted(
        n
        for n in sh("podman", "ps", "-a", "--format", "{{.Names}}").split()
        if n.removeprefix("mlbox-") in names
    )
    loops = json.loads(sh("losetup", "--list", "--json", "--output", "NAME,BACK-FILE") or "{}")
    base = str(state_dir.resolve())
    attached = sorted(
        (d["name"], d["back-file"])
        for d in loops.get("loopdevices", [])
        if (d.get("back-file") or "").startswith(base)
    )
    files = sorted(
        (str(p.relative_to(state_dir)), p.stat().st_size)
        for p in state_dir.rglob("*")
        if p.is_file() and "_runs" not in p.parts
    )
    return {"containers": containers, "loops": attached, "files": files}


class Notebook:
    """A logged-in session on the workbench's Jupyter, over HTTPS."""

    def __init__(self, port: int, password: str = PASSWORD) -> None:
        self.url = f"https://127.0.0.1:{port}"
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.http.verify = False
        page = self.http.get(f"{self.url}/login", timeout=TIMEOUT)
        page.raise_for_status()
        response = self.http.post(
            f"{self.url}/login",
            data={"password": password, "_xsrf": self.http.cookies.get("_xsrf", "")},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        if response.status_code != 302:
            raise AssertionError(f"login refused: {response.status_code}")

    def _headers(self) -> dict[str, str]:
        return {"X-XSRFToken": self.http.cookies.get("_xsrf", "")}

    def write(self, path: str, text: str) -> None:
        response = self.http.put(
            f"{self.url}/api/contents/{path}",
            json={"type": "file", "format": "text", "content": text},
            headers=self._headers(),
            timeout=TIMEOUT,
        )
        assert response.status_code in (200, 201), response.text

    def read(self, path: str) -> str | None:
        response = self.http.get(f"{self.url}/api/contents/{path}", timeout=TIMEOUT)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()["content"]
