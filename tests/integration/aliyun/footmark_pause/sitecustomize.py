"""Test environment only: footmark's fixed 10-second pause after launching, skipped.

footmark's ECSConnection.run_instances / create_instances sleep a fixed 10 s after the launch
call ("to wait instance to finish initiated") before they poll DescribeInstances until the
instance runs. The project's ECS double answers Running at once, so the pause waits for
nothing; over a suite it is a minute and a half of idle time. The integration tests put this
directory on PYTHONPATH, so every Python they start (ansible-playbook and each module) loads
this file; it swaps the `time` that footmark.ecs.connection sees for one whose sleep() skips
exactly those 10-second pauses. Every other wait (footmark's polling, the aliyun_snapshot
backoff, anything outside footmark.ecs.connection) sleeps as it would in production, and
the calls footmark makes after the pause reach the double as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import time
import types

TARGET = "footmark.ecs.connection"
FIXED_PAUSE = 10


class _Clock(types.ModuleType):
    """time, except that sleep(10) returns at once."""

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        if seconds != FIXED_PAUSE:
            time.sleep(seconds)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            run(module)
            module.time = _Clock("time")  # type: ignore[attr-defined]

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _Finder())
