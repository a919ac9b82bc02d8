"""The tls_ensure module with the real openssl: the key is made once and kept,
the certificate is issued for exactly the host's names and issued again only when it is not
right; check mode writes nothing; owners and modes are the role's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ansible_collections.mlbox.workbench.plugins.module_utils import tls_cert
from ansible_collections.mlbox.workbench.plugins.modules import tls_ensure
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SANS = ("DNS:localhost", "DNS:wb", "IP:127.0.0.1", "IP:::1", "IP:192.0.2.10")
UID, GID = os.getuid(), os.getgid()


def run(tmp: Path, *, mode="ensure", sans=SANS, cn="wb", days=30) -> dict:
    return tls_ensure.ensure(
        str(tmp / "jupyter.key"), str(tmp / "jupyter.crt"), UID, GID, days, cn, list(sans),
        check=mode == "check",
    )  # fmt: skip


def test_the_module_resolves_the_owner_and_reports(run_module, tmp_path: Path) -> None:
    args = {
        "key_path": str(tmp_path / "k"), "cert_path": str(tmp_path / "c"),
        "owner": str(UID), "group": str(GID), "common_name": "wb", "subject_alt_names": list(SANS),
    }  # fmt: skip
    exited = run_module(tls_ensure.main, args)
    assert not exited.failed and exited.result["changed"]
    assert run_module(tls_ensure.main, args).result["changed"] is False
    refused = run_module(tls_ensure.main, dict(args, owner="no-such-user-here"))
    assert refused.failed and "no such user or group" in refused.result["msg"]


def names(cert_file: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {f"DNS:{n}" for n in ext.get_values_for_type(x509.DNSName)} | {
        f"IP:{a}" for a in ext.get_values_for_type(x509.IPAddress)
    }


def test_a_new_host_gets_a_key_and_a_certificate_for_its_names(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result["changed"] and result["actions"] == ["make the key", "issue the certificate"]
    key, crt = tmp_path / "jupyter.key", tmp_path / "jupyter.crt"
    assert (key.stat().st_mode & 0o7777, crt.stat().st_mode & 0o7777) == (0o600, 0o644)
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "wb"
    assert names(crt) == {"DNS:localhost", "DNS:wb", "IP:127.0.0.1", "IP:::1", "IP:192.0.2.10"}
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert "PRIVATE KEY" in key.read_text() and not list(tmp_path.glob(".tls-*"))


def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    run(tmp_path)
    before = (tmp_path / "jupyter.crt").read_bytes()
    assert run(tmp_path) == {"changed": False, "actions": [], "reason": ""}
    assert run(tmp_path, mode="check")["changed"] is False
    assert (tmp_path / "jupyter.crt").read_bytes() == before


def test_other_names_issue_a_new_certificate_with_the_same_key(tmp_path: Path) -> None:
    run(tmp_path)
    key = (tmp_path / "jupyter.key").read_bytes()
    result = run(tmp_path, sans=[*SANS, "DNS:workbench.example.test"])
    assert result["actions"] == ["issue the certificate"]
    assert "not" in result["reason"] and (tmp_path / "jupyter.key").read_bytes() == key
    assert "DNS:workbench.example.test" in names(tmp_path / "jupyter.crt")
    assert run(tmp_path, cn="other")["actions"] == ["issue the certificate"]


def test_a_certificate_of_another_key_or_near_its_end_is_issued_again(tmp_path: Path) -> None:
    run(tmp_path)
    (tmp_path / "jupyter.key").unlink()
    result = run(tmp_path)
    assert result["actions"] == ["make the key", "issue the certificate"]
    other = tmp_path / "other"
    other.mkdir()
    run(other)
    (tmp_path / "jupyter.crt").write_bytes((other / "jupyter.crt").read_bytes())
    assert run(tmp_path)["reason"] == "the certificate is not the key's"
    run(tmp_path, days=1, sans=SANS[:2])
    assert run(tmp_path, sans=SANS[:2])["reason"] == "the certificate ends within a day"
    (tmp_path / "jupyter.crt").write_text("not a certificate\n")
    assert run(tmp_path)["reason"] == "the certificate cannot be read"


def test_wrong_modes_are_fixed_without_a_new_certificate(tmp_path: Path) -> None:
    run(tmp_path)
    before = (tmp_path / "jupyter.crt").read_bytes()
    (tmp_path / "jupyter.key").chmod(0o644)
    result = run(tmp_path)
    assert result["actions"] == [f"set {tmp_path / 'jupyter.key'} to {UID}:{GID} 0600"]
    assert (tmp_path / "jupyter.key").stat().st_mode & 0o7777 == 0o600
    assert (tmp_path / "jupyter.crt").read_bytes() == before


def test_check_mode_writes_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, mode="check")
    assert result["changed"] and result["actions"] == ["make the key", "issue the certificate"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("printed", "normal"),
    [("IP Address:0:0:0:0:0:0:0:1", "IP:::1"), ("IP:127.0.0.1", "IP:127.0.0.1"),
     (" DNS:wb", "DNS:wb"), ("IP Address:2001:DB8:0:0:0:0:0:1", "IP:2001:db8::1")],
)  # fmt: skip
def test_openssl_s_way_of_printing_names_is_read(printed: str, normal: str) -> None:
    assert tls_cert.normal_san(printed) == normal
