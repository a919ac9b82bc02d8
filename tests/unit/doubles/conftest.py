"""The API doubles of tests/doubles, imported in-process (no server, no network)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DOUBLES = Path(__file__).resolve().parents[2] / "doubles"
if str(DOUBLES) not in sys.path:
    sys.path.insert(0, str(DOUBLES))

pytest.importorskip("alibabacloud_ecs20140526")
pytest.importorskip("alibabacloud_vpc20160428")
