"""What the host tests share besides fixtures: the clock the tests move, and the host factory type."""

from __future__ import annotations

from collections.abc import Callable

from rejoin_server.host.host import GameHost

T0 = 1_700_000_000_000


class FakeClock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


HostFactory = Callable[..., GameHost]
