# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)
"""The fast-path options the host roles' probe modules share (module_utils/host_state.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  digest:
    description:
      - The digest of the role's inputs (and tasks) for this run, made on the controller.
      - With O(state_file), the probe answers RV(current=true) only when this digest is the
        one recorded there and its own look at the host agrees; empty never answers true.
    type: str
    default: ""
  state_file:
    description:
      - The file on the host where the role records its digest at the end of a full run.
    type: path
    default: ""
"""
