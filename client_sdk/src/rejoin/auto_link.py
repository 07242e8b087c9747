"""`transport="auto"`: a WebSocket where one gets through, else SSE, decided per server.

Some networks (corporate and hotel proxies, firewalls) refuse the WebSocket upgrade, or let it
hang, or kill the upgraded connection at once, while plain HTTP gets through. An `AutoLink` is one
connection of the session that finds out which case it is in without the session knowing:

1. it dials a WebSocket. Once the WebSocket brings its first frame, that is the transport.
2. a WebSocket that ends before bringing a single frame, or brings none within `open_timeout`
   (it does not open, or it opens and stays silent: a proxy that accepts the upgrade and then
   passes nothing), is not taken as the server's answer: a server that is down (restarting) is
   told apart from a blocked path by dialling the WebSocket once more at once (when the first
   failed fast: a hang is not waited out twice), and then over SSE. Whatever the session
   already sent (its `hello`) goes to each attempt. A dial that found nothing listening at the
   server's address (refused: a restart; a link that can tell says `unreachable`) is lost at
   once, without SSE: it would go to the same address, and if the server came back between
   the two, the WebSocket would be remembered as blocked when it is not.
3. SSE that brings a frame while the WebSocket did not: the server is marked in the
   `TransportMemory` as reached over SSE, and the next connections go straight to SSE until the
   memory runs out (then the WebSocket is tried again: the network may have changed), or until
   SSE is refused (an SSE attempt that gets no answer, the server being down, keeps it).

If every attempt fails, the connection is lost as it would be with one transport, and the
session backs off and dials again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final

from rejoin.link import Link, LinkFactory, LinkListener
from rejoin_protocol.errors import CLOSE_NORMAL

log = logging.getLogger(__name__)

__all__ = ["SSE_REMEMBERED_S", "WS_OPEN_TIMEOUT_S", "AutoLink", "TransportMemory"]

SSE_REMEMBERED_S = 600.0
"""How long a server found reachable only over SSE is dialled over SSE straight away."""
WS_OPEN_TIMEOUT_S = 4.0
"""A WebSocket that has brought no frame by then is taken as blocked (a server that is up opens
one and answers its `hello` in milliseconds; one that is down refuses at once)."""
_SLOW_FAILURE_S = 1.0
"""A WebSocket that failed sooner than this is dialled once more before SSE is tried."""


class TransportMemory:
    """Which servers (by base URL) were reached over SSE after their WebSocket failed."""

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


class AutoLink:
    """Connection number `connection` of a session, over whichever transport gets through."""

    def __init__(
        self,
        url: str,
        connection: int,
        listener: LinkListener,
        *,
        websocket: LinkFactory,
        sse: LinkFactory,
        memory: TransportMemory = REMEMBERED,
        open_timeout: float = WS_OPEN_TIMEOUT_S,
    ) -> None:
        self.connection: Final = connection
        self._url = url
        self._listener = listener
        self._factories = {"websocket": websocket, "sse": sse}
        self._memory = memory
        self._server = url.rsplit("/api/game/", 1)[0]
        self._open_timeout = open_timeout
        self._loop = asyncio.get_running_loop()
        self.task: asyncio.Future[None] = self._loop.create_future()
        self._sent: list[str] = []  # what the session sent before a transport was settled
        self._settled = False  # an attempt brought a frame: it is the transport
        self._opened = False  # the session was told the connection is open
        self._closed = False
        self._attempts: list[str] = []
        self._inner: Link | None = None
        self._inner_tasks: set[asyncio.Future[None]] = set()
        self._ended = False  # lost (and reported) or closed: done once the attempts are
        self._inner_open = False
        self._started_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._try("sse" if memory.prefers_sse(self._server) else "websocket")

    @property
    def transport(self) -> str:
        """The transport of the attempt now running ("websocket" or "sse")."""
        return self._attempts[-1]

    # --- the Link protocol -------------------------------------------------------------------

    def send(self, text: str) -> None:
        if not self._settled:
            self._sent.append(text)
        if self._inner is not None and (self._inner_open or self._settled):
            self._inner.send(text)

    def close(self, code: int, reason: str) -> None:
        self._closed = True
        self._cancel_timer()
        if self._inner is not None:
            self._inner.close(code, reason)
        self._finish()

    # --- attempts ----------------------------------------------------------------------------

    def _try(self, transport: str) -> None:
        self._attempts.append(transport)
        self._inner_open = False
        self._started_at = self._loop.time()
        attempt = _Attempt(self, len(self._attempts))
        self._inner = self._factories[transport](self._url, self.connection, attempt)
        self._inner_tasks.add(self._inner.task)
        self._inner.task.add_done_callback(self._inner_ended)
        if transport == "websocket":
            self._timer = self._loop.call_later(self._open_timeout, self._open_timed_out)

    def _next_after_failure(self, code: int | None) -> str | None:
        """The transport to try after the current attempt failed unsettled (with close `code`,
        None: no answer), or None: give up."""
        current = self._attempts[-1]
        if current == "sse":
            # Straight to SSE on the memory's word, and it was refused: the WebSocket again next
            # time. No answer at all (the server down or restarting) says nothing about the
            # WebSocket: the memory stands, or each dial of an outage would wait a silent
            # WebSocket out again before SSE (4 s after a restart instead of milliseconds).
            if self._attempts == ["sse"] and code is not None:
                self._memory.forget(self._server)
            return None
        if getattr(self._inner, "unreachable", False):
            # Nothing listens at the server's address (a restart): SSE goes to the same address,
            # and one that got through a moment later would be taken for a blocked WebSocket.
            return None
        failed_fast = self._loop.time() - self._started_at < _SLOW_FAILURE_S
        if self._attempts.count("websocket") == 1 and failed_fast:
            return "websocket"
        return "sse"

    # --- what an attempt reports -------------------------------------------------------------

    def attempt_opened(self, number: int) -> None:
        if not self._current(number):
            return
        self._inner_open = True
        # A WebSocket's timer runs on until its first frame: open is not enough (see step 2).
        assert self._inner is not None
        for text in self._sent:
            self._inner.send(text)
        if not self._opened:
            self._opened = True
            self._listener.link_opened(self.connection)

    def attempt_frame(self, number: int, frame: str | bytes) -> None:
        if not self._current(number):
            return
        if not self._settled:
            self._settled = True
            self._cancel_timer()
            self._sent.clear()
            if self._attempts[-1] == "sse" and "websocket" in self._attempts:
                self._memory.websocket_blocked(self._server)
        self._listener.link_frame(self.connection, frame)

    def attempt_lost(self, number: int, code: int | None, reason: str) -> None:
        if not self._current(number):
            return
        self._cancel_timer()
        following = None if self._settled or self._closed else self._next_after_failure(code)
        log.info(
            "connection %d: %s attempt lost (%s %s); next: %s",
            self.connection,
            self._attempts[-1],
            code,
            reason,
            following,
        )
        if following is None:
            self._inner = None
            self._finish()
            self._listener.link_lost(self.connection, code, reason)
            return
        self._try(following)

    def _open_timed_out(self) -> None:
        """The WebSocket brought no frame (not open, or open and silent) and did not fail:
        abandoned (it reports nothing that counts any more), and SSE is tried; a hang is not
        waited out a second time."""
        self._timer = None
        if self._settled or self._closed or self._inner is None:
            return
        self._inner.close(CLOSE_NORMAL, "the WebSocket brought nothing: trying SSE")
        self._try("sse")

    # --- plumbing ----------------------------------------------------------------------------

    def _current(self, number: int) -> bool:
        return number == len(self._attempts) and not self._closed

    def _inner_ended(self, task: asyncio.Future[None]) -> None:
        self._inner_tasks.discard(task)
        self._maybe_done()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finish(self) -> None:
        """Lost (and reported) or closed: `task` is done once every attempt's link has ended."""
        self._ended = True
        self._maybe_done()

    def _maybe_done(self) -> None:
        if self._ended and not self._inner_tasks and not self.task.done():
            self.task.set_result(None)


class _Attempt:
    """The listener of one attempt: it reports to its `AutoLink` with its number, so that what
    an abandoned attempt still says is told apart from the current one."""

    def __init__(self, owner: AutoLink, number: int) -> None:
        self._owner = owner
        self.number = number

    def link_opened(self, connection: int) -> None:
        self._owner.attempt_opened(self.number)

    def link_frame(self, connection: int, frame: str | bytes) -> None:
        self._owner.attempt_frame(self.number, frame)

    def link_lost(self, connection: int, code: int | None, reason: str) -> None:
        self._owner.attempt_lost(self.number, code, reason)
