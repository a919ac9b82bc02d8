#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wait_job
short_description: Wait for a task started with async and poll 0, polling with backoff
version_added: 0.1.0
description:
  - Reads the status file of an asynchronous job (a task run with C(async) and C(poll=0)) on
    the host until the job has finished, then returns the job's own result and removes the
    file.
  - Unlike M(ansible.builtin.async_status) in an C(until) loop, whose C(delay) is the same
    for every retry, the first retry comes after O(first_delay) seconds and each later one
    after 1.5 times the previous pause, capped at O(max_delay), in one module call; a job
    that ends is seen within O(max_delay) seconds.
  - Fails as the job failed (its C(failed), with its message, return code and output),
    when the status file does not exist (the job never started on this host, or its file
    was removed),
    and after O(timeout) seconds while the job still runs (the job itself is left running).
  - Reads the same status files as M(ansible.builtin.async_status), with or without Mitogen.
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  jid:
    description: The C(ansible_job_id) the asynchronous task registered.
    type: str
    required: true
  async_dir:
    description:
      - The directory of the status files on the host, as the C(async_dir) shell option (or
        E(ANSIBLE_ASYNC_DIR)) set it when the job started.
    type: path
    default: ~/.ansible_async
  cleanup:
    description: Remove the status file once the job has finished.
    type: bool
    default: true
extends_documentation_fragment:
  - mlbox.workbench.backoff
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - Waiting changes nothing on the host (the status file is kept in check mode).
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
seealso:
  - module: ansible.builtin.async_status
  - module: mlbox.workbench.wait_banner
"""

EXAMPLES = r"""
- name: Start the transaction in the background
  ansible.builtin.command:
    argv: [apt-get, install, -y, tree]
  async: 1800
  poll: 0
  register: job

- name: Wait for it
  mlbox.workbench.wait_job:
    jid: "{{ job.ansible_job_id }}"
    timeout: 1800
  register: done
"""

RETURN = r"""
finished:
  description: Whether the job has finished (always true on success).
  returned: always
  type: bool
  sample: true
ansible_job_id:
  description: The job's id.
  returned: always
  type: str
  sample: "j123456789.4242"
job:
  description:
    - The job's own result (C(rc), C(stdout), C(stderr), C(changed) and the rest its module
      returned); C(changed), C(rc), C(stdout) and C(stderr) are also returned at the top level.
  returned: success
  type: dict
attempts:
  description: How many times the status file was read.
  returned: always
  type: int
  sample: 12
elapsed:
  description: Seconds from the first read to the end of the job (or to giving up).
  returned: always
  type: float
  sample: 21.4
"""

import contextlib
import json
import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.backoff import (
    BACKOFF_ARGS,
    check_seconds,
    poll,
)


class JobMissing(Exception):
    """No status file: nothing will ever finish, so waiting stops at once."""


def read_status(path: str) -> tuple[bool, Any]:
    """One look: (True, the job's result) once it has finished, else (False, why).

    The rules of ansible.builtin.async_status: a file without "started" is the job's final
    result; a file that is empty or half written is a job still running.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError as exc:
        raise JobMissing(path) from exc
    try:
        data = json.loads(text)
    except ValueError:
        return False, "the status file is being written"
    if not isinstance(data, dict):
        return True, {"failed": True, "msg": f"the status file holds no result: {text[:200]!r}"}
    if "started" in data and not data.get("finished"):
        return False, f"still running (pid {data.get('pid', '?')})"
    return True, data


def wait(path: str, params: dict[str, Any]) -> dict[str, Any]:
    missing: list[str] = []

    def attempt() -> tuple[bool, Any]:
        try:
            return read_status(path)
        except JobMissing:
            missing.append(path)
            return True, None

    result = poll(attempt, params["timeout"], params["first_delay"], params["max_delay"])
    if missing:
        result["missing"] = True
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "jid": {"type": "str", "required": True},
            "async_dir": {"type": "path", "default": "~/.ansible_async"},
            "cleanup": {"type": "bool", "default": True},
            **BACKOFF_ARGS,
        },
        supports_check_mode=True,
    )
    p = module.params
    error = check_seconds(p, ("timeout", "first_delay", "max_delay"))
    if error:
        module.fail_json(msg=error, finished=False, ansible_job_id=p["jid"])
    jid = p["jid"]
    if not jid or os.sep in jid or jid in (".", ".."):
        module.fail_json(msg=f"jid {jid!r} is no job id", finished=False, ansible_job_id=jid)
    path = os.path.join(p["async_dir"], jid)  # type=path: already expanded
    result = wait(path, p)
    info = {"ansible_job_id": jid, "attempts": result["attempts"], "elapsed": result["elapsed"]}
    if result.get("missing"):
        module.fail_json(
            msg=f"job {jid} has no status file {path}: it was not started on this host "
            "(or by another user), or its result was already collected",
            finished=False, **info,
        )  # fmt: skip
    if not result["ok"]:
        module.fail_json(
            msg=f"job {jid} was still running after {p['timeout']:g} s (it is left running; "
            f"its status file is {path})",
            finished=False, **info,
        )  # fmt: skip
    # The job's module arguments stay out: the job's task may have hidden them (no_log).
    job = {k: v for k, v in result["value"].items() if k != "invocation"}
    if p["cleanup"] and not module.check_mode:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    top = {key: job[key] for key in ("rc", "stdout", "stderr") if key in job}
    if job.get("failed"):
        module.fail_json(
            msg=f"job {jid} failed: {job.get('msg') or 'non-zero return code'}"
            + (f"; stderr: {job['stderr'].strip()[-2000:]}" if job.get("stderr") else ""),
            finished=True, job=job, **top, **info,
        )  # fmt: skip
    module.exit_json(changed=bool(job.get("changed")), finished=True, job=job, **top, **info)


if __name__ == "__main__":
    main()
