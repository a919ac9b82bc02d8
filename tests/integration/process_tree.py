"""The processes below one: shared by the suites' fault tests, which kill a run's whole tree.

Mitogen's connection multiplexer calls setsid, so killing ansible-playbook's process group
alone leaves it behind; the tests walk /proc instead. Importable from every suite as
secret_guard.py is (tests/integration is on sys.path through the shared conftest).
"""

from __future__ import annotations

import contextlib
from pathlib import Path


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
