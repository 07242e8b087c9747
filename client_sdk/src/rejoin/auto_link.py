"""`transport="auto"`: a WebSocket where one gets through, else SSE, decided per server.

Some networks (corporate and hotel proxies, firewalls) refuse the WebSocket upgrade, or let it
hang, or kill the upgraded connection at once, while plain HTTP gets through. An `AutoLink` is one
connection of the session that finds out which case it is in without the session knowing:

1. It dials a WebSocket. Once the WebSocket brings its first frame, that is the transport.
2. A WebSocket that ends before bringing a single frame, or brings none within `open_timeout`
   (it does not open, or it opens and stays silent: a proxy that accepts the upgrade and then
   passes nothing), is given up, and the same connection is tried over SSE; whatever the
   session already sent (its `hello`) goes to it. A dial that found nothing listening at the
   server's address (refused: a restart; a link that can tell says `unreachable`) is lost at
   once instead: SSE would go to the same address.
3. That evidence is not enough to remember: in a browser a refused WebSocket looks the same as a
   blocked one, and a server restarting or overloaded may welcome slower than the timeout. So
   once an SSE attempt is welcomed, a `WebSocketProbe` asks whether the WebSocket gets through
   now (also when the memory sent it straight to SSE: the network may have changed). Blocked:
   the server is marked in the `TransportMemory`, and the next connections go straight to SSE
   until the memory runs out; while the SSE connection lasts it is probed again before then, so
   that a long game does not find the memory gone at its next reconnect. It gets through: the
   memory is forgotten, and this SSE connection is ended (1012, as by a restarting server: the
   session resumes at once, every event once) so that the next one is a WebSocket; but only once
   per server every two minutes (`SWITCH_BACK_GUARD_S`): a WebSocket that a probe gets through
   and a real connection does not must not send clients round for ever.
4. A probe outlives a connection lost meanwhile: its answer is about the network. But after a
   loss without an answer (the server died), a probe that failed fast is not believed: in a
   browser a WebSocket to a dead server fails the same way as a blocked one; only one that
   stayed silent for the whole timeout is.

If every attempt fails, the connection is lost as it would be with one transport, and the
session backs off and dials again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from rejoin.link import Link, LinkFactory, LinkListener
from rejoin.transport_memory import REMEMBERED, SSE_REMEMBERED_S, TransportMemory
from rejoin.ws_probe import WebSocketProbe
from rejoin_protocol.errors import CLOSE_NORMAL, CLOSE_SERVER_RESTARTING

log = logging.getLogger(__name__)

__all__ = ["REMEMBERED", "SSE_REMEMBERED_S", "WS_OPEN_TIMEOUT_S", "AutoLink", "TransportMemory"]

WS_OPEN_TIMEOUT_S = 4.0
"""A WebSocket that has brought no frame by then is given up for SSE (a server that is up opens
one and answers its `hello` in milliseconds; one that is down refuses at once)."""
BACK_TO_WEBSOCKET = "the WebSocket gets through again: resuming over it"
REPROBE_AT = 0.9
"""While on SSE, the WebSocket is probed again once this share of the memory's time has gone."""
_WELCOME = '{"type":"welcome"'
"""How a welcome frame of the SSE link begins (`rejoin_protocol.messages.encode`: compact)."""
# Probes that outlived their connection, kept referenced until they answer.
_DETACHED: set[asyncio.Future[None]] = set()


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
        self._ended = False  # lost (and reported) or closed: done once every link has ended
        self._attempts: list[str] = []
        self._inner: Link | None = None
        self._inner_open = False
        self._links: set[asyncio.Future[None]] = set()  # the tasks of every link started
        self._timer: asyncio.TimerHandle | None = None
        self._probe: WebSocketProbe | None = None
        self._reprobe: asyncio.TimerHandle | None = None
        self._lost_unanswered = False  # lost with no answer from the server (it died?)
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
        if self._inner is not None:
            self._inner.close(code, reason)
            self._inner = None
        if self._probe is not None:  # the application is done: no answer wanted
            self._probe.cancel()
            self._probe = None
        self._finish()

    # --- attempts ----------------------------------------------------------------------------

    def _try(self, transport: str) -> None:
        self._attempts.append(transport)
        self._inner_open = False
        attempt = _Attempt(self, len(self._attempts))
        self._inner = self._factories[transport](self._url, self.connection, attempt)
        self._track(self._inner.task)
        if transport == "websocket":
            self._timer = self._loop.call_later(self._open_timeout, self._timed_out)

    def _fallback(self) -> bool:
        """After the current attempt failed before its first frame: whether to try SSE (else the
        connection is lost). Not after SSE, and not when nothing listens at the server's address
        (a restart): SSE goes to the same address."""
        if self._attempts[-1] == "sse":
            return False
        return not getattr(self._inner, "unreachable", False)

    def _timed_out(self) -> None:
        """The WebSocket brought no frame in time (not open, or open and silent), and did not
        fail: abandoned (what it still reports no longer counts), and SSE is tried."""
        self._timer = None
        if self._settled or self._ended or self._inner is None:
            return
        self._inner.close(CLOSE_NORMAL, "the WebSocket brought nothing: trying SSE")
        self._try("sse")

    # --- what an attempt reports -------------------------------------------------------------

    def attempt_opened(self, number: int) -> None:
        if not self._current(number):
            return
        self._inner_open = True  # a WebSocket's timer runs on until its first frame (step 2)
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
            # Welcomed over SSE (a refusal says nothing about the WebSocket): ask (step 3).
            if self._attempts[-1] == "sse" and str(frame).startswith(_WELCOME):
                self._start_probe()
        self._listener.link_frame(self.connection, frame)

    def attempt_lost(self, number: int, code: int | None, reason: str) -> None:
        if not self._current(number):
            return
        self._cancel_timer()
        fallback = not self._settled and self._fallback()
        log.info(
            "connection %d: %s attempt lost (%s %s)%s",
            self.connection,
            self._attempts[-1],
            code,
            reason,
            "; trying SSE" if fallback else "",
        )
        if fallback:
            self._try("sse")
            return
        self._inner = None
        self._lost_unanswered = code is None
        self._finish()
        self._listener.link_lost(self.connection, code, reason)

    # --- the probe (step 3) ------------------------------------------------------------------

    def _start_probe(self) -> None:
        self._reprobe = None
        self._probe = WebSocketProbe(
            self._url, self._factories["websocket"], self._probed, timeout=self._open_timeout
        )
        self._track(self._probe.task)

    def _probed(self, through: bool | None, timed_out: bool) -> None:
        """The probe's answer (None: none, see `WebSocketProbe`)."""
        self._probe = None
        if through is None:
            return
        if not through:
            if self._ended and self._lost_unanswered and not timed_out:
                return  # step 4: the server died meanwhile, and that looks the same
            log.info("%s: the WebSocket is blocked on the way; SSE it is", self._server)
            self._memory.websocket_blocked(self._server)
            if not self._ended:
                wait = self._memory.remember_for * REPROBE_AT
                self._reprobe = self._loop.call_later(wait, self._start_probe)
            return
        self._memory.forget(self._server)
        if self._ended or self._inner is None:
            return
        if not self._memory.may_switch_back(self._server):
            log.info(
                "connection %d: the WebSocket answers a probe, but a client went back to it "
                "lately: staying on SSE",
                self.connection,
            )
            return
        log.info("connection %d: %s", self.connection, BACK_TO_WEBSOCKET)
        self._inner.close(CLOSE_NORMAL, BACK_TO_WEBSOCKET)
        self._inner = None
        self._finish()
        self._listener.link_lost(self.connection, CLOSE_SERVER_RESTARTING, BACK_TO_WEBSOCKET)

    # --- plumbing ----------------------------------------------------------------------------

    def _current(self, number: int) -> bool:
        return number == len(self._attempts) and not self._ended

    def _track(self, task: asyncio.Future[None]) -> None:
        self._links.add(task)
        task.add_done_callback(self._link_ended)

    def _link_ended(self, task: asyncio.Future[None]) -> None:
        self._links.discard(task)
        self._maybe_done()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finish(self) -> None:
        """Lost (and reported) or closed: no attempt counts any more, and `task` is done once
        every attempt's link has ended. A probe still running goes on to its answer (within the
        open timeout: step 4), detached: the client closing must not wait for it."""
        self._ended = True
        self._cancel_timer()
        if self._reprobe is not None:
            self._reprobe.cancel()
            self._reprobe = None
        if self._probe is not None:
            task = self._probe.task
            self._links.discard(task)
            _DETACHED.add(task)
            task.add_done_callback(_DETACHED.discard)
        self._maybe_done()

    def _maybe_done(self) -> None:
        if self._ended and not self._links and not self.task.done():
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
