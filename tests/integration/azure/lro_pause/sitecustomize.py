"""Test environment only: the Retry-After pause between polls of a long-running operation,
shortened.

The ARM double answers every long-running operation as Azure does: InProgress for a few
polls, each answer with Retry-After (tests/doubles/azure_arm.py RETRY_AFTER, 10 s), which
azure-core honours (LROBasePolling._delay sleeps that long). The double counts polls, not
seconds, so the pause waits for nothing; over a suite it would be many minutes of idle time.
The integration tests put this directory on PYTHONPATH, so every Python they start (the
modules on .venv-azure's python too) loads this file; it wraps
azure.core.polling.base_polling.LROBasePolling._sleep so that a pause of exactly the
double's Retry-After lasts PAUSE seconds. Every other wait sleeps as it would in production.

Being the first sitecustomize on sys.path, it also does what .venv-azure's own one does
(tests/setup/azure.sh): bytecode is cached whatever PYTHONDONTWRITEBYTECODE says.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types

sys.dont_write_bytecode = False

TARGET = "azure.core.polling.base_polling"
RETRY_AFTER = 10.0  # tests/doubles/azure_arm.py RETRY_AFTER
PAUSE = 0.01


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
            polling = module.LROBasePolling  # type: ignore[attr-defined]
            sleep = polling._sleep

            def _sleep(self, delay: float) -> None:  # type: ignore[no-untyped-def]
                sleep(self, PAUSE if delay == RETRY_AFTER else delay)

            polling._sleep = _sleep

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _Finder())
