"""Which servers `transport="auto"` found reachable only over SSE, and until when."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

__all__ = ["REMEMBERED", "SSE_REMEMBERED_S", "TransportMemory"]

SSE_REMEMBERED_S = 600.0
"""How long a server whose WebSocket was found blocked is dialled over SSE straight away (then
the WebSocket is tried again: the network may have changed)."""


class TransportMemory:
    """Servers (by base URL: scheme, host, port and path prefix) whose WebSocket was found blocked
    on the way while SSE got through."""

    def __init__(
        self, remember_for: float = SSE_REMEMBERED_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._remember_for = remember_for
        self._clock = clock
        self._sse_until: dict[str, float] = {}

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


REMEMBERED: Final = TransportMemory()
"""The process's memory: every client of a server shares what one found out."""
