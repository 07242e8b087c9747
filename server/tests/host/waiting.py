"""Waiting for something the event loop does in the background, without fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], timeout_s: float = 2.0, what: str = "") -> None:
    """Yield to the loop until `condition()` holds; fail after `timeout_s` (a bound, not a wait)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or condition}")
        await asyncio.sleep(0.001)


async def settle(rounds: int = 20) -> None:
    """Let every ready callback and task run a few rounds (no time passes)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
