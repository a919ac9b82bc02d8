"""Helpers for the cloud_local lifecycle tests: playbook runs and what exists on this machine.

Everything is real: podman containers, loop devices, disk images and snapshot archives under a
state directory of the test's own, and the workbench's Jupyter over HTTPS.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from process_tree import descendants

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = ROOT / "playbooks"
PASSWORD = "correct-horse-battery-9"
TIMEOUT = 30


@dataclass
class Run:
    """One ansible-playbook run, read from the ansible.posix.json callback."""

    rc: int
    stdout: str
    stderr: str
    report: dict[str, Any] = field(default_factory=dict)

    def stats(self) -> dict[str, dict[str, int]]:
        return self.report.get("stats", {})

    @property
    def changed(self) -> int:
        """Changed tasks over every host of the run (localhost and the instance)."""
        return sum(int(s.get("changed", 0)) for s in self.stats().values())

    def results(self) -> list[tuple[str, str, dict[str, Any]]]:
        out = []
        for play in self.report.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task.get("hosts", {}).items():
                    out.append((host, task["task"]["name"], result))
        return out

    def fact(self, name: str) -> Any:
        value = None
        for _, _, result in self.results():
            if name in result.get("ansible_facts", {}):
                value = result["ansible_facts"][name]
        return value

    def changed_tasks(self) -> list[str]:
        return [f"{host}: {name}" for host, name, result in self.results() if result.get("changed")]

    def failure(self) -> str:
        def said(result: dict[str, Any]) -> str:
            return " ".join(str(result.get(key, "")).strip() for key in ("msg", "stderr")).strip()

        msgs = [
            "; ".join([said(result)] + [said(item) for item in result.get("results", [])
                                        if isinstance(item, dict) and item.get("failed")])
            for _, _, result in self.results()
            if result.get("failed") and not result.get("skipped")
        ]  # fmt: skip
        return "\n".join(msgs) or self.stderr[-3000:] or self.stdout[-3000:]

    def explain(self) -> str:
        return f"rc={self.rc}\n{self.failure()}\nstderr: {self.stderr[-2000:]}"


def run_playbook(
    playbook: str, extra_vars: dict[str, Any], env: dict[str, str], timeout: int = 1200
) -> Run:
    return run_command(
        ["ansible-playbook", "-e", json.dumps(extra_vars), str(PLAYBOOKS / playbook)], env, timeout
    )


def run_command(args: list[str], env: dict[str, str], timeout: int = 1200) -> Run:
    """An ansible-playbook command line as a user would type it, from the repository root."""
    assert args[0] == "ansible-playbook", args
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), *args[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    report: dict[str, Any] = {}
    match = re.search(r"^\{$", result.stdout, flags=re.MULTILINE)
    if match:
        try:
            report, _ = json.JSONDecoder().raw_decode(result.stdout[match.start() :])
        except json.JSONDecodeError:
            report = {}
    return Run(result.returncode, result.stdout, result.stderr, report)


def killed_when(
    playbook: str,
    extra_vars: dict[str, Any],
    env: dict[str, str],
    moment: Callable[[], bool],
    timeout: float = 300,
) -> None:
    """Run a playbook and SIGKILL its whole process tree as soon as moment() is true.

    Ansible's workers and Mitogen's multiplexer call setsid, so the process group is not all
    of it: the tree is frozen until no new process shows up in it, then killed, so that no
    worker goes on by itself. Daemons the run started (podman's conmon) are not in the tree
    and live on, as an instance would.
    """
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-e", json.dumps(extra_vars),
         str(PLAYBOOKS / playbook)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while not moment():
            assert process.poll() is None, f"{playbook} ended (rc {process.returncode}) first"
            assert time.monotonic() < deadline, f"{playbook}: not there within {timeout} s"
            time.sleep(0.05)
    finally:
        frozen: list[int] = []
        while new := [p for p in [process.pid, *descendants(process.pid)] if p not in frozen]:
            for pid in new:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            frozen += new
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)


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
        return run_playbook("provision.yml", {**self.base_vars, **extra}, env or self.env)

    def provision_killed_when(self, moment: Callable[[], bool], **extra: Any) -> None:
        killed_when("provision.yml", {**self.base_vars, **extra}, self.env, moment)

    def teardown(self, **extra: Any) -> Run:
        return run_playbook("teardown.yml", {**self.base_vars, **extra}, self.env)

    def disks(self, **extra: Any) -> Run:
        return run_playbook("disks.yml", {**self.base_vars, **extra}, self.env)

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
