"""The clock a `GameClient` reads and the one timer it keeps armed at the session's `wake_at`.

The sans-I/O session never reads the clock: every input carries `now`, and `wake_at` says when it
wants `time_passed`. The client reads a `Clock` for `now` and arms a `WakeTimer` on it. By default
that is the running event loop's monotonic clock (`LoopClock`); a test passes its own `Clock` and
moves time by hand, so that a backoff or a silence timeout fires when the test says, not after
real seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "LoopClock", "Timer", "WakeTimer"]


class Timer(Protocol):
    """A callback scheduled on a `Clock`, which may be cancelled before it runs."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic seconds, and callbacks at a time on the same scale."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` once, at `when` or later (at once if `when` has passed)."""
        ...


class LoopClock:
    """The running asyncio event loop's clock."""

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        # call_later, not call_at: Pyodide's loop refuses a time already past ("Can't schedule
        # in the past"), which a busy page reaches after a short backoff draw.
        loop = asyncio.get_running_loop()
        return loop.call_later(max(0.0, when - loop.time()), callback)


class WakeTimer:
    """At most one timer, armed at the latest `wake_at`; it calls `fire(wake_at)` when due."""

    def __init__(self, clock: Clock, fire: Callable[[float], None]) -> None:
        self._clock = clock
        self._fire = fire
        self._timer: Timer | None = None
        self._at: float | None = None

    def arm(self, wake_at: float | None) -> None:
        """Wake at `wake_at` instead of any earlier request; None: do not wake."""
        if wake_at == self._at:
            return
        self.disarm()
        if wake_at is not None:
            self._timer = self._clock.call_at(wake_at, lambda: self._due(wake_at))
            self._at = wake_at

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._at = None, None

    def _due(self, wake_at: float) -> None:
        self._timer, self._at = None, None
        # A loop may run a handle up to its clock resolution early; report at least the deadline
        # so that the session fires instead of asking for the same wake-up again.
        self._fire(max(self._clock.time(), wake_at))
