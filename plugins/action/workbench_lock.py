# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""mlbox.workbench.workbench_lock: the workbench's lock, held for the ansible-playbook run.

An action plugin runs on the controller in a worker that ansible-playbook forks for the task
and that ends with it; the lock must outlive the task. So the worker takes the flock and hands
the very descriptor to a small holder process that lives exactly as long as ansible-playbook
(it waits on a pidfd of it: no polling), then closes its own copy. When ansible-playbook ends,
however it ends (SIGKILL included), the holder ends and the kernel releases the lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.mlbox.workbench.plugins.module_utils import workbench_lock

# Runs as `python -c HOLDER <pid>` with the locked descriptor inherited; ends when <pid> ends.
HOLDER = """
import os, select, sys, time
pid = int(sys.argv[1])
try:
    select.select([os.pidfd_open(pid)], [], [])
except (AttributeError, OSError):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
"""


def hold_until_exit(fd: int, pid: int) -> int:
    """Start the holder of ``fd`` for the life of ``pid``; returns the holder's pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(pid)],
        pass_fds=(fd,),
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return holder.pid


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("cloud", "name", "wait", "timeout", "lock_dir"))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        for required in ("cloud", "name"):
            if not args.get(required):
                raise AnsibleActionFail(f"workbench_lock needs {required}")
        cloud, name = str(args["cloud"]), str(args["name"])
        wait = boolean(args.get("wait", False), strict=False)
        timeout = float(args.get("timeout") or 0)
        lock = workbench_lock.lock_path(cloud, name, args.get("lock_dir") or None)
        # This worker's parent is the ansible-playbook process the lock is held for.
        playbook_pid = os.getppid()
        holder = {
            "pid": playbook_pid,
            "command": workbench_lock.command_of(playbook_pid),
            "since": workbench_lock.utc_now(),
        }
        try:
            fd = workbench_lock.acquire(
                lock, holder, workbench_lock.lineage(playbook_pid), wait=wait, timeout=timeout
            )
        except workbench_lock.LockHeld as held:
            waited = f" (waited {held.waited:.0f} s)" if wait else ""
            raise AnsibleActionFail(
                f"Workbench '{name}' (cloud={cloud}) is busy: another run holds its lock "
                f"{lock}: {held}{waited}. Let it finish, or wait for it: -e "
                "workbench_lock_wait=true (scripts: --wait). A lock left by a killed run is "
                "released with it."
            ) from None
        result.update(changed=False, lock=lock)
        if fd is None:
            result["holder"] = workbench_lock.read_holder(lock)
            result["msg"] = f"held by the calling run: {workbench_lock.describe(result['holder'])}"
            return result
        try:
            hold_until_exit(fd, playbook_pid)
        finally:
            os.close(fd)
        result["holder"] = holder
        result["msg"] = f"taken for pid {playbook_pid}"
        return result
