# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""workbench_cidr: an address or CIDR as the one value the providers receive."""

from __future__ import annotations

import ipaddress
from typing import Any, Callable

DOCUMENTATION = r"""
---
name: workbench_cidr
short_description: An address or CIDR, normalized, or empty when it is neither
version_added: 0.1.0
description:
  - Reads an IPv4 or IPv6 address or CIDR the way C(workbench_common) checks
    C(workbench_allowed_cidr). A bare address becomes one address (C(/32), IPv6 C(/128));
    a CIDR with host bits set becomes its network (C(203.0.113.7/24) is C(203.0.113.0/24)).
  - Returns an empty string for anything else (leading zeros, octets over 255, a prefix
    longer than the family allows), so one check can refuse it with a message.
options:
  _input:
    description: The address or CIDR.
    type: str
    required: true
author:
  - mlbox.workbench developers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Normalize the allowed address
  ansible.builtin.set_fact:
    allowed: "{{ '203.0.113.7' | mlbox.workbench.workbench_cidr }}"  # 203.0.113.7/32
"""

RETURN = r"""
_value:
  description: The normalized CIDR, or an empty string when the input is not one.
  type: str
"""


def workbench_cidr(value: Any) -> str:
    text = str(value if value is not None else "").strip()
    if not text or text.count("/") > 1:
        return ""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return ""
    return network.with_prefixlen


class FilterModule:
    def filters(self) -> dict[str, Callable[..., str]]:
        return {"workbench_cidr": workbench_cidr}
