# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The options every local-provider module shares: where the state is, whose it is."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  state_dir:
    description:
      - The controller's state directory (C(workbench_state_dir)); the workbench's disks and
        snapshots live in C(local/<workbench>/) below it.
    type: path
    required: true
  workbench:
    description: The workbench name; only its own disks and snapshots are ever touched.
    type: str
    required: true
"""
