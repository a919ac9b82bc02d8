"""The server's key and self-signed certificate, made with the openssl command only.

    python3 tls_ensure.py check|ensure KEY CERT UID GID DAYS COMMON_NAME SAN [SAN ...]

Prints one JSON object, {"changed": bool, "actions": [...], "reason": "..."} (an error goes
to stderr, exit code 1); "check" only says what "ensure" would do. Right means: the key and
the certificate exist with the notebook user's owner and the role's modes (key 0600,
certificate 0644), the certificate is the key's, names the host (CN and exactly these
subjectAltNames, DNS:name or IP:address), and is valid for more than a day. Otherwise
"ensure" makes the key when it is missing (an existing key is kept: browsers that trusted it
keep trusting its certificates), issues a new certificate when it is not right, and fixes
owners and modes. Files are written beside their final path and renamed into place, so a
server never reads half a key. No Python library beyond the standard one is needed (the
host's openssl does the cryptography); the key itself is never printed.
"""

import ipaddress
import json
import os
import subprocess
import sys
import tempfile

KEY_MODE, CERT_MODE = 0o600, 0o644


def openssl(*args):
    """Run openssl; (exit code, stdout). A missing openssl is an error that names the fix."""
    try:
        done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SystemExit("tls_ensure: openssl is missing on the host: install it") from None
    return done.returncode, done.stdout


def normal_san(name):
    """DNS:Name -> DNS:name; IP:0:0::1 -> IP:::1 (openssl prints "IP Address:0:0:0:0:0:0:0:1")."""
    kind, _colon, value = name.strip().partition(":")
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
    rc, _out = openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", tmp
    )
    if rc != 0:
        raise SystemExit("tls_ensure: openssl could not make the key")


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
            rc, _out = openssl(
                "req", "-new", "-x509", "-sha256", "-key", key_path, "-days", str(days),
                "-config", cnf.name, "-out", tmp,
            )  # fmt: skip
        if rc != 0:
            raise SystemExit("tls_ensure: openssl could not issue the certificate")

    return issue


def main(mode, key_path, cert_path, uid, gid, days, common_name, *sans):
    uid, gid, check = int(uid), int(gid), mode == "check"
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


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
