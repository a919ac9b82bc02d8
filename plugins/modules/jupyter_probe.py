#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jupyter_probe
short_description: Look at a host's Jupyter server before the jupyter role configures it, read-only
version_added: 0.1.0
description:
  - One look for the C(mlbox.workbench.jupyter) role - the notebook user, the password hash
    in the server configuration, and whether the role's last full run still holds
    (RV(current)).
  - It holds when the digest of this run's inputs is the recorded one, the environment's
    C(bin/jupyter) runs, the configuration, the cookie secret and the systemd unit exist, the
    key and the certificate are right (the certificate is the key's, names exactly
    O(subject_alt_names), has more than a day left, owner and modes the role's), the service
    is enabled and active, and the login page answers over HTTPS. Then the role skips the rest.
  - Changes nothing. The password hash is returned for the controller to check the password
    against (M(mlbox.workbench.notebook_password)); register the result with C(no_log).
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  user:
    description: The notebook user who runs the server.
    type: str
    required: true
  venv:
    description: The environment the server runs from.
    type: path
    required: true
  config_file:
    description: The server configuration.
    type: path
    required: true
  cookie_secret_file:
    description: The cookie secret file.
    type: path
    required: true
  unit_file:
    description: The systemd unit.
    type: path
    required: true
  service:
    description: The systemd service name.
    type: str
    default: jupyter
  key_path:
    description: The server's private key.
    type: path
    required: true
  cert_path:
    description: The server's certificate.
    type: path
    required: true
  common_name:
    description: The certificate's subject CN.
    type: str
    required: true
  subject_alt_names:
    description: The names the certificate must carry, C(DNS:name) or C(IP:address).
    type: list
    elements: str
    required: true
  url:
    description: The login page, asked over HTTPS without checking the certificate.
    type: str
    required: true
  hash_regex:
    description: The regular expression (one group) that finds the password hash in O(config_file).
    type: str
    default: '^c\.PasswordIdentityProvider\.hashed_password = "([^"]*)"$'
extends_documentation_fragment:
  - mlbox.workbench.host_state
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - The module only reads.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
seealso:
  - module: mlbox.workbench.tls_ensure
  - module: mlbox.workbench.notebook_password
"""

EXAMPLES = r"""
- name: Look at the server
  mlbox.workbench.jupyter_probe:
    user: ml
    venv: /mnt/ml/.workbench/venv
    config_file: /etc/jupyter/jupyter_server_config.py
    cookie_secret_file: /etc/jupyter/jupyter_cookie_secret
    unit_file: /etc/systemd/system/jupyter.service
    key_path: /etc/jupyter/jupyter.key
    cert_path: /etc/jupyter/jupyter.crt
    common_name: "{{ ansible_facts['hostname'] }}"
    subject_alt_names: [DNS:localhost, IP:127.0.0.1]
    url: https://127.0.0.1:8888/login
  register: probe
  no_log: true
"""

RETURN = r"""
user:
  description: The notebook user's exists, uid and gid.
  returned: success
  type: dict
  sample: {exists: true, uid: 1000, gid: 1000}
current_hash:
  description: The password hash in the configuration, empty when there is none.
  returned: success
  type: str
current:
  description: Whether the role's last full run still holds (see the description).
  returned: success
  type: bool
why:
  description: Why RV(current) is false, for the log.
  returned: success
  type: str
"""

import os
import pwd
import re
import ssl
import subprocess
import urllib.error
import urllib.request
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.host_state import (
    HOST_STATE_ARGS,
    digest_matches,
    owner_mode,
)
from ansible_collections.mlbox.workbench.plugins.module_utils.tls_cert import (
    TlsError,
    cert_state,
)

KEY_MODE = 0o600
CERT_MODE = 0o644


def user_state(name: str) -> dict[str, Any]:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return {"exists": False, "uid": None, "gid": None}
    return {"exists": True, "uid": entry.pw_uid, "gid": entry.pw_gid}


def read_hash(path: str, pattern: str) -> str:
    """The password hash in the configuration, "" without one (or without the file)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return ""
    match = re.search(pattern, text, flags=re.MULTILINE)
    return match.group(1) if match else ""


def systemctl(*args: str) -> str:
    """systemctl's one-word answer (is-active, is-enabled), "" when it cannot say."""
    try:
        done = subprocess.run(
            ["systemctl", *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def login_answers(url: str, timeout: float = 5.0) -> str:
    """ "" when GET url answers 200 over TLS (the certificate is not checked), else why not."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        return f"{url} does not answer ({exc})"
    return "" if status == 200 else f"{url} answers HTTP {status}"


def still_current(params: dict[str, Any], user: dict[str, Any]) -> str:
    """Why the role's last full run no longer holds, or "" when it does (cheapest first)."""
    if not digest_matches(params["state_file"], params["digest"]):
        return "the recorded digest differs (or there is none)"
    if not user["exists"]:
        return f"the user {params['user']} does not exist"
    if not os.access(os.path.join(params["venv"], "bin", "jupyter"), os.X_OK):
        return f"{params['venv']}/bin/jupyter is missing"
    for path in (params["config_file"], params["cookie_secret_file"], params["unit_file"]):
        if not os.path.isfile(path):
            return f"{path} is missing"
    ids = (user["uid"], user["gid"])
    for path, mode in ((params["key_path"], KEY_MODE), (params["cert_path"], CERT_MODE)):
        if owner_mode(path) != (*ids, mode):
            return f"{path} is missing or not {ids[0]}:{ids[1]} {mode:04o}"
    try:
        why = cert_state(
            params["key_path"], params["cert_path"], params["common_name"],
            params["subject_alt_names"],
        )  # fmt: skip
    except TlsError as exc:
        why = str(exc)
    if why:
        return why
    if systemctl("is-enabled", params["service"]) != "enabled":
        return f"{params['service']} is not enabled"
    if systemctl("is-active", params["service"]) != "active":
        return f"{params['service']} is not active"
    return login_answers(params["url"])


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "user": {"type": "str", "required": True},
            "venv": {"type": "path", "required": True},
            "config_file": {"type": "path", "required": True},
            "cookie_secret_file": {"type": "path", "required": True},
            "unit_file": {"type": "path", "required": True},
            "service": {"type": "str", "default": "jupyter"},
            "key_path": {"type": "path", "required": True, "no_log": False},
            "cert_path": {"type": "path", "required": True},
            "common_name": {"type": "str", "required": True},
            "subject_alt_names": {"type": "list", "elements": "str", "required": True},
            "url": {"type": "str", "required": True},
            "hash_regex": {
                "type": "str",
                "default": r'^c\.PasswordIdentityProvider\.hashed_password = "([^"]*)"$',
            },
            **HOST_STATE_ARGS,
        },
        supports_check_mode=True,
    )
    params = module.params
    user = user_state(params["user"])
    why = still_current(params, user)
    module.exit_json(
        changed=False,
        user=user,
        current_hash=read_hash(params["config_file"], params["hash_regex"]),
        current=not why,
        why=why,
    )


if __name__ == "__main__":
    main()
