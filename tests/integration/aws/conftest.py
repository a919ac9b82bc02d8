"""A moto server per test session and helpers to run the AWS lifecycle against it.

The server is tests/doubles/moto_server.py on 127.0.0.1 at a free port; every test starts
from an empty account (moto's reset), without injected faults, with resources that settle
after the double's default number of reads, and with an empty journal of the calls the
server received. Nothing here can reach AWS: AWS_ENDPOINT_URL always points at
the local server and the credentials are dummies.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("boto3")
pytest.importorskip("moto")

from aws_helpers import MOTO_SERVER, REGION, ROOT, WAITER_SHIM, Moto, Workbench
from secret_guard import SecretGuard

START_TIMEOUT = 60


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "aws: the cloud_aws lifecycle against a local moto server")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Moto]:
    process = subprocess.Popen(
        [sys.executable, str(MOTO_SERVER), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = ""
        # The launcher prints its port once it listens; the first line is all we read.
        while time.monotonic() < deadline and not line.startswith("port="):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError(f"moto server exited with {process.returncode}")
        port = int(line.strip().split("=", 1)[1])
        yield Moto(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def moto(moto_server: Moto) -> Moto:
    moto_server.reset()
    return moto_server


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


# moto takes any key; a distinctive one lets the secret guard find it wherever it leaks.
SECRET_ACCESS_KEY = "mlbox-test-secret-" + secrets.token_hex(12)


@pytest.fixture
def aws_env(moto: Moto, tmp_path: Path, secret_guard: SecretGuard) -> dict[str, str]:
    """The runs' environment, at -vvv; the secret key and the keys made are watched."""
    secret_guard.add("the AWS secret access key", SECRET_ACCESS_KEY)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "ANSIBLE_", "EC2_", "BOTO"))
    }
    env.update(
        AWS_ENDPOINT_URL=moto.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION=REGION,
        # botocore's waiters read the double's settling resources without their 15 s pauses.
        PYTHONPATH=str(WAITER_SHIM),
        # No profile or credentials file of the user's can leak in.
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_DEPRECATION_WARNINGS="False",
    )
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return secret_guard.env(env)


@pytest.fixture
def workbench(aws_env: dict[str, str], ssh_key: Path, request: pytest.FixtureRequest) -> Workbench:
    # A name per test, so a failure's leftovers never look like another test's.
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:24].strip("-")
    return Workbench(f"t-{name}"[:30].strip("-"), aws_env, ssh_key)
