"""Is the server's certificate still right? Prints "current", or what is not.

    python3 cert_current.py KEY CERT UID GID COMMON_NAME SAN [SAN ...]

Run on the host before the openssl tasks (which load the whole cryptography stack in three
module calls) so a second run needs one process instead. Right means: the key and the
certificate exist with the owner and modes the role gives them (key 0600, certificate 0644),
the certificate is the key's, names the host (CN and exactly these subjectAltNames), and is
valid for more than a day. The key itself is never printed.
"""

import datetime
import ipaddress
import os
import sys


def main(key_path, cert_path, uid, gid, common_name, *sans):
    for path, mode in ((key_path, 0o600), (cert_path, 0o644)):
        try:
            st = os.stat(path)
        except OSError:
            return f"{path} is missing"
        if (st.st_uid, st.st_gid, st.st_mode & 0o7777) != (int(uid), int(gid), mode):
            return f"{path} has owner, group or mode other than {uid}:{gid} {mode:04o}"
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    with open(cert_path, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(key_path, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*raw) != key.public_key().public_bytes(*raw):
        return "the certificate is not the key's"
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names != [common_name]:
        return f"the certificate's common name is {names}, not {common_name}"
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return "the certificate has no subjectAltName"
    have = {f"DNS:{n}" for n in ext.get_values_for_type(x509.DNSName)}
    have |= {f"IP:{a}" for a in ext.get_values_for_type(x509.IPAddress)}
    want = {f"IP:{ipaddress.ip_address(s[3:])}" if s.startswith("IP:") else s for s in sans}
    if have != want:
        return f"the certificate names {sorted(have)}, not {sorted(want)}"
    end = (
        cert.not_valid_after_utc
        if hasattr(cert, "not_valid_after_utc")
        else (cert.not_valid_after.replace(tzinfo=datetime.timezone.utc))
    )
    if end - datetime.datetime.now(datetime.timezone.utc) < datetime.timedelta(days=1):
        return f"the certificate ends {end:%Y-%m-%d %H:%M} UTC"
    return "current"


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
