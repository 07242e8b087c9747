"""Which servers `transport="auto"` found reachable only over SSE, and until when."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

__all__ = ["REMEMBERED", "SSE_REMEMBERED_S", "SWITCH_BACK_GUARD_S", "TransportMemory"]

SSE_REMEMBERED_S = 600.0
"""How long a server whose WebSocket was found blocked is dialled over SSE straight away (then
the WebSocket is tried again: the network may have changed)."""
SWITCH_BACK_GUARD_S = 120.0
"""After a client went back from SSE to a server's WebSocket, how long before another may: a
WebSocket that a probe gets through but a real connection does not (a welcome slower than the
open timeout, a proxy that cuts large frames) must not make clients go round for ever."""


class TransportMemory:
    """Servers (by base URL: scheme, host, port and path prefix) whose WebSocket was found blocked
    on the way while SSE got through."""

    def __init__(
        self, remember_for: float = SSE_REMEMBERED_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._remember_for = remember_for
        self._clock = clock
        self._sse_until: dict[str, float] = {}
        self._switched_back_at: dict[str, float] = {}

    @property
    def remember_for(self) -> float:
        return self._remember_for

    def prefers_sse(self, server: str) -> bool:
        until = self._sse_until.get(server)
        if until is not None and self._clock() >= until:
            del self._sse_until[server]
            return False
        return until is not None

    def websocket_blocked(self, server: str) -> None:
        self._sse_until[server] = self._clock() + self._remember_for

    def forget(self, server: str) -> None:
        self._sse_until.pop(server, None)

    def may_switch_back(self, server: str) -> bool:
        """Whether a client on SSE may go back to `server`'s WebSocket now; if so, it counts as
        going back (SWITCH_BACK_GUARD_S)."""
        now = self._clock()
        last = self._switched_back_at.get(server)
        if last is not None and now - last < SWITCH_BACK_GUARD_S:
            return False
        self._switched_back_at[server] = now
        return True


REMEMBERED: Final = TransportMemory()
"""The process's memory: every client of a server shares what one found out."""
