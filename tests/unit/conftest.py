"""Make the collection importable as ansible_collections.mlbox.workbench in unit tests."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

# The repo root is the collection root; ./.ansible/collections/ansible_collections/mlbox/
# workbench links back to it (see ansible.cfg's collections_path).
ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".ansible" / "collections"

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


class ModuleExit(Exception):
    """exit_json or fail_json was called; `result` holds what the module passed to it."""

    def __init__(self, result: dict[str, Any], failed: bool) -> None:
        super().__init__(result)
        self.result = result
        self.failed = failed


@pytest.fixture
def run_module(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], None], dict], ModuleExit]:
    """Run a module's main() with the given args; return what it exited with, unscrubbed.

    exit_json/fail_json are patched, so the result is what the module handed over, before
    Ansible's no_log masking: a secret in it is the module's fault, not hidden by Ansible.
    """

    def exit_json(self: AnsibleModule, **kwargs: Any) -> None:
        raise ModuleExit(kwargs, failed=False)

    def fail_json(self: AnsibleModule, msg: str, **kwargs: Any) -> None:
        raise ModuleExit(dict(kwargs, msg=msg, failed=True), failed=True)

    monkeypatch.setattr(AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(AnsibleModule, "fail_json", fail_json)

    def run(main: Callable[[], None], args: dict) -> ModuleExit:
        with patch_module_args(args), pytest.raises(ModuleExit) as exited:
            main()
        return exited.value

    return run


@dataclass(frozen=True)
class Controller:
    """How a test runs ansible-playbook here, under plain pytest or ``ansible-test units``."""

    playbook: str
    collections_path: str

    def env(self, base: Mapping[str, str], **extra: str) -> dict[str, str]:
        """base plus the project's ansible.cfg and the collections path, then extra."""
        return {
            **base,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": self.collections_path,
            "ANSIBLE_NOCOLOR": "1",
            **extra,
        }


@pytest.fixture(scope="session")
def controller() -> Controller:
    """ansible-playbook from PATH (ansible-test puts its own first; make puts .venv/bin
    first), else the one beside this Python. The collections: ansible-test's copy of the tree
    (its ANSIBLE_COLLECTIONS_PATH) when there is one, then ansible.cfg's collections_path."""
    playbook = shutil.which("ansible-playbook") or str(
        Path(sys.executable).parent / "ansible-playbook"
    )
    if not os.access(playbook, os.X_OK):
        pytest.fail(f"ansible-playbook is neither on PATH nor beside {sys.executable}")
    paths = [os.environ.get("ANSIBLE_COLLECTIONS_PATH", ""), str(COLLECTIONS)]
    paths += [os.path.expanduser("~/.ansible/collections"), "/usr/share/ansible/collections"]
    return Controller(playbook, os.pathsep.join(p for p in paths if p))
