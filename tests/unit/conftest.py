"""Make the collection importable as ansible_collections.mlbox.workbench in unit tests."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

# The repo root is the collection root; ./.ansible/collections/ansible_collections/mlbox/
# workbench links back to it (see ansible.cfg's collections_path).
COLLECTIONS = Path(__file__).resolve().parents[2] / ".ansible" / "collections"

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
