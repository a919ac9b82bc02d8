"""The integration suites' secret guard (tests/integration/secret_guard.py) catches leaks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from secret_guard import SecretGuard, key_fragments

SECRET = "guard-test-secret-5f1c9e"


@pytest.fixture
def guard(tmp_path: Path) -> SecretGuard:
    g = SecretGuard(tmp_path)
    g.add("the test secret", SECRET)
    return g


def openssh_key() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )


def test_a_clean_run_has_no_findings(guard: SecretGuard, tmp_path: Path) -> None:
    private = tmp_path / "password"
    private.write_text(SECRET)
    private.chmod(0o600)
    guard.start()
    subprocess.run(["sleep", "0.2"], check=True)
    assert guard.finish() == []
    assert guard.processes_seen > 0


def test_a_secret_on_a_command_line_is_found(guard: SecretGuard) -> None:
    guard.start()
    subprocess.run(["sh", "-c", f": {SECRET}; sleep 0.3"], check=True)
    [finding] = guard.finish()
    assert "the test secret on the command line" in finding
    assert SECRET not in finding


def test_a_secret_in_the_log_is_found_whatever_its_mode(guard: SecretGuard) -> None:
    guard.log.write_text(f"TASK [x] ... password={SECRET}\n")
    guard.log.chmod(0o600)
    [finding] = guard.finish()
    assert "-vvv output" in finding


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_secret_in_a_readable_file_is_found(
    guard: SecretGuard, tmp_path: Path, mode: int
) -> None:
    leaked = tmp_path / "state" / "config.json"
    leaked.parent.mkdir()
    leaked.write_text(f'{{"password": "{SECRET}"}}')
    leaked.chmod(mode)
    [finding] = guard.finish()
    assert "config.json" in finding and f"{mode:04o}" in finding


def test_private_key_material_is_learned_and_found(guard: SecretGuard, tmp_path: Path) -> None:
    pem = openssh_key()
    key = tmp_path / "id_ed25519"
    key.write_bytes(pem)
    key.chmod(0o600)
    body = pem.decode().splitlines()[2]
    guard.log.write_text(f"<127.0.0.1> stdout: {body}\n")
    findings = guard.finish()
    assert findings and all("private key material of id_ed25519" in f for f in findings)


def test_the_openssh_magic_line_alone_is_no_key_material() -> None:
    first_line = openssh_key().splitlines()[1]
    assert first_line not in key_fragments(openssh_key())


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="distinctive"):
        SecretGuard(tmp_path).add("weak", "test")


def test_the_environment_asks_for_vvv_and_a_log(guard: SecretGuard) -> None:
    env = guard.env({"PATH": "/bin"})
    assert env["ANSIBLE_VERBOSITY"] == "3"
    assert env["ANSIBLE_LOG_PATH"] == str(guard.log)
