# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""One lock per workbench on the controller, for provision and teardown alike.

The lock is an flock(2) on ``<XDG_STATE_HOME or ~/.local/state>/mlbox/locks/<cloud>-<name>.lock``:
the kernel releases it when the last descriptor of its holder goes, so a run that is killed
(even with SIGKILL) leaves no lock behind. Beside it, ``<cloud>-<name>.holder.json`` says who
holds it (pid, command, since when); it is information only, rewritten by each new holder.

A process whose ancestor holds the lock (the wrapper scripts hold it for their whole run and
start ansible-playbook) goes on under that ancestor's lock.

Plain Python (no Ansible import): the action plugin mlbox.workbench.workbench_lock and the
wrapper scripts (which load this file by path) share it.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import time
from typing import Any, Callable, Mapping

FIRST_PAUSE = 0.05
MAX_PAUSE = 0.5
COMMAND_MAX = 200


class LockHeld(Exception):
    """Another run holds the lock; ``holder`` is what it wrote about itself ({} if unknown)."""

    def __init__(self, holder: dict[str, Any], waited: float = 0.0) -> None:
        super().__init__(describe(holder))
        self.holder = holder
        self.waited = waited


def lock_dir(environ: Mapping[str, str] | None = None) -> str:
    """Where the locks live: $XDG_STATE_HOME/mlbox/locks (~/.local/state/... without it)."""
    if environ is None:
        environ = os.environ
    base = environ.get("XDG_STATE_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "mlbox", "locks")


def lock_path(cloud: str, name: str, directory: str | None = None) -> str:
    """The lock file of a workbench (the holder info is beside it)."""
    return os.path.join(directory or lock_dir(), f"{cloud}-{name}.lock")


def holder_path(lock: str) -> str:
    return lock[: -len(".lock")] + ".holder.json"


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def command_of(pid: int) -> str:
    """The command line of a process, as one line (shortened)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return "?"
    words = [os.path.basename(argv[0].decode(errors="replace"))] if argv and argv[0] else []
    words += [w.decode(errors="replace") for w in argv[1:] if w]
    # The interpreter is noise: "python start_instance.py ..." reads as the script.
    if words and words[0].startswith("python") and len(words) > 1:
        words = [os.path.basename(words[1]), *words[2:]]
    text = " ".join(words)
    return text if len(text) <= COMMAND_MAX else text[: COMMAND_MAX - 3] + "..."


def parent_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def lineage(pid: int) -> set[int]:
    """pid and its ancestors."""
    seen: set[int] = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        pid = parent_of(pid)
    return seen


def read_holder(lock: str) -> dict[str, Any]:
    try:
        with open(holder_path(lock), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "a run that has not said who it is yet"
    return (
        f"pid {holder.get('pid', '?')} ({holder.get('command', '?')}), "
        f"since {holder.get('since', '?')}"
    )


def _write_holder(lock: str, holder: dict[str, Any]) -> None:
    path = holder_path(lock)
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(holder, handle)
        handle.write("\n")
    os.replace(tmp, path)


def acquire(
    lock: str,
    holder: dict[str, Any],
    family: set[int] | None = None,
    wait: bool = False,
    timeout: float = 0.0,
    on_wait: Callable[[dict[str, Any]], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int | None:
    """Take the lock: the descriptor that holds it, or None when a process of ``family`` (the
    caller and its ancestors) holds it already. Raises LockHeld when another run holds it and
    ``wait`` is false, or it was still held after ``timeout`` seconds (0: no limit)."""
    os.makedirs(os.path.dirname(lock), mode=0o700, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    started = time.monotonic()
    pause = FIRST_PAUSE
    announced = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = read_holder(lock)
                if family and other.get("pid") in family:
                    os.close(fd)
                    return None
                waited = time.monotonic() - started
                if not wait or (timeout and waited >= timeout):
                    raise LockHeld(other, waited) from None
                if on_wait and not announced:
                    on_wait(other)
                    announced = True
                sleep(pause)
                pause = min(pause * 2, MAX_PAUSE)
                continue
            _write_holder(lock, holder)
            return fd
    except BaseException:
        # A descriptor that holds nothing (or a lock the caller will not get) is closed.
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
