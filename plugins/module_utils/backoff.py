# Copyright: mlbox.workbench developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Polling with backoff and a timeout, for the modules that wait for a server to answer.

The first retry comes after `first_delay` seconds, each later one after 1.5 times the
previous pause, capped at `max_delay`: a server that is up in a fraction of a second is seen
in a fraction of a second, one that takes a minute is asked about once a second.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Callable

BACKOFF = 1.5

# The argument spec of the options in doc_fragments/backoff.py.
BACKOFF_ARGS: dict[str, dict[str, Any]] = {
    "timeout": {"type": "float", "default": 60},
    "first_delay": {"type": "float", "default": 0.1},
    "max_delay": {"type": "float", "default": 1.0},
}


def pauses(first: float, most: float) -> Iterator[float]:
    """first, first*1.5, ... capped at most: the pauses between tries."""
    pause = first
    while True:
        yield min(pause, most)
        pause *= BACKOFF


def poll(
    attempt: Callable[[], tuple[bool, Any]],
    timeout: float,
    first_delay: float,
    max_delay: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Call `attempt` until it returns (True, value); (False, why) or an exception retries.

    Returns ok, attempts and elapsed, with the value (ok) or the last reason (not ok). The
    last pause is cut short so that the timeout is kept, not overrun.
    """
    started = clock()
    last: Any = "no attempt was made"
    for attempts, pause in enumerate(pauses(first_delay, max_delay), start=1):
        try:
            done, detail = attempt()
        except Exception as exc:  # refused, reset, TLS, timeout: the server is not up yet
            done, detail = False, f"{type(exc).__name__}: {exc}"
        elapsed = clock() - started
        if done:
            return {"ok": True, "value": detail, "attempts": attempts, "elapsed": round(elapsed, 3)}
        last = detail
        if elapsed >= timeout:
            return {"ok": False, "last": last, "attempts": attempts, "elapsed": round(elapsed, 3)}
        sleep(min(pause, timeout - elapsed))
    raise AssertionError("unreachable")  # pragma: no cover


def check_seconds(params: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """The error for the first of `names` that is not a positive number of seconds."""
    for name in names:
        if params[name] <= 0:
            return f"{name} must be more than 0 seconds, not {params[name]}"
    return None
