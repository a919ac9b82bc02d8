#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: git_keys_probe
short_description: Look at a user's GitHub key, known hosts, ssh and git settings, read-only
version_added: 0.1.0
description:
  - One look for the C(mlbox.workbench.git_keys) role - the user's passwd entry and whether
    the role's last full run still holds (RV(current)).
  - It holds when the digest of this run's inputs is the recorded one, git and ssh-keygen are
    installed, the key pair exists (private key 0600, public key 0644, the user's), every
    O(known_hosts) line is in the user's C(~/.ssh/known_hosts), the role's block is in its
    C(~/.ssh/config) (with O(ssh_config)) and its global git identity is O(git_identity).
    Then the role skips the rest. A key copied from the controller (O(mode) C(copy)) never
    holds, so the copy is always compared.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  user:
    description: The user who gets the key.
    type: str
    required: true
  mode:
    description: The role's git_keys_mode.
    type: str
    choices: [generate, copy, none]
    default: generate
  key_path:
    description:
      - The private key's path on the host.
      - Empty means O(key_name) in the user's C(~/.ssh).
    type: str
    default: ""
  key_name:
    description: The key's file name in the user's C(~/.ssh) when O(key_path) is empty.
    type: str
    default: id_ed25519
  known_hosts:
    description: Lines (C(host type base64)) that must be in the user's known_hosts.
    type: list
    elements: str
    default: []
  ssh_config:
    description: Whether the role's block must be in the user's ssh config.
    type: bool
    default: true
  ssh_config_marker:
    description: The block's first line.
    type: str
    default: "# BEGIN mlbox.workbench.git_keys"
  git_identity:
    description:
      - The global git settings (user.name, user.email) the user must have.
      - Empty values are not checked.
    type: dict
    default: {}
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
  - module: mlbox.workbench.tools_probe
"""

EXAMPLES = r"""
- name: Look at the user's key and settings
  mlbox.workbench.git_keys_probe:
    user: ml
    known_hosts:
      - github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
  register: probe
"""

RETURN = r"""
user:
  description: The user's passwd entry - exists, uid, gid, home.
  returned: always
  type: dict
  sample: {exists: true, uid: 1000, gid: 1000, home: /home/ml}
current:
  description: Whether the role's last full run still holds (see the description).
  returned: always
  type: bool
why:
  description: Why RV(current) is false, for the log.
  returned: always
  type: str
"""

import configparser
import os
import pwd
import shutil
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.host_state import (
    HOST_STATE_ARGS,
    digest_matches,
    owner_mode,
)


def read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def known_pairs(text: str) -> set[tuple[str, str, str]]:
    """(host, type, base64) of every plain known_hosts line."""
    pairs = set()
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 3 and not words[0].startswith(("#", "|")):
            for host in words[0].split(","):
                pairs.add((host, words[1], words[2]))
    return pairs


def git_setting(gitconfig: str, dotted: str) -> str:
    """The value of section.key in a git config file's text, "" when unset or unreadable."""
    section, _unused, key = dotted.partition(".")
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(gitconfig)
        return parser.get(section, key, fallback="").strip()
    except configparser.Error:
        return ""


def still_current(params: dict[str, Any], user: dict[str, Any]) -> str:
    """Why the role's last full run no longer holds, or "" when it does."""
    if not digest_matches(params["state_file"], params["digest"]):
        return "the recorded digest differs (or there is none)"
    if params["mode"] == "copy":
        return "a copied key is always compared"
    if not user["exists"]:
        return f"the user {params['user']} does not exist"
    for tool in ("git", "ssh-keygen"):
        if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/bin:/bin"):
            return f"{tool} is missing"
    ssh = os.path.join(user["home"], ".ssh")
    if params["mode"] != "none":
        key = params["key_path"] or os.path.join(ssh, params["key_name"])
        ids = (user["uid"], user["gid"])
        for path, mode in ((key, 0o600), (key + ".pub", 0o644)):
            if owner_mode(path) != (*ids, mode):
                return f"{path} is missing or not {ids[0]}:{ids[1]} {mode:04o}"
        if params["ssh_config"] and params["ssh_config_marker"] not in read(
            os.path.join(ssh, "config")
        ):
            return "the ssh config block is missing"
    have = known_pairs(read(os.path.join(ssh, "known_hosts")))
    if known_pairs("\n".join(params["known_hosts"])) - have:
        return "a pinned host key is missing from known_hosts"
    gitconfig = read(os.path.join(user["home"], ".gitconfig"))
    for name, value in params["git_identity"].items():
        if value and git_setting(gitconfig, name) != value:
            return f"git's {name} is not as asked"
    return ""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "user": {"type": "str", "required": True},
            "mode": {"type": "str", "default": "generate", "choices": ["generate", "copy", "none"]},
            "key_path": {"type": "str", "default": "", "no_log": False},
            "key_name": {"type": "str", "default": "id_ed25519", "no_log": False},
            "known_hosts": {"type": "list", "elements": "str", "default": []},
            "ssh_config": {"type": "bool", "default": True},
            "ssh_config_marker": {"type": "str", "default": "# BEGIN mlbox.workbench.git_keys"},
            "git_identity": {"type": "dict", "default": {}},
            **HOST_STATE_ARGS,
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        entry = pwd.getpwnam(params["user"])
        user = {"exists": True, "uid": entry.pw_uid, "gid": entry.pw_gid, "home": entry.pw_dir}
    except KeyError:
        user = {"exists": False, "uid": None, "gid": None, "home": None}
    why = still_current(params, user)
    module.exit_json(changed=False, user=user, current=not why, why=why)


if __name__ == "__main__":
    main()
