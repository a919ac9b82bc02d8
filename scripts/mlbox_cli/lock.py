"""The workbench's lock, held by the script for its whole run (questions, listing, playbook).

The lock itself is the collection's (plugins/module_utils/workbench_lock.py, loaded by path):
the playbooks take the same lock, and go on under the script's, which is their ancestor's.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

from .errors import BusyError
from .playbooks import REPO_ROOT
from .progress import Output

LOCK_MODULE = REPO_ROOT / "plugins" / "module_utils" / "workbench_lock.py"


def lock_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mlbox_workbench_lock", LOCK_MODULE)
    if spec is None or spec.loader is None:
        raise BusyError(f"cannot load {LOCK_MODULE}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class WorkbenchLock:
    """Held from take() until the process ends (the kernel releases it then)."""

    def __init__(self, cloud: str, name: str) -> None:
        self.lib = lock_module()
        self.path = self.lib.lock_path(cloud, name)
        self.cloud, self.name = cloud, name
        self.fd: int | None = None

    def take(self, wait: bool, output: Output) -> None:
        me = os.getpid()
        holder = {"pid": me, "command": self.lib.command_of(me), "since": self.lib.utc_now()}

        def waiting(other: dict) -> None:
            output.text(f"waiting for the workbench's lock, held by {self.lib.describe(other)}")

        try:
            self.fd = self.lib.acquire(
                self.path, holder, self.lib.lineage(me), wait=wait, on_wait=waiting
            )
        except self.lib.LockHeld as held:
            raise BusyError(
                f"workbench {self.name!r} ({self.cloud}) is busy: another run holds its lock "
                f"({Path(self.path)}): {held}. Let it finish, or add --wait to wait for it."
            ) from None
