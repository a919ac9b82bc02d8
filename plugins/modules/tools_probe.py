#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tools_probe
short_description: Plan the tools role's package transaction and check its last run, read-only
version_added: 0.1.0
description:
  - One look for the C(mlbox.workbench.tools) role. It reads the package database once
    (C(dpkg-query), or C(rpm) without it) and answers which of O(packages) are missing -
    counting a virtual package an installed one provides as present (C(awk) by C(mawk);
    apt-get refuses a virtual package with several providers) - and splits them into what to
    install now (O(first), with O(background)) and what in the background.
  - It says whether apt's package index must be refreshed first - when the image kept no
    package lists (cloud and container images often ship them stripped; an empty index must
    not be trusted) or the last refresh is O(cache_valid_time) seconds old or older.
  - With O(digest) and O(state_file) it also says whether the role's last full run still
    holds (RV(current)) - the recorded digest is this one, nothing is missing, the notebook
    user exists with O(uid) and O(shell), its sudo rule is as O(sudo) says, its
    O(authorized_keys) are in its C(~/.ssh/authorized_keys), and there is no NVIDIA GPU
    without a loaded driver. Then the role skips the rest.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  packages:
    description: The packages the host must have.
    type: list
    elements: str
    required: true
  first:
    description:
      - With O(background), the packages to install at once.
      - The rest go to the background.
    type: list
    elements: str
    default: []
  background:
    description: Split the missing packages into RV(foreground) and RV(background).
    type: bool
    default: false
  cache_valid_time:
    description: Refresh apt's package index when the last refresh is this many seconds old.
    type: int
    default: 86400
  user:
    description: The notebook user, for RV(current).
    type: str
    default: ""
  uid:
    description: The notebook user's uid.
    type: int
    default: -1
  shell:
    description: The notebook user's login shell.
    type: str
    default: ""
  sudo:
    description: Whether the user has the role's passwordless sudo rule (else it has none).
    type: bool
    default: true
  sudoers_file:
    description: The role's sudo rule for the user.
    type: path
    default: ""
  authorized_keys:
    description: SSH public keys that must be in the user's C(~/.ssh/authorized_keys).
    type: list
    elements: str
    default: []
  nvidia_root:
    description:
      - Prepended to C(/sys) and C(/proc) to look for an NVIDIA GPU and its driver.
      - Tests point it at a fake tree.
    type: str
    default: ""
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
  - module: mlbox.workbench.wait_job
"""

EXAMPLES = r"""
- name: Plan the transaction
  mlbox.workbench.tools_probe:
    packages: [git, tmux, awk, sudo]
    first: [sudo]
    background: true
  register: plan
"""

RETURN = r"""
manager:
  description: The package manager the database belongs to (apt or dnf).
  returned: always
  type: str
  sample: apt
missing:
  description:
    - The packages of O(packages) that are neither installed nor provided by an installed one.
  returned: always
  type: list
  elements: str
foreground:
  description: The missing packages to install at once (all of them without O(background)).
  returned: always
  type: list
  elements: str
background:
  description: The missing packages to install in the background.
  returned: always
  type: list
  elements: str
refresh_index:
  description: Whether apt's package index must be refreshed before installing.
  returned: always
  type: bool
lists:
  description: How many package lists apt has.
  returned: always
  type: int
age:
  description:
    - Seconds since the last index refresh.
    - Without apt's stamp, since the lists directory changed.
  returned: always
  type: int
nvidia_gpus:
  description: The PCI addresses of NVIDIA GPUs seen.
  returned: always
  type: list
  elements: str
nvidia_loaded:
  description: Whether an NVIDIA driver is loaded.
  returned: always
  type: bool
current:
  description: Whether the role's last full run still holds (see the description).
  returned: always
  type: bool
why:
  description: Why RV(current) is false, for the log.
  returned: always
  type: str
"""

import glob
import os
import pwd
import re
import shutil
import subprocess
import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.host_state import (
    HOST_STATE_ARGS,
    digest_matches,
)

APT_LISTS = "/var/lib/apt/lists"
APT_STAMP = "/var/lib/apt/periodic/update-success-stamp"
DPKG_FORMAT = "${db:Status-Abbrev}\\t${Package}\\t${Provides}\\n"


def parse_dpkg(text: str) -> set[str]:
    """Installed names and what they provide, from DPKG_FORMAT lines ("ii " is installed)."""
    present: set[str] = set()
    for line in text.splitlines():
        status, _unused, rest = line.partition("\t")
        if not status.startswith("ii"):
            continue
        name, _unused, provides = rest.partition("\t")
        present.add(name.strip())
        for provided in provides.split(","):
            provided = re.sub(r"\(.*\)", "", provided).strip()
            if provided:
                present.add(provided)
    return present


def installed_names(run: Any = subprocess.run) -> tuple[str, set[str]]:
    """(manager, installed names and provides) from the package database."""
    env = dict(os.environ, LC_ALL="C")
    if shutil.which("dpkg-query"):
        done = run(
            ["dpkg-query", "-W", "-f", DPKG_FORMAT],
            capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip
        return "apt", parse_dpkg(done.stdout)
    done = run(
        ["rpm", "-qa", "--qf", "%{NAME}\\n"], capture_output=True, text=True, check=False, env=env
    )
    return "dnf", {line.strip() for line in done.stdout.splitlines() if line.strip()}


def plan(
    wanted: list[str], present: set[str], first: list[str], background: bool
) -> dict[str, list[str]]:
    """Missing packages (in the given order, once each), split into now and background."""
    missing = [name for name in dict.fromkeys(wanted) if name not in present]
    if not background:
        return {"missing": missing, "foreground": missing, "background": []}
    return {
        "missing": missing,
        "foreground": [name for name in missing if name in first],
        "background": [name for name in missing if name not in first],
    }


def index_state(lists_dir: str = APT_LISTS, stamp: str = APT_STAMP, now: float = 0.0):
    """(number of package lists, seconds since the last refresh)."""
    try:
        lists = sum(1 for name in os.listdir(lists_dir) if "_Packages" in name)
    except OSError:
        lists = 0
    source = stamp if os.path.exists(stamp) else lists_dir
    try:
        age = int((now or time.time()) - os.stat(source).st_mtime)
    except OSError:
        age = 1 << 31
    return lists, age


def nvidia_state(root: str = "") -> tuple[list[str], bool]:
    """(NVIDIA GPUs on the PCI bus, whether a driver is loaded) under root."""
    gpus = []
    for device in sorted(glob.glob(f"{root}/sys/bus/pci/devices/*")):
        try:
            with open(os.path.join(device, "vendor"), encoding="utf-8") as handle:
                vendor = handle.read().strip()
            with open(os.path.join(device, "class"), encoding="utf-8") as handle:
                pci_class = handle.read().strip()
        except OSError:
            continue
        if vendor == "0x10de" and pci_class.startswith(("0x0300", "0x0302")):
            gpus.append(os.path.basename(device))
    return gpus, os.path.exists(f"{root}/proc/driver/nvidia/version")


def key_lines(path: str) -> set[str]:
    """The "type base64" pairs of an authorized_keys file (options and comments aside)."""
    pairs = set()
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                words = line.split()
                if not words or words[0].startswith("#"):
                    continue
                for i, word in enumerate(words[:-1]):
                    if word.startswith(("ssh-", "ecdsa-", "sk-")):
                        pairs.add(f"{word} {words[i + 1]}")
                        break
    except OSError:
        pass
    return pairs


def still_current(params: dict[str, Any], result: dict[str, Any]) -> str:
    """Why the role's last full run no longer holds, or "" when it does."""
    if not digest_matches(params["state_file"], params["digest"]):
        return "the recorded digest differs (or there is none)"
    if result["missing"]:
        return "missing packages: " + ", ".join(result["missing"])
    if result["nvidia_gpus"] and not result["nvidia_loaded"]:
        return "an NVIDIA GPU has no loaded driver"
    if params["user"]:
        try:
            entry = pwd.getpwnam(params["user"])
        except KeyError:
            return f"the user {params['user']} does not exist"
        if (params["uid"] >= 0 and entry.pw_uid != params["uid"]) or (
            params["shell"] and entry.pw_shell != params["shell"]
        ):
            return f"the user {params['user']} is not uid {params['uid']} with {params['shell']}"
        if params["sudoers_file"] and os.path.exists(params["sudoers_file"]) != params["sudo"]:
            return f"{params['sudoers_file']} is not as tools_user_sudo says"
        wanted = {" ".join(key.split()[:2]) for key in params["authorized_keys"]}
        if wanted - key_lines(os.path.join(entry.pw_dir, ".ssh", "authorized_keys")):
            return "an authorized key is missing"
    return ""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "required": True},
            "first": {"type": "list", "elements": "str", "default": []},
            "background": {"type": "bool", "default": False},
            "cache_valid_time": {"type": "int", "default": 86400},
            "user": {"type": "str", "default": ""},
            "uid": {"type": "int", "default": -1},
            "shell": {"type": "str", "default": ""},
            "sudo": {"type": "bool", "default": True},
            "sudoers_file": {"type": "path", "default": ""},
            "authorized_keys": {"type": "list", "elements": "str", "default": [], "no_log": False},
            "nvidia_root": {"type": "str", "default": ""},
            **HOST_STATE_ARGS,
        },
        supports_check_mode=True,
    )
    params = module.params
    manager, present = installed_names()
    result: dict[str, Any] = {"manager": manager}
    result.update(plan(params["packages"], present, params["first"], params["background"]))
    lists, age = index_state() if manager == "apt" else (0, 0)
    result.update(lists=lists, age=age)
    result["refresh_index"] = manager == "apt" and (lists == 0 or age >= params["cache_valid_time"])
    result["nvidia_gpus"], result["nvidia_loaded"] = nvidia_state(params["nvidia_root"])
    why = still_current(params, result)
    module.exit_json(changed=False, current=not why, why=why, **result)


if __name__ == "__main__":
    main()
