#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_digest
short_description: Record the digest of a host role's inputs on the host
version_added: 0.1.0
description:
  - Writes the digest a host role (tools, data_disk, libs, jupyter, git_keys) computed of its
    inputs to its state file, as the last step of the role's full path. The role's probe
    module compares the next run's digest with it and, when they match and its own look at
    the host agrees, the role skips its full path.
  - The file is written beside its final path and renamed into place, owned by the user
    running the module, mode 0600; missing parent directories are made with mode 0700.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  path:
    description: The state file.
    type: path
    required: true
  digest:
    description: The digest to record (a hex string, no secrets).
    type: str
    required: true
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - Says whether the file would change and writes nothing.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
seealso:
  - module: mlbox.workbench.data_disk_find
  - module: mlbox.workbench.libs_probe
"""

EXAMPLES = r"""
- name: Record the digest of this run's inputs
  mlbox.workbench.host_digest:
    path: /var/lib/mlbox-workbench/tools.digest
    digest: "{{ inputs | to_json | hash('sha256') }}"
"""

RETURN = r"""
path:
  description: The state file.
  returned: always
  type: str
  sample: /var/lib/mlbox-workbench/tools.digest
previous:
  description: The digest recorded before, empty when there was none.
  returned: always
  type: str
  sample: ""
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.host_state import recorded


def record(path: str, digest: str) -> None:
    """Write digest to path atomically (0600), making missing parents (0700)."""
    parent = os.path.dirname(path) or "."
    os.makedirs(parent, mode=0o700, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=parent, prefix=".digest-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(digest + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "digest": {"type": "str", "required": True},
        },
        supports_check_mode=True,
    )
    path, digest = module.params["path"], module.params["digest"].strip()
    if not digest:
        module.fail_json(msg="digest is empty")
    previous = recorded(path)
    changed = previous != digest
    if changed and not module.check_mode:
        try:
            record(path, digest)
        except OSError as exc:
            module.fail_json(msg=f"cannot write {path}: {exc}")
    module.exit_json(changed=changed, path=path, previous=previous)


if __name__ == "__main__":
    main()
