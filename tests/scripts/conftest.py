"""Fixtures for the wrapper scripts' tests: the scripts' package on sys.path, and an
environment that points them at tests/scripts/stub_project (stub playbooks that only
record what they were given) with every state and config dir in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
STUB_PROJECT = Path(__file__).resolve().parent / "stub_project"
DOUBLES = REPO / "tests" / "doubles"

if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

# Variables of the caller's environment that would change what the scripts do.
CLEARED = (
    "WORKBENCH_NOTEBOOK_PASSWORD",
    "ALIYUN_ACCESS_KEY_ID",
    "ALIYUN_ACCESS_KEY_SECRET",
    "ALICLOUD_ACCESS_KEY",
    "ALICLOUD_ACCESS_KEY_ID",
    "ALICLOUD_SECRET_KEY",
    "ALICLOUD_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AZURE_CLIENT_ID",
    "AZURE_SECRET",
    "AZURE_TENANT",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_PROFILE",
    "MLBOX_REEXEC",
    "STUB_FAIL",
    "STUB_LISTING",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lifecycle: runs the real local lifecycle (podman) through the scripts"
    )


@dataclass
class StubEnv:
    """Paths of one test's sandbox and helpers to read what the stubs recorded."""

    tmp: Path
    home: Path
    config_home: Path
    state_dir: Path
    record: Path

    def env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in CLEARED}

    def recorded(self, playbook: str) -> dict[str, Any]:
        return json.loads(Path(f"{self.record}-{playbook}.json").read_text())

    def was_run(self, playbook: str) -> bool:
        return Path(f"{self.record}-{playbook}.json").exists()

    def write_listing(self, disks: list[dict], snapshots: list[dict]) -> Path:
        path = self.tmp / "listing.json"
        path.write_text(json.dumps({"workbench_disks": disks, "workbench_snapshots": snapshots}))
        return path

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "_runs"


@pytest.fixture(scope="session")
def price_doubles() -> Iterator[dict[str, str]]:
    """The pricing APIs start_instance.py asks before anything is made, as doubles: the ECS
    double and the Azure Retail Prices double in threads, moto (EC2 + Price List) beside."""
    sys.path.insert(0, str(DOUBLES))
    import aliyun_ecs
    import azure_prices

    servers = [aliyun_ecs.serve(), azure_prices.serve()]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    moto = subprocess.Popen(
        [sys.executable, str(DOUBLES / "moto_server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert moto.stdout is not None
        line = moto.stdout.readline()
        assert line.startswith("port="), line
        aliyun, azure = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
        yield {
            "MLBOX_ALIYUN_ECS_ENDPOINT": aliyun,
            "MLBOX_AZURE_PRICES_URL": azure + "/api/retail/prices",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{line.split('=', 1)[1].strip()}",
        }
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def stub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, price_doubles: dict[str, str]) -> StubEnv:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    sandbox = StubEnv(
        tmp=tmp_path,
        home=home,
        config_home=tmp_path / "config",
        state_dir=tmp_path / "state",
        record=tmp_path / "record",
    )
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(sandbox.config_home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("MLBOX_PROJECT_DIR", str(STUB_PROJECT))
    monkeypatch.setenv("STUB_RECORD", str(sandbox.record))
    monkeypatch.setenv(
        "STUB_SECRET_NAMES",
        "WORKBENCH_NOTEBOOK_PASSWORD,ALICLOUD_ACCESS_KEY,ALICLOUD_SECRET_KEY,"
        "AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,GITHUB_TOKEN",
    )
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    for name, value in price_doubles.items():  # no price lookup leaves this machine
        monkeypatch.setenv(name, value)
    return sandbox
