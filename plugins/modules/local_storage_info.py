#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: local_storage_info
short_description: List a local workbench's data disks and snapshots, and check the controller
version_added: 0.1.0
description:
  - Lists the disks and snapshots of a C(cloud=local) workbench in the provider contract's
    normalized shape (C(id, name, size_gb, created, status, zone) plus C(attached_to) or
    C(disk_id)), oldest first.
  - Also reports whether the controller can run the local provider at all (root, and the
    tools C(podman), C(losetup), C(tar), C(zstd)), so a missing piece is named before
    anything is created.
  - With O(container) and O(image), also what podman knows of the workbench's container and
    whether its image exists, so the provider looks at everything in one module call.
  - Also what podman needs on this machine to start a container (the OCI runtime where
    podman's default cannot work, C(--ulimit) values within this process's hard limits),
    so that no containers.conf is needed.
  - With O(address), also whether that address is one of this machine's (the local
    provider publishes its ports there).
options:
  container:
    description: Name of the workbench's container to inspect; empty for none.
    type: str
    default: ""
  image:
    description: Image whose presence to check; empty for none.
    type: str
    default: ""
  address:
    description: An IP address to check is one of this machine's; empty for none.
    type: str
    default: ""
author:
  - mlbox.workbench developers (!UNKNOWN)
extends_documentation_fragment:
  - mlbox.workbench.local_state
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - Read-only.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: List the disks and snapshots of workbench mlbox
  mlbox.workbench.local_storage_info:
    state_dir: ~/.local/share/mlbox
    workbench: mlbox
  register: __cloud_local_storage
"""

RETURN = r"""
disks:
  description:
    - The disks; C(status) is in-use while a loop device holds the disk.
    - C(attached_to) is the instance then; C(bound_to) the instance it is bound to.
  returned: always
  type: list
  elements: dict
snapshots:
  description: The snapshots; C(status) is completed, creating or failed.
  returned: always
  type: list
  elements: dict
root:
  description: Whether the module runs as root (loop devices and privileged containers need it).
  returned: always
  type: bool
missing_tools:
  description: The tools the local provider needs that are not on PATH.
  returned: always
  type: list
  elements: str
container:
  description:
    - C(podman container inspect) of O(container) (as containers.podman.podman_container_info
      returns it), or an empty dict when there is no such container or none was asked for.
  returned: always
  type: dict
image_exists:
  description: Whether O(image) exists in podman's store; false when none was asked for.
  returned: always
  type: bool
podman:
  description:
    - What podman needs here; C(global_args) go on every podman command, C(run_args) on
      C(podman run) / C(create) (as C(cmd_args) of containers.podman.podman_container).
  returned: always
  type: dict
  sample: {runtime: runc, ulimits: ["nofile=1024:20000", "nproc=96369:96369"],
           global_args: [--runtime, runc], command: [podman, --runtime, runc],
           run_args: [--runtime, runc, --ulimit, "nofile=1024:20000",
                      --ulimit, "nproc=96369:96369"]}
address_local:
  description: Whether O(address) can be bound on this machine; true when none was asked for.
  returned: always
  type: bool
"""

import json
import os
import shutil
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.local_podman import (
    PodmanSettings,
    settings,
)
from ansible_collections.mlbox.workbench.plugins.module_utils.local_storage import (
    StorageError,
    Store,
)

TOOLS = ("podman", "losetup", "tar", "zstd")


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type="path", required=True),
            workbench=dict(type="str", required=True),
            container=dict(type="str", default=""),
            image=dict(type="str", default=""),
            address=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    store = Store(module.params["state_dir"], module.params["workbench"], module.run_command)
    podman = settings()
    missing = [tool for tool in TOOLS if shutil.which(tool) is None] + podman.missing
    disks, snapshots = [], []
    if "losetup" not in missing:
        try:
            disks = [store.normalized_disk(d) for d in store.disks()]
        except StorageError as error:
            module.fail_json(msg=str(error))
        snapshots = [store.normalized_snapshot(s) for s in store.snapshots()]
    container, image_exists = {}, False
    if "podman" not in missing:
        container = inspect_container(module, podman, module.params["container"])
        if module.params["image"]:
            rc, _out, _err = module.run_command(
                podman.command("image", "exists", module.params["image"])
            )
            image_exists = rc == 0
    module.exit_json(
        changed=False,
        disks=disks,
        snapshots=snapshots,
        root=os.geteuid() == 0,
        missing_tools=missing,
        container=container,
        image_exists=image_exists,
        podman=podman.as_dict(),
        address_local=address_is_local(module.params["address"]),
    )


def address_is_local(address: str) -> bool:
    """Whether a socket can be bound to the address here (port 0: any free one)."""
    if not address:
        return True
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True


def inspect_container(module: AnsibleModule, podman: PodmanSettings, name: str) -> dict:
    """podman's view of the container, {} when it does not exist (or none was named)."""
    if not name:
        return {}
    rc, out, err = module.run_command(podman.command("container", "inspect", name))
    if rc != 0:
        if "no such container" in (err + out).lower():
            return {}
        module.fail_json(
            msg=f"podman container inspect {name} failed: {err.strip() or out.strip()}"
        )
    found = json.loads(out or "[]")
    return found[0] if found else {}


if __name__ == "__main__":
    main()
