#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tls_ensure
short_description: A server's key and self-signed certificate for the host's names, by openssl
version_added: 0.1.0
description:
  - Makes the key when it is missing (an EC P-256 key; an existing key is kept, so browsers
    that trusted it keep trusting its certificates), issues a new self-signed certificate
    when the present one is not right, and fixes owners and modes.
  - Right means - the key and the certificate exist with O(owner) and O(group) and the modes
    0600 (key) and 0644 (certificate), the certificate is the key's, its subject is
    CN=O(common_name), it names exactly O(subject_alt_names), and it is valid for more than a
    day.
  - Files are written beside their final path and renamed into place, so a server never
    reads half a key. No Python library beyond the standard one is needed on the host (its
    openssl does the cryptography); the key itself is never returned.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  key_path:
    description: The private key.
    type: path
    required: true
  cert_path:
    description: The certificate.
    type: path
    required: true
  owner:
    description: The user who owns both files (a name or a uid).
    type: str
    required: true
  group:
    description: The group of both files (a name or a gid).
    type: str
    required: true
  days:
    description: Lifetime of a new certificate in days.
    type: int
    default: 825
  common_name:
    description: The certificate's subject CN (the host name).
    type: str
    required: true
  subject_alt_names:
    description: The names the certificate must carry, C(DNS:name) or C(IP:address).
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - Says what it would do and writes nothing.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Ensure the notebook's key and certificate
  mlbox.workbench.tls_ensure:
    key_path: /etc/jupyter/jupyter.key
    cert_path: /etc/jupyter/jupyter.crt
    owner: ml
    group: ml
    common_name: "{{ ansible_facts['hostname'] }}"
    subject_alt_names: [DNS:localhost, IP:127.0.0.1]
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [make the key, issue the certificate]
reason:
  description: Why the key or the certificate was made.
  returned: always
  type: str
  sample: /etc/jupyter/jupyter.crt is missing
"""

import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.tls_cert import (
    TlsError,
    cert_state,
    openssl,
)

KEY_MODE = 0o600
CERT_MODE = 0o644


def write_beside(path, mode, make):
    """make(tmp) writes a new file at tmp; it becomes path with mode, atomically."""
    handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tls-")
    os.close(handle)
    try:
        os.chmod(tmp, KEY_MODE)
        make(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def make_key(tmp):
    rc, _unused = openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", tmp
    )
    if rc != 0:
        raise TlsError("openssl could not make the key")


def issuer(key_path, days, common_name, sans):
    config = "\n".join([
        "[req]", "distinguished_name = dn", "x509_extensions = ext", "prompt = no", "",
        "[dn]", f"CN = {common_name}", "",
        "[ext]", "subjectAltName = " + ",".join(sans),
        "basicConstraints = CA:FALSE", "keyUsage = digitalSignature",
        "extendedKeyUsage = serverAuth", "subjectKeyIdentifier = hash", "",
    ])  # fmt: skip

    def issue(tmp):
        with tempfile.NamedTemporaryFile("w", suffix=".cnf") as cnf:
            cnf.write(config)
            cnf.flush()
            rc, _unused = openssl(
                "req", "-new", "-x509", "-sha256", "-key", key_path, "-days", str(days),
                "-config", cnf.name, "-out", tmp,
            )  # fmt: skip
        if rc != 0:
            raise TlsError("openssl could not issue the certificate")

    return issue


def ensure(key_path, cert_path, uid, gid, days, common_name, sans, check=False):
    """Make the files right (or, with check, only say what that takes)."""
    actions, reasons = [], []
    if not os.path.exists(key_path):
        actions.append("make the key")
        reasons.append(f"{key_path} is missing")
        if not check:
            write_beside(key_path, KEY_MODE, make_key)
            os.chown(key_path, uid, gid)
    if not os.path.exists(cert_path):
        why = f"{cert_path} is missing"
    elif actions:
        why = "the key is new"
    else:
        why = cert_state(key_path, cert_path, common_name, sans)
    if why:
        actions.append("issue the certificate")
        reasons.append(why)
        if not check:
            write_beside(cert_path, CERT_MODE, issuer(key_path, days, common_name, sans))
            os.chown(cert_path, uid, gid)
    for path, want in ((key_path, KEY_MODE), (cert_path, CERT_MODE)):
        if not os.path.exists(path):
            continue  # check mode: it would be made
        st = os.stat(path)
        if (st.st_uid, st.st_gid, st.st_mode & 0o7777) != (uid, gid, want):
            actions.append(f"set {path} to {uid}:{gid} {want:04o}")
            if not check:
                os.chown(path, uid, gid)
                os.chmod(path, want)
    return {"changed": bool(actions), "actions": actions, "reason": "; ".join(reasons)}


def resolve_ids(owner: str, group: str) -> tuple[int, int]:
    """Names or numbers to (uid, gid); KeyError names what does not exist."""
    uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
    gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    return uid, gid


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "key_path": {"type": "path", "required": True, "no_log": False},
            "cert_path": {"type": "path", "required": True},
            "owner": {"type": "str", "required": True},
            "group": {"type": "str", "required": True},
            "days": {"type": "int", "default": 825},
            "common_name": {"type": "str", "required": True},
            "subject_alt_names": {"type": "list", "elements": "str", "required": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    try:
        uid, gid = resolve_ids(p["owner"], p["group"])
    except KeyError as exc:
        module.fail_json(msg=f"no such user or group: {exc}")
    try:
        result = ensure(
            p["key_path"], p["cert_path"], uid, gid, p["days"], p["common_name"],
            p["subject_alt_names"], check=module.check_mode,
        )  # fmt: skip
    except (TlsError, OSError) as exc:
        module.fail_json(msg=f"tls_ensure: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
