"""How long a client waits before dialling again: capped exponential backoff with full jitter.

The delay before retry n (counting from 0) is uniform in `[0, min(cap, first * factor**n))`, the
"full jitter" schedule: a server that restarts under a thousand clients is not hit by all of them
in the same millisecond. `first` bounds the first retry, because a restarted server is back in well
under a second (docs/protocol.md). The random source is injected, so tests choose the draws. Standard
library only.

When to reset the count is the caller's decision (the session resets it only after a connection
has stayed up for a while, never merely because one opened).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff", "BackoffPolicy"]


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """The schedule, in seconds: the bound of the first retry, the growth factor and the cap."""

    first: float = 0.1
    cap: float = 5.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if not self.first > 0:
            raise ValueError(f"first must be a positive number of seconds, not {self.first!r}")
        if not self.cap >= self.first:
            raise ValueError(f"cap ({self.cap!r}) must be at least first ({self.first!r})")
        if not self.factor >= 1:
            raise ValueError(f"factor must be at least 1, not {self.factor!r}")

    def bound(self, attempt: int) -> float:
        """The largest delay before retry `attempt` (0 for the first)."""
        bound = self.first
        # Grown step by step, not as factor**attempt: that overflows a float after ~1000 failures.
        for _ in range(attempt):
            if bound >= self.cap:
                break
            bound *= self.factor
        return min(bound, self.cap)


class Backoff:
    """The retry count of one client and the delays it draws."""

    __slots__ = ("_attempts", "_random", "policy")

    def __init__(
        self,
        policy: BackoffPolicy | None = None,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy or BackoffPolicy()
        self._random = random_source
        self._attempts = 0

    @property
    def attempts(self) -> int:
        """Retries drawn since the last reset."""
        return self._attempts

    def next_delay(self, *, soon: bool = False) -> float:
        """The delay before the next retry, in seconds, and count it.

        `soon` draws within the first-retry bound whatever the count, for a server that asked to
        be dialled again at once (it still counts, so a server that keeps asking still backs off
        from the failures in between)."""
        bound = self.policy.first if soon else self.policy.bound(self._attempts)
        self._attempts += 1
        # A source that returns 1.0 (or a little more) must not push the delay past its bound.
        return min(max(self._random(), 0.0), 1.0) * bound

    def reset(self) -> None:
        """Start again from the first-retry bound."""
        self._attempts = 0
