"""Shared by every provider suite under tests/integration/.

``secret_guard``: each suite's environment fixture registers its secrets with it and runs
Ansible through ``guard.env(...)`` (verbosity 3, logged); at the end of the test the guard's
findings (a secret in the output, on a command line, or in a file not private to its owner)
fail it. See secret_guard.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from secret_guard import SecretGuard


@pytest.fixture
def secret_guard(tmp_path: Path) -> Iterator[SecretGuard]:
    guard = SecretGuard(tmp_path)
    guard.start()
    yield guard
    findings = guard.finish()
    assert not findings, "secrets leaked:\n" + "\n".join(findings)
    assert guard.processes_seen > 0, "the process watch never ran"
