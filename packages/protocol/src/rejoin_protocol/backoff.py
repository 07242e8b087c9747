"""How long a client waits before dialling again: quick retries for a server coming back, then
capped exponential backoff with full jitter.

The delay before retry n of the ladder (counting from 0) is uniform in
`[0, min(cap, first * factor**n))`, the "full jitter" schedule: a server that restarts under a
thousand clients is not hit by all of them in the same millisecond. `first` bounds the first retry,
because a restarted server is back in well under a second (docs/protocol.md).

A quick retry is drawn instead, uniform in `[quick_low, quick_high)` (never past `cap`), when the
caller says the server is plainly coming back (the session: a dial that failed without opening,
right after a connection that was up dropped; a server that binds its port before it loads
refuses only while its process starts). Those dials fail in a millisecond, so the ladder would
spend its first steps on them and land its next dial up to a second after the port is back. Quick
retries are bounded (`quick_tries` between two resets) and stay jittered; they do not climb the
ladder, which goes on where it stood when they run out. The random source is injected, so tests
choose the draws. Standard library only.

When to reset the count is the caller's decision (the session resets it only after a connection
has stayed up for a while, never merely because one opened).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff", "BackoffPolicy"]


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """The schedule, in seconds: the bound of the first retry, the growth factor and the cap of
    the ladder; the range of a quick retry and how many quick retries there may be between resets
    (0: none)."""

    first: float = 0.1
    cap: float = 5.0
    factor: float = 2.0
    quick_low: float = 0.05
    quick_high: float = 0.15
    quick_tries: int = 10

    def __post_init__(self) -> None:
        if not self.first > 0:
            raise ValueError(f"first must be a positive number of seconds, not {self.first!r}")
        if not self.cap >= self.first:
            raise ValueError(f"cap ({self.cap!r}) must be at least first ({self.first!r})")
        if not self.factor >= 1:
            raise ValueError(f"factor must be at least 1, not {self.factor!r}")
        # A quick retry with no floor would be the tight loop the ladder exists to prevent.
        if not 0 < self.quick_low <= self.quick_high < math.inf:
            raise ValueError(
                f"quick retries must satisfy 0 < quick_low ({self.quick_low!r}) <= quick_high "
                f"({self.quick_high!r}) < inf"
            )
        if self.quick_tries < 0:
            raise ValueError(f"quick_tries must be 0 or more, not {self.quick_tries!r}")

    def bound(self, attempt: int) -> float:
        """The largest delay before retry `attempt` of the ladder (0 for the first)."""
        bound = self.first
        # Grown step by step, not as factor**attempt: that overflows a float after ~1000 failures.
        for _ in range(attempt):
            if bound >= self.cap:
                break
            bound *= self.factor
        return min(bound, self.cap)


class Backoff:
    """The retry count of one client and the delays it draws."""

    __slots__ = ("_attempts", "_quick", "_random", "policy")

    def __init__(
        self,
        policy: BackoffPolicy | None = None,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy or BackoffPolicy()
        self._random = random_source
        self._attempts = 0
        self._quick = 0

    @property
    def attempts(self) -> int:
        """Retries drawn since the last reset, quick ones included."""
        return self._attempts

    @property
    def quick_left(self) -> int:
        """Quick retries that may still be drawn before the next reset."""
        return self.policy.quick_tries - self._quick

    def next_delay(self, *, soon: bool = False, quick: bool = False) -> float:
        """The delay before the next retry, in seconds, and count it.

        `quick` draws a quick retry while any are left (else the ladder's step), for a server
        plainly coming back. `soon` draws within the first-retry bound whatever the count, for a
        server that asked to be dialled again at once (it still counts, so a server that keeps
        asking still backs off from the failures in between)."""
        # A source that returns 1.0 (or a little more) must not push the delay past its bound.
        draw = min(max(self._random(), 0.0), 1.0)
        self._attempts += 1
        if quick and self._quick < self.policy.quick_tries:
            self._quick += 1
            low, high = self.policy.quick_low, self.policy.quick_high
            # Never past the cap: a policy capped below the quick range means "faster than that".
            return min(low + draw * (high - low), self.policy.cap)
        # Quick retries do not climb the ladder: it goes on from where they found it.
        bound = self.policy.first if soon else self.policy.bound(self._attempts - 1 - self._quick)
        return draw * bound

    def reset(self) -> None:
        """Start again from the first-retry bound, with every quick retry available again."""
        self._attempts = 0
        self._quick = 0
