#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wait_https
short_description: Wait until a URL answers with an expected status, polling with backoff
version_added: 0.1.0
description:
  - Requests O(url) until it answers with one of O(status_code), then returns at once.
  - The first retry comes after O(first_delay) seconds, each later one after 1.5 times the
    previous pause, capped at O(max_delay); a server that comes up in a fraction of a second
    is seen in a fraction of a second, and one that takes a minute is not hammered.
  - Fails after O(timeout) seconds with the last error seen (refused, TLS, a wrong status).
  - Runs where the module runs; the jupyter role runs it on the notebook host against
    its own port, so nothing else on the network has to reach it.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  url:
    description: The URL to request (C(GET)).
    type: str
    required: true
  status_code:
    description: The statuses that count as an answer.
    type: list
    elements: int
    default: [200]
  validate_certs:
    description:
      - Verify the server's TLS certificate. Off for a self-signed certificate on the same host.
    type: bool
    default: true
  request_timeout:
    description: Seconds one request may take.
    type: float
    default: 5
extends_documentation_fragment:
  - mlbox.workbench.backoff
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - Requesting a URL changes nothing, so check mode waits as a real run does.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
notes:
  - Proxies from the environment are not used; the URL is meant to be reached directly.
seealso:
  - module: ansible.builtin.uri
  - module: ansible.builtin.wait_for
"""

EXAMPLES = r"""
- name: Wait until the notebook's login page answers over HTTPS
  mlbox.workbench.wait_https:
    url: https://127.0.0.1:8888/login
    validate_certs: false
    timeout: 60
"""

RETURN = r"""
status:
  description: The status of the answer that ended the wait.
  returned: success
  type: int
  sample: 200
attempts:
  description: How many requests were made.
  returned: always
  type: int
  sample: 4
elapsed:
  description: Seconds from the first request to the answer (or to giving up).
  returned: always
  type: float
  sample: 1.37
"""

from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.urls import open_url
from ansible_collections.mlbox.workbench.plugins.module_utils.backoff import (
    BACKOFF_ARGS,
    check_seconds,
    poll,
)


def wait(request: Callable[[], int], statuses: set[int], timeout: float, first_delay: float,
         max_delay: float, **clock: Any) -> dict[str, Any]:  # fmt: skip
    """Call `request` (which returns a status or raises) until a status in `statuses`."""

    def attempt() -> tuple[bool, Any]:
        try:
            status = request()
        except HTTPError as exc:  # an answer all the same, only not a 2xx one
            status = exc.code
        if status in statuses:
            return True, status
        return False, f"status {status}, expected {sorted(statuses)}"

    result = poll(attempt, timeout, first_delay, max_delay, **clock)
    if result["ok"]:
        result["status"] = result.pop("value")
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "status_code": {"type": "list", "elements": "int", "default": [200]},
            "validate_certs": {"type": "bool", "default": True},
            **BACKOFF_ARGS,
            "request_timeout": {"type": "float", "default": 5},
        },
        supports_check_mode=True,
    )
    p = module.params
    error = check_seconds(p, ("timeout", "first_delay", "max_delay", "request_timeout"))
    if error:
        module.fail_json(msg=error)

    def request() -> int:
        with open_url(
            p["url"], method="GET", validate_certs=p["validate_certs"], use_proxy=False,
            timeout=p["request_timeout"], follow_redirects="none",
        ) as response:  # fmt: skip
            return int(response.status)

    result = wait(request, set(p["status_code"]), p["timeout"], p["first_delay"], p["max_delay"])
    ok = result.pop("ok")
    if not ok:
        module.fail_json(
            msg=f"{p['url']} did not answer with {p['status_code']} within {p['timeout']:g} s "
            f"({result['attempts']} tries); last: {result.pop('last')}",
            **result,
        )
    module.exit_json(changed=False, url=p["url"], **result)


if __name__ == "__main__":
    main()
