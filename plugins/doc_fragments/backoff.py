# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The polling options the wait_* modules share (module_utils/backoff.py's BACKOFF_ARGS)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  timeout:
    description: Seconds to keep trying, in all.
    type: float
    default: 60
  first_delay:
    description: Seconds before the first retry; each later pause is 1.5 times the previous.
    type: float
    default: 0.1
  max_delay:
    description: The longest pause between two tries, in seconds.
    type: float
    default: 1.0
"""
