"""The smoke tests' markers; the tests skip themselves unless asked (see test_smoke.py)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    for cloud in ("aws", "aliyun", "azure"):
        config.addinivalue_line(
            "markers", f"smoke_{cloud}: the lifecycle on a real {cloud} account (bills it)"
        )
