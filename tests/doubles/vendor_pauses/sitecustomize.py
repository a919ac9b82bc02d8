"""Test environment only: the vendor libraries' pauses that wait for nothing against a double.

The cloud doubles settle resources after a number of reads or polls, never after seconds
(tests/doubles/ec2_contract.py, aliyun_contract.py, azure_arm.py). The vendor libraries
still pause between two reads as they must against the real clouds, which over a suite is
many minutes of idle time. The integration tests put this directory on PYTHONPATH, so every
Python they start (ansible-playbook and each module, on .venv or .venv-azure) loads this file.
Each hook below swaps one pause in one vendor module, at its import; every read, poll and
retry still happens as in production, and nothing outside the named modules is touched:

- botocore.waiter (AWS: amazon.aws' ec2_instance, ec2_vol ... waiters sleep their Delay,
  15 s, between two reads): sleep() returns at once; the waiter still reads until settled
  and gives up after MaxAttempts reads.
- footmark.ecs.connection (Aliyun: run_instances / create_instances sleep a fixed 10 s
  after the launch call before polling DescribeInstances): exactly those 10 s pauses skipped.
- azure.core.polling.base_polling (Azure: LROBasePolling._sleep honours Retry-After, 10 s
  from the ARM double, tests/doubles/azure_arm.py RETRY_AFTER): that pause lasts 0.01 s.

Being the first sitecustomize on sys.path, it also does what .venv-azure's own one does
(tests/setup/azure.sh): bytecode is cached whatever PYTHONDONTWRITEBYTECODE says.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import time
import types
from typing import Callable

sys.dont_write_bytecode = False

FOOTMARK_FIXED_PAUSE = 10
AZURE_RETRY_AFTER = 10.0  # tests/doubles/azure_arm.py RETRY_AFTER
AZURE_PAUSE = 0.01


def _clock(skip: Callable[[float], bool]) -> types.ModuleType:
    """The time module, except that sleep(seconds) returns at once where skip(seconds)."""

    class _Clock(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            if not skip(seconds):
                time.sleep(seconds)

    return _Clock("time")


def _botocore_waiter(module: types.ModuleType) -> None:
    module.time = _clock(lambda seconds: True)  # type: ignore[attr-defined]


def _footmark_ecs(module: types.ModuleType) -> None:
    module.time = _clock(lambda seconds: seconds == FOOTMARK_FIXED_PAUSE)  # type: ignore[attr-defined]


def _azure_polling(module: types.ModuleType) -> None:
    polling = module.LROBasePolling  # type: ignore[attr-defined]
    sleep = polling._sleep

    def _sleep(self, delay: float) -> None:  # type: ignore[no-untyped-def]
        sleep(self, AZURE_PAUSE if delay == AZURE_RETRY_AFTER else delay)

    polling._sleep = _sleep


HOOKS: dict[str, Callable[[types.ModuleType], None]] = {
    "botocore.waiter": _botocore_waiter,
    "footmark.ecs.connection": _footmark_ecs,
    "azure.core.polling.base_polling": _azure_polling,
}


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        hook = HOOKS.get(fullname)
        if hook is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            run(module)
            hook(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _Finder())
