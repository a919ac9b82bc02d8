"""roles/jupyter/files/cert_current.py: says "current" only for the key's own, unexpired
certificate naming exactly the host, with the role's owner and modes; anything else names
what differs, so the role issues the certificate again."""

from __future__ import annotations

import datetime
import importlib.util
import ipaddress
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "jupyter" / "files" / "cert_current.py"
spec = importlib.util.spec_from_file_location("cert_current", SCRIPT)
assert spec and spec.loader
cert_current = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cert_current)

SANS = ["DNS:localhost", "DNS:wb", "IP:127.0.0.1", "IP:::1"]
UID, GID = os.getuid(), os.getgid()


def write(tmp: Path, *, sans=SANS, cn="wb", days=30, key=None) -> tuple[Path, Path]:
    own = ec.generate_private_key(ec.SECP256R1())
    signer = key or own
    names = [
        x509.IPAddress(ipaddress.ip_address(s[3:])) if s.startswith("IP:") else x509.DNSName(s[4:])
        for s in sans
    ]
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(signer.public_key()).serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(signer, hashes.SHA256())
    )  # fmt: skip
    key_file, cert_file = tmp / "jupyter.key", tmp / "jupyter.crt"
    pem = serialization.Encoding.PEM
    key_file.write_bytes(
        own.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.chmod(0o600)
    cert_file.chmod(0o644)
    return key_file, cert_file


def check(key: Path, cert: Path, sans=SANS) -> str:
    return cert_current.main(str(key), str(cert), str(UID), str(GID), "wb", *sans)


def test_current_certificate(tmp_path: Path) -> None:
    key, cert = write(tmp_path)
    assert check(key, cert) == "current"
    # Addresses compare as addresses: an uncompressed IPv6 form is the same name.
    assert check(key, cert, [*SANS[:3], "IP:0:0:0:0:0:0:0:1"]) == "current"


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda k, c: c.unlink(), "is missing"),
        (lambda k, c: k.chmod(0o640), "mode other than"),
        (lambda k, c: c.chmod(0o600), "mode other than"),
    ],
)
def test_files_missing_or_open(tmp_path: Path, change, expected) -> None:
    key, cert = write(tmp_path)
    change(key, cert)
    assert expected in check(key, cert)


def test_other_names(tmp_path: Path) -> None:
    key, cert = write(tmp_path)
    assert "not ['DNS:localhost'" in check(key, cert, [*SANS, "IP:203.0.113.7"])
    key, cert = write(tmp_path, sans=SANS[:2])
    assert "the certificate names" in check(key, cert)


def test_other_key_common_name_or_ending(tmp_path: Path) -> None:
    key, cert = write(tmp_path, key=ec.generate_private_key(ec.SECP256R1()))
    assert check(key, cert) == "the certificate is not the key's"
    key, cert = write(tmp_path, cn="other")
    assert "common name" in check(key, cert)
    key, cert = write(tmp_path, days=0)
    assert "the certificate ends" in check(key, cert)


def test_never_prints_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, cert = write(tmp_path, sans=SANS[:1])
    print(check(key, cert))
    out = capsys.readouterr().out
    assert "PRIVATE KEY" not in out and key.read_text().splitlines()[1] not in out
