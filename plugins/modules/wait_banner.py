#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wait_banner
short_description: Wait until a TCP port sends a banner that matches, polling with backoff
version_added: 0.1.0
description:
  - Connects to O(host):O(port) until the server's first words match O(search_regex)
    (an SSH server's C(SSH-2.0-OpenSSH_...), say), then returns at once.
  - Unlike M(ansible.builtin.wait_for), whose pause between tries is a whole number of
    seconds, the first retry comes after O(first_delay) seconds and each later one after
    1.5 times the previous pause, capped at O(max_delay); an instance that boots in half a
    second is seen in half a second.
  - A port that accepts and then closes (a published container port with nothing behind it
    yet) counts as not answering.
  - Fails after O(timeout) seconds with the last error seen.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  host:
    description: The address to connect to.
    type: str
    default: 127.0.0.1
  port:
    description: The TCP port.
    type: int
    required: true
  search_regex:
    description: A regular expression the banner must match.
    type: str
    default: "^SSH-"
  connect_timeout:
    description: Seconds one connection and its banner may take.
    type: float
    default: 5
extends_documentation_fragment:
  - mlbox.workbench.backoff
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - Reading a banner changes nothing, so check mode waits as a real run does.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
seealso:
  - module: ansible.builtin.wait_for
  - module: mlbox.workbench.wait_https
"""

EXAMPLES = r"""
- name: Wait for the SSH banner of the instance
  mlbox.workbench.wait_banner:
    host: 127.0.0.1
    port: 2222
    search_regex: OpenSSH
    timeout: 120
"""

RETURN = r"""
banner:
  description: The banner's first line.
  returned: success
  type: str
  sample: SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3
attempts:
  description: How many connections were made.
  returned: always
  type: int
  sample: 3
elapsed:
  description: Seconds from the first connection to the banner (or to giving up).
  returned: always
  type: float
  sample: 0.41
"""

import re
import socket
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.backoff import (
    BACKOFF_ARGS,
    check_seconds,
    poll,
)


def read_banner(host: str, port: int, pattern: re.Pattern[str], timeout: float) -> tuple[bool, Any]:
    """One try: (True, first line) when the banner matches, else (False, why)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        data = b""
        while len(data) < 4096:
            chunk = sock.recv(1024)
            if not chunk:
                break
            data += chunk
            text = data.decode("utf-8", "replace")
            if pattern.search(text):
                return True, text.splitlines()[0] if text.strip() else text
    if not data:
        return False, "the port accepted and closed without a banner"
    start = data[:80].decode("utf-8", "replace")
    return False, f"banner {start!r} does not match {pattern.pattern!r}"


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "default": "127.0.0.1"},
            "port": {"type": "int", "required": True},
            "search_regex": {"type": "str", "default": "^SSH-"},
            **BACKOFF_ARGS,
            "connect_timeout": {"type": "float", "default": 5},
        },
        supports_check_mode=True,
    )
    p = module.params
    error = check_seconds(p, ("timeout", "first_delay", "max_delay", "connect_timeout"))
    if error:
        module.fail_json(msg=error)
    try:
        pattern = re.compile(p["search_regex"], re.MULTILINE)
    except re.error as exc:
        module.fail_json(msg=f"search_regex {p['search_regex']!r} is no regular expression: {exc}")
    result = poll(
        lambda: read_banner(p["host"], p["port"], pattern, p["connect_timeout"]),
        p["timeout"], p["first_delay"], p["max_delay"],
    )  # fmt: skip
    if not result.pop("ok"):
        module.fail_json(
            msg=f"{p['host']}:{p['port']} sent no banner matching {p['search_regex']!r} within "
            f"{p['timeout']:g} s ({result['attempts']} tries); last: {result.pop('last')}",
            **result,
        )
    module.exit_json(changed=False, banner=result.pop("value"), **result)


if __name__ == "__main__":
    main()
