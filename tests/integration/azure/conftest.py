"""The ARM double per test session and helpers to run the Azure lifecycle against it.

The double is tests/doubles/azure_arm.py on 127.0.0.1 at a free port, with a certificate for
management.azure.com and login.microsoftonline.com made here with openssl; the runs reach it
through HTTPS_PROXY and trust it through REQUESTS_CA_BUNDLE. Every test starts from an empty
subscription, without faults and with an empty journal. The Azure SDK is the optional
.venv-azure (make setup-azure).
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
from azure_helpers import (
    ARM_DOUBLE,
    AZURE_PYTHON,
    CLIENT_SECRET,
    LRO_PAUSE,
    ROOT,
    SUBSCRIPTION,
    TENANT,
    Arm,
    Workbench,
)
from secret_guard import SecretGuard

START_TIMEOUT = 30


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "azure: the cloud_azure lifecycle against the ARM double")


@pytest.fixture(scope="session")
def azure_python() -> Path:
    if not AZURE_PYTHON.exists():
        pytest.fail(f"{AZURE_PYTHON} is missing: run `make setup-azure` (tests/setup/azure.sh)")
    return AZURE_PYTHON


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the hosts the SDK talks to, made for this session."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=mlbox azure double",
         "-addext", "subjectAltName=DNS:management.azure.com,DNS:login.microsoftonline.com"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="session")
def arm_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Arm, int]]:
    cert, key = certificate
    process = subprocess.Popen(
        [sys.executable, str(ARM_DOUBLE), "--port", "0", "--cert", str(cert), "--key", str(key)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = ""
        while time.monotonic() < deadline and not line.startswith("port="):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError(f"ARM double exited with {process.returncode}")
        port = int(line.strip().split("=", 1)[1])
        yield Arm(f"http://127.0.0.1:{port}"), port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def arm(arm_server: tuple[Arm, int]) -> Arm:
    arm_server[0].reset()
    return arm_server[0]


@pytest.fixture(scope="session")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ed25519 key pair as workbench_common would make it (private 0600, .pub beside)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    path = tmp_path_factory.mktemp("key") / "id_ed25519"
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
def azure_env(
    arm_server: tuple[Arm, int],
    certificate: tuple[Path, Path],
    azure_python: Path,
    tmp_path: Path,
    secret_guard: SecretGuard,
) -> dict[str, str]:
    """The runs' environment, at -vvv; the client secret and the keys made are watched."""
    secret_guard.add("the Azure client secret", CLIENT_SECRET)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_", "ANSIBLE_", "MLBOX_", "ARM_"))
        and k.lower() not in ("https_proxy", "http_proxy", "no_proxy", "all_proxy")
    }
    config_dir = tmp_path / "azure-config"  # no profile or az login of the user's leaks in
    config_dir.mkdir()
    env.update(
        HTTPS_PROXY=f"http://127.0.0.1:{arm_server[1]}",
        NO_PROXY="",
        REQUESTS_CA_BUNDLE=str(certificate[0]),
        AZURE_CLIENT_ID="double-client",
        AZURE_SECRET=CLIENT_SECRET,
        AZURE_TENANT=TENANT,
        AZURE_SUBSCRIPTION_ID=SUBSCRIPTION,
        AZURE_CONFIG_DIR=str(config_dir),
        MLBOX_AZURE_PYTHON=str(azure_python),
        PYTHONPATH=str(LRO_PAUSE),
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
    azure_env: dict[str, str], ssh_key: Path, request: pytest.FixtureRequest
) -> Workbench:
    # A name per test, so a failure's leftovers never look like another test's.
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:24].strip("-")
    return Workbench(f"t-{name}"[:30].strip("-"), azure_env, ssh_key)
