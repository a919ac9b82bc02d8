# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""What podman needs on this machine, passed on every command that runs a container.

Nothing here depends on a containers.conf: the local provider (and the benchmark) must work
however it is called, so the settings that make a container start here are worked out from
the machine itself and given on the command line:

- the OCI runtime: crun refuses a host whose cgroups are mounted in "hybrid" mode (the v1
  controllers plus a v2 ``unified`` hierarchy: "cgroups in hybrid mode not supported"); runc
  works there, so it is named whenever the host is hybrid.
- the resource limits: podman asks for nofile/nproc 1048576 by default, and without
  CAP_SYS_RESOURCE the runtime may not raise a limit above the caller's hard limit ("error
  setting rlimit type 7: operation not permitted"). The limits given are at most the hard
  limits of the process that runs podman (this one), read with getrlimit; nproc also at most
  the kernel's pid_max, to which podman lowers its own (and so its runtime's) limit: above
  it, "error setting rlimit type 6".

Plain Python (no Ansible import), so scripts outside the collection (bench/run.py) can load
it by path.
"""

from __future__ import annotations

import os
import resource
import shutil
from dataclasses import dataclass, field
from typing import Callable

CGROUP_ROOT = "/sys/fs/cgroup"
PID_MAX = "/proc/sys/kernel/pid_max"
# podman's own defaults: never asked for more than these.
NOFILE_MAX = 1048576
NPROC_MAX = 1048576
# The soft open-files limit a VM's processes start with; programs that close every possible
# descriptor (apt's children, for one) take time in proportion to it.
NOFILE_SOFT = 1024


def cgroup_mode(root: str = CGROUP_ROOT) -> str:
    """'unified' (cgroup v2 only), 'hybrid' (v1 controllers + a v2 'unified' tree) or 'legacy'."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return "unified"
    if os.path.exists(os.path.join(root, "unified", "cgroup.controllers")):
        return "hybrid"
    return "legacy"


def choose_runtime(mode: str, which: Callable[[str], str | None] = shutil.which) -> str:
    """The runtime to name, or '' for podman's default (which works everywhere but hybrid)."""
    return "runc" if mode == "hybrid" and which("runc") else ""


def _hard(limit: int, cap: int) -> int:
    return cap if limit == resource.RLIM_INFINITY or limit < 0 else min(limit, cap)


def pid_max(path: str = PID_MAX) -> int:
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return NPROC_MAX


def derive_ulimits(nofile_hard: int, nproc_hard: int, pids: int = NPROC_MAX) -> list[str]:
    """podman --ulimit values at most the given hard limits (RLIM_INFINITY for none) and,
    for nproc, at most pid_max."""
    nofile = _hard(nofile_hard, NOFILE_MAX)
    nproc = _hard(nproc_hard, min(NPROC_MAX, pids))
    return [f"nofile={min(NOFILE_SOFT, nofile)}:{nofile}", f"nproc={nproc}:{nproc}"]


@dataclass
class PodmanSettings:
    """The runtime ('' = podman's default) and the --ulimit values for this machine."""

    runtime: str = ""
    ulimits: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def global_args(self) -> list[str]:
        """Options for every podman command (before or after the subcommand)."""
        return ["--runtime", self.runtime] if self.runtime else []

    @property
    def run_args(self) -> list[str]:
        """Options for podman run / create."""
        args = list(self.global_args)
        for ulimit in self.ulimits:
            args += ["--ulimit", ulimit]
        return args

    def command(self, *args: str) -> list[str]:
        return ["podman", *self.global_args, *args]

    def as_dict(self) -> dict[str, object]:
        return {
            "runtime": self.runtime,
            "ulimits": list(self.ulimits),
            "global_args": self.global_args,
            "run_args": self.run_args,
            "command": self.command(),
            "missing": list(self.missing),
        }


def settings(
    root: str = CGROUP_ROOT,
    which: Callable[[str], str | None] = shutil.which,
    pid_max_path: str = PID_MAX,
) -> PodmanSettings:
    """The settings for this machine and this process's limits."""
    mode = cgroup_mode(root)
    runtime = choose_runtime(mode, which)
    # A hybrid host without runc: crun (podman's usual default) cannot start a container.
    missing = ["runc"] if mode == "hybrid" and not runtime else []
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    return PodmanSettings(runtime, derive_ulimits(nofile, nproc, pid_max(pid_max_path)), missing)
