"""Waiting for something without sleeping blindly: poll a condition until it holds or time runs out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_INTERVAL_S = 0.02


class WaitTimeout(AssertionError):
    """A condition did not hold in time. An AssertionError, so pytest reports it as a failure."""


def wait_for(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = POLL_INTERVAL_S,
    detail: Callable[[], str] | None = None,
) -> T:
    """Call `probe` until it returns something other than None (or False) and return that.

    `what` names the condition in the failure message; `detail` adds context (e.g. a server log)
    computed only when the wait fails.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() >= deadline:
            extra = f"\n{detail()}" if detail is not None else ""
            raise WaitTimeout(f"timed out after {timeout:.1f} s waiting for {what}{extra}")
        time.sleep(interval)
