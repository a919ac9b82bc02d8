"""ansible-playbook runs as the suites make them: to the end, read from the JSON callback, or
killed at a chosen moment. Shared by every suite (tests/integration is on sys.path through
the shared conftest, as secret_guard.py is).
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

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    """One ansible-playbook run, read from the ansible.posix.json callback."""

    rc: int
    stdout: str
    stderr: str
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        """Changed tasks over every host of the run; -1 when the run wrote no statistics."""
        stats = self.report.get("stats", {})
        return sum(int(s.get("changed", 0)) for s in stats.values()) if stats else -1

    def results(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(host, task name, result) for every task result, in order."""
        out = []
        for play in self.report.get("plays", []):
            for task in play.get("tasks", []):
                for host, result in task.get("hosts", {}).items():
                    out.append((host, task["task"]["name"], result))
        return out

    def fact(self, name: str) -> Any:
        """The last value a task set for this fact."""
        value = None
        for _play, _task, result in self.results():
            if name in result.get("ansible_facts", {}):
                value = result["ansible_facts"][name]
        return value

    def changed_tasks(self) -> list[str]:
        return [f"{host}: {name}" for host, name, result in self.results() if result.get("changed")]

    def failure(self) -> str:
        """What the failed tasks said (their loop items' too), or the output's tail."""

        def said(result: dict[str, Any]) -> str:
            words = [str(result.get(key, "")).strip() for key in ("msg", "stderr")]
            words.append(str(result.get("module_stderr", "")).strip()[-2000:])
            return " ".join(w for w in words if w)

        msgs = [
            "; ".join([said(result)] + [said(item) for item in result.get("results", [])
                                        if isinstance(item, dict) and item.get("failed")])
            for _play, _task, result in self.results()
            if result.get("failed") and not result.get("skipped")
        ]  # fmt: skip
        return "\n".join(msgs) or self.stderr[-3000:] or self.stdout[-3000:]

    def explain(self) -> str:
        return f"rc={self.rc}\n{self.failure()}\nstderr: {self.stderr[-2000:]}"


def _argv(args: list[str]) -> list[str]:
    assert args[0] == "ansible-playbook", args
    return [str(Path(sys.executable).parent / "ansible-playbook"), *args[1:]]


def playbook_args(playbook: Path, extra_vars: dict[str, Any]) -> list[str]:
    return ["ansible-playbook", "-e", json.dumps(extra_vars), str(playbook)]


def run_command(args: list[str], env: dict[str, str], timeout: int = 1200) -> Run:
    """An ansible-playbook command line as a user would type it, from the repository root."""
    result = subprocess.run(
        _argv(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    # ansible.cfg's profile_tasks writes around the JSON document; take the document alone.
    report: dict[str, Any] = {}
    match = re.search(r"^\{$", result.stdout, flags=re.MULTILINE)
    if match:
        with contextlib.suppress(json.JSONDecodeError):
            report, _end = json.JSONDecoder().raw_decode(result.stdout[match.start() :])
    return Run(result.returncode, result.stdout, result.stderr, report)


def run_playbook(
    playbook: Path, extra_vars: dict[str, Any], env: dict[str, str], timeout: int = 1200
) -> Run:
    return run_command(playbook_args(playbook, extra_vars), env, timeout)


def killed_when(
    args: list[str],
    env: dict[str, str],
    moment: Callable[[], bool],
    timeout: float = 300,
    settle: float = 0.0,
) -> None:
    """Run an ansible-playbook command line and SIGKILL its whole process tree `settle`
    seconds after moment() is true; fails if the run ends or the moment does not come first.

    Ansible's workers and Mitogen's multiplexer call setsid, so the process group is not all
    of it: the tree is frozen until no new process shows up in it, then killed, so that no
    worker goes on by itself. Daemons the run started (podman's conmon) are not in the tree
    and live on, as an instance would.
    """
    process = subprocess.Popen(
        _argv(args), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while not moment():
            assert process.poll() is None, f"the run ended (rc {process.returncode}) first"
            assert time.monotonic() < deadline, f"the moment did not come within {timeout} s"
            time.sleep(0.05)
        time.sleep(settle)
        assert process.poll() is None, f"the run ended (rc {process.returncode}) before the kill"
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


def descendants(pid: int) -> list[int]:
    """pid's children, grandchildren ..., read from /proc (processes that vanish meanwhile
    are skipped)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out
