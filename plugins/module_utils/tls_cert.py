# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)
"""Reading a server's key and self-signed certificate with the openssl command only.

Shared by the tls_ensure module (which makes them right) and the jupyter_probe module (which
only asks whether they are): no Python crypto library is needed on the host.
"""

from __future__ import annotations

import ipaddress
import subprocess


class TlsError(Exception):
    """openssl is missing or failed; the message names what."""


def openssl(*args):
    """Run openssl; (exit code, stdout). A missing openssl is an error that names the fix."""
    try:
        done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise TlsError("openssl is missing on the host: install it") from None
    return done.returncode, done.stdout


def normal_san(name):
    """DNS:Name -> DNS:name; IP:0:0::1 -> IP:::1 (openssl prints "IP Address:0:0:0:0:0:0:0:1")."""
    kind, _unused, value = name.strip().partition(":")
    if kind in ("IP", "IP Address"):
        return "IP:" + str(ipaddress.ip_address(value.strip()))
    return f"{kind}:{value.strip()}"


def cert_state(key_path, cert_path, common_name, sans):
    """'' when the certificate is the key's, names exactly the host and has a day left."""
    rc, key_pub = openssl("pkey", "-in", key_path, "-pubout")
    if rc != 0:
        return "the key cannot be read"
    rc, out = openssl(
        "x509", "-in", cert_path, "-noout", "-pubkey", "-subject", "-nameopt", "RFC2253",
        "-ext", "subjectAltName",
    )  # fmt: skip
    if rc != 0:
        return "the certificate cannot be read"
    start = out.find("-----BEGIN PUBLIC KEY-----")
    end = out.find("-----END PUBLIC KEY-----")
    if start < 0 or out[start : end + 24].strip() != key_pub.strip():
        return "the certificate is not the key's"
    lines = out[end + 24 :].splitlines()
    subject = next((line[8:].strip() for line in lines if line.startswith("subject=")), "")
    if subject != f"CN={common_name}":
        return f"the certificate's subject is {subject!r}, not CN={common_name}"
    try:
        at = next(i for i, line in enumerate(lines) if "Subject Alternative Name" in line)
        have = {normal_san(n) for n in lines[at + 1].split(",")}
    except (StopIteration, IndexError, ValueError):
        return "the certificate has no readable subjectAltName"
    want = {normal_san(s) for s in sans}
    if have != want:
        return f"the certificate names {sorted(have)}, not {sorted(want)}"
    if openssl("x509", "-in", cert_path, "-noout", "-checkend", "86400")[0] != 0:
        return "the certificate ends within a day"
    return ""
