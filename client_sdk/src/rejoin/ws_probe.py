"""Whether a server's WebSocket gets through right now, asked without taking a seat.

`transport="auto"` asks after it fell back to SSE on evidence that could also mean the server was
only down or slow for a moment (a refused dial in a browser, which cannot tell refused from
blocked; a welcome slower than the open timeout), and again while it stays on SSE. The probe
dials the WebSocket and sends a `ping` where the server wants a `hello`: a rejoin server answers
that with an `error` (and a 4400 close). Any frame back is the answer "it gets through"; a dial
that fails, ends without a frame or stays silent for the timeout
is "blocked", unless the dial found nothing listening (the server restarting) or the upgrade
was turned away as busy (429, 502-504), which answer nothing (a link that can tell: CPython's; a
browser hides why a WebSocket failed). No token is sent: the seat is not touched. The server
counts each probe that reaches it as `rejoin_reconnects_total{outcome="probe"}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from rejoin.link import Link, LinkFactory
from rejoin_protocol.errors import CLOSE_NORMAL
from rejoin_protocol.messages import Ping, encode

__all__ = ["WebSocketProbe"]

PROBE_CONNECTION: Final = 0
"""The connection number the probe's link is given (the session's start at 1)."""


# Refusals of the upgrade that come from the server or a proxy in front of it for reasons of
# their own (rate limited, at the connection cap, no node up), not from the way being blocked.
_BUSY_STATUSES: Final = frozenset({429, 502, 503, 504})


class WebSocketProbe:
    """Dials `url` at once; calls `answered(through, timed_out)` once: `through` True (it got
    through), False (blocked; `timed_out`: by staying silent for the whole timeout), or None (no
    answer about the way there: nothing listens at the server's address, or the upgrade was
    turned away as busy, as far as the link can tell)."""

    def __init__(
        self,
        url: str,
        factory: LinkFactory,
        answered: Callable[[bool | None, bool], None],
        *,
        timeout: float,
    ) -> None:
        self._answered = answered
        self._done = False
        self._timer = asyncio.get_running_loop().call_later(timeout, self._settle, False, True)
        self._link: Link | None = None  # a link may report its end while it is being made
        link = factory(url, PROBE_CONNECTION, self)
        self._link = link
        self.task: Final = link.task
        if self._done:
            link.close(CLOSE_NORMAL, "probe over")

    def cancel(self) -> None:
        """No answer wanted any more."""
        self._done = True
        self._timer.cancel()
        if self._link is not None:
            self._link.close(CLOSE_NORMAL, "probe over")

    # --- the probe link's listener -----------------------------------------------------------

    def link_opened(self, connection: int) -> None:
        if self._link is not None and not self._done:
            self._link.send(encode(Ping(0)))

    def link_frame(self, connection: int, frame: str | bytes) -> None:
        self._settle(True)

    def link_lost(self, connection: int, code: int | None, reason: str) -> None:
        # A dial that found nothing listening (the server restarting), or an upgrade turned away
        # as busy, says nothing about the way there (as far as the link can tell: CPython's can).
        unreachable = getattr(self._link, "unreachable", False)
        busy = getattr(self._link, "refused_status", None) in _BUSY_STATUSES
        self._settle(None if unreachable or busy else False)

    def _settle(self, through: bool | None, timed_out: bool = False) -> None:
        if self._done:
            return
        self.cancel()
        self._answered(through, timed_out)
