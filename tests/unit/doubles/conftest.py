"""The API doubles of tests/doubles, imported in-process (no server, no network)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The doubles, and this folder's helpers (aliyun_account, test_ec2_double): pytest's default
# import mode puts this folder on sys.path by itself, ansible-test units (which imports the
# tests as ansible_collections.mlbox.workbench.tests...) does not.
DOUBLES = Path(__file__).resolve().parents[2] / "doubles"
for folder in (DOUBLES, Path(__file__).resolve().parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

pytest.importorskip("alibabacloud_ecs20140526")
pytest.importorskip("alibabacloud_vpc20160428")
