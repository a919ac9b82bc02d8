"""The project's ECS/VPC double per test session, and helpers to run cloud_aliyun against it.

The double is tests/doubles/aliyun_ecs.py on 127.0.0.1 at a free port; aliyunsdkcore (under
alibaba.alicloud's footmark and our own aliyun_* modules) speaks plain HTTP and honours
HTTP_PROXY, so every ECS and VPC call of a run lands there. Every test starts from an empty
account, without injected faults and with an empty journal. The keys are dummies.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("aliyunsdkcore")
pytest.importorskip("footmark")
pytest.importorskip("alibabacloud_ecs20140526")  # the double checks requests against it

from aliyun_helpers import ACCESS_KEY, DOUBLE, PAUSE_SHIM, REGION, ROOT, SECRET, Double, Workbench
from secret_guard import SecretGuard

START_TIMEOUT = 30


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "aliyun: the cloud_aliyun lifecycle against the ECS double")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    collections = ROOT / ".ansible" / "collections" / "ansible_collections" / "alibaba"
    if not (collections / "alicloud").is_dir():
        skip = pytest.mark.skip(reason="alibaba.alicloud is not installed (make setup)")
        for item in items:
            if "aliyun" in str(item.path):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def double_server() -> Iterator[Double]:
    process = subprocess.Popen(
        [sys.executable, str(DOUBLE), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = ""
        while time.monotonic() < deadline and not line.startswith("port="):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError(f"the ECS double exited with {process.returncode}")
        port = int(line.strip().split("=", 1)[1])
        yield Double(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def double(double_server: Double) -> Double:
    double_server.reset()
    return double_server


@pytest.fixture(scope="session")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An RSA key pair as workbench_common makes it for aliyun (private 0600, .pub beside).

    ECS imports no ed25519 key; 2048 bits instead of the role's 4096 only to make it quicker.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("key") / "id_rsa"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    path.with_suffix(".pub").write_bytes(public + b" mlbox-test\n")
    return path


@pytest.fixture
def aliyun_env(double: Double, secret_guard: SecretGuard) -> dict[str, str]:
    """The runs' environment, at -vvv; the access key secret and the keys made are watched."""
    secret_guard.add("the Aliyun access key secret", SECRET)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALIYUN_", "ALICLOUD_", "ANSIBLE_", "HTTP_PROXY", "HTTPS_PROXY"))
        and k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "pythonpath")
    }
    env.update(
        HTTP_PROXY=double.url,
        ALIYUN_ACCESS_KEY_ID=ACCESS_KEY,
        ALIYUN_ACCESS_KEY_SECRET=SECRET,
        ALIYUN_REGION=REGION,
        PYTHONPATH=str(PAUSE_SHIM),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_DEPRECATION_WARNINGS="False",
    )
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return secret_guard.env(env)


@pytest.fixture
def workbench(
    aliyun_env: dict[str, str], ssh_key: Path, request: pytest.FixtureRequest
) -> Workbench:
    # A name per test, so a failure's leftovers never look like another test's.
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:24].strip("-")
    return Workbench(f"t-{name}"[:30].strip("-"), aliyun_env, ssh_key)
