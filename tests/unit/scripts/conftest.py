"""The wrapper scripts' package (scripts/mlbox_cli) and the API doubles (tests/doubles),
importable in-process; doubles that speak HTTP served from a thread, one per session."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
for path in (REPO / "scripts", REPO / "tests" / "doubles"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def control(url: str, method: str, path: str, payload: Any = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def threaded(server: Any) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def aliyun_url() -> Iterator[str]:
    pytest.importorskip("alibabacloud_ecs20140526")
    import aliyun_ecs

    yield from threaded(aliyun_ecs.serve())


@pytest.fixture(scope="session")
def azure_prices_url() -> Iterator[str]:
    import azure_prices

    yield from threaded(azure_prices.serve())


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """tests/doubles/moto_server.py (EC2 and the Price List API) as the scripts tests start it."""
    pytest.importorskip("moto")
    process = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "doubles" / "moto_server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("port="), line
        yield f"http://127.0.0.1:{int(line.split('=', 1)[1])}"
    finally:
        process.terminate()
        process.wait(timeout=10)
