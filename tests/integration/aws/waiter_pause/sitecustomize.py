"""Test environment only: botocore waiters poll without their pauses.

The AWS double (tests/doubles/moto_server.py) settles a new instance, volume, attachment or
snapshot after a few reads of its Describe call, as the real EC2 settles them after a while.
botocore's waiters (InstanceRunning, VolumeAvailable, VolumeInUse, ... used by amazon.aws'
ec2_instance and ec2_vol) sleep their Delay, 15 s, between two reads; against the double
that waits for nothing, and over the suite it would be many minutes. The integration tests put
this directory on PYTHONPATH, so every Python they start (ansible-playbook and each module)
loads this file; it swaps the `time` that botocore.waiter sees for one whose sleep() returns
at once. The waiters still read until the resource has settled, and give up after their
MaxAttempts reads, as in production; nothing outside botocore.waiter is touched.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import time
import types

TARGET = "botocore.waiter"


class _Clock(types.ModuleType):
    """time, except that sleep() returns at once."""

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        return None


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
