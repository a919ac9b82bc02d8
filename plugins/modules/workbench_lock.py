#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
# The work is done by the action plugin plugins/action/workbench_lock.py; this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: workbench_lock
short_description: Hold a workbench's lock on the controller for the rest of the playbook run
version_added: 0.1.0
description:
  - Takes the per-workbench lock
    C(<XDG_STATE_HOME or ~/.local/state>/mlbox/locks/<cloud>-<name>.lock)
    (an flock) for the ansible-playbook process that runs the task, and keeps it until that
    process ends, however it ends; the kernel releases it then, so a killed run leaves no lock.
  - Another run that holds it fails the task at once, naming its pid, command and start
    time (written beside the lock in C(<cloud>-<name>.holder.json)), unless O(wait).
  - A run started by the holder itself (the wrapper scripts hold the lock and start
    ansible-playbook) goes on under that lock.
  - playbooks/provision.yml and playbooks/teardown.yml take it (role workbench_common).
options:
  cloud:
    description: The workbench's cloud.
    type: str
    required: true
  name:
    description: The workbench's name.
    type: str
    required: true
  wait:
    description: Wait for the lock instead of failing while another run holds it.
    type: bool
    default: false
  timeout:
    description: With O(wait), fail after this many seconds; 0 waits as long as it takes.
    type: int
    default: 0
  lock_dir:
    description: The directory of the locks; empty means C(mlbox/locks) under the state home.
    type: path
    default: ""
author:
  - mlbox.workbench developers (!UNKNOWN)
attributes:
  action:
    description:
      - Has an action plugin of the same name that runs on the controller; this module only
        documents it.
    support: full
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - The lock is taken in check mode too (a dry run must not race a real one).
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Take the workbench's lock for this run
  mlbox.workbench.workbench_lock:
    cloud: aws
    name: mlbox
    wait: "{{ workbench_lock_wait | default(false) }}"
"""

RETURN = r"""
lock:
  description: The lock file.
  returned: success
  type: str
  sample: /root/.local/state/mlbox/locks/aws-mlbox.lock
holder:
  description: Who holds the lock now (this run, or the run that started it).
  returned: success
  type: dict
  sample: {pid: 4242, command: "ansible-playbook playbooks/provision.yml -e cloud=aws",
           since: "2026-12-05T19:00:00Z"}
"""
