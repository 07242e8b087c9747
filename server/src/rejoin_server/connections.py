"""The server's HTTP connections: how many may be open at once, and how long a request may take to
arrive. `BoundedH11Protocol` is uvicorn's h11 protocol with the two bounds uvicorn lacks (issue 12:
1,100 sockets that never finished their headers held 1,024 file descriptors for good).

- **A cap on open connections**, HTTP and WebSocket alike (uvicorn keeps both in
  `server_state.connections`). The connection past it is answered `503` with `Connection: close`
  in `connection_made`, and closed without reading a request, so it holds its descriptor for a
  turn or two of the event loop only. Players already connected (their WebSockets, their keep-alive
  HTTP connections) play on while new connections are turned away. uvicorn's `limit_concurrency`
  does not do this: it answers 503 only once a request's headers are in (a stalled socket is never
  refused), and it compares the count of *all* connections at each request, so stalled sockets
  filling the cap would have it refuse the seated players' own requests.
- **A deadline to read each request**, counted from the request's start, not from its last byte
  (a byte a second cannot keep it alive). Its headers must be in within `header_timeout_s` of the
  connection opening (the first request) or of the request's first byte (later requests on a
  keep-alive connection, which idles until then under uvicorn's `timeout_keep_alive`); its body
  within `body_timeout_s` of its headers. A request fully read is the app's to answer, however
  long that takes; a WebSocket upgrade ends the deadline too (the WebSocket protocol takes the
  transport over, and the channel has its own heartbeat).

A connection that misses its deadline is closed without an answer, as nginx does: a client that
sends nothing complete reads nothing either.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, cast

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

log = logging.getLogger(__name__)

# How long a refused client should wait before it dials again.
RETRY_AFTER_S = 5
_REFUSAL_TEXT = b"The server has too many connections open; try again in a few seconds.\n"
# Written as bytes, not through h11: nothing has been read, so h11 has no request to answer.
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\n"
    b"Retry-After: %d\r\n"
    b"Connection: close\r\n"
    b"\r\n"
    b"%s"
) % (len(_REFUSAL_TEXT), RETRY_AFTER_S, _REFUSAL_TEXT)

Part = Literal["headers", "body"]


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_connections: int
    header_timeout_s: float
    body_timeout_s: float


class BoundedH11Protocol(H11Protocol):
    """One HTTP connection, refused past the cap, closed when a request is not read in time."""

    limits: ClassVar[ConnectionLimits]

    @classmethod
    def with_limits(cls, limits: ConnectionLimits) -> type[BoundedH11Protocol]:
        """The class to give uvicorn (`Config(http=...)`). uvicorn makes each connection's
        protocol with arguments of its own, so the limits ride on a class made for them."""
        made = type(cls.__name__, (cls,), {"limits": limits})
        return cast(type[BoundedH11Protocol], made)

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._refused = False
        self._upgraded = False
        self._reading: Part | None = None  # what the deadline is waiting for, None: no deadline
        self._read_deadline: asyncio.TimerHandle | None = None  # closes a request too slow to come
        self._refusal_close: asyncio.TimerHandle | None = None  # closes a refused connection

    # The cap.

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        full = len(self.connections) >= self.limits.max_connections
        # uvicorn's own set-up either way (transport, flow control, addresses), so that every
        # other method copes with a refused connection as with any closed one.
        super().connection_made(transport)
        if full:
            self.connections.discard(self)
            self._refused = True
            transport.write(REFUSAL)
            # Closed at the next turn of the loop, once what the client has sent is read (a
            # timer runs after that turn's reads): closing with unread bytes has the kernel send
            # a reset, which can reach the client before the 503 and hide it.
            self._refusal_close = self.loop.call_later(0, transport.close)
            log.warning(
                "refused a connection from %s: %d connections are open, the most allowed "
                "(--max-connections, or fewer under the open-file limit)",
                _address(self.client),
                len(self.connections),
            )
            return
        self._read("headers")

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self.transport.close()  # what it sent is read, and dropped: close now
            return
        if self._reading is None and self.conn.their_state is h11.IDLE:
            # The first byte of a request on a keep-alive connection: its headers are timed
            # from here (until now uvicorn's keep-alive timeout applied, which this byte stops).
            self._read("headers")
        super().data_received(data)

    # The deadline follows h11's view of the request after every batch of events.

    def handle_events(self) -> None:
        super().handle_events()
        if self._upgraded:
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self._reading != "body":
                self._read("body")
        elif not (state is h11.IDLE and self._reading == "headers"):
            # Read (DONE), or done with (closing, closed, a 400 sent), or an answer sent early
            # whose body uvicorn has drained (IDLE again): nothing left to wait for.
            self._stop_reading()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._stop_reading()
        self._upgraded = True
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_reading()
        if self._refusal_close is not None:
            self._refusal_close.cancel()
            self._refusal_close = None
        super().connection_lost(exc)

    def _read(self, part: Part) -> None:
        self._stop_reading()
        limits = self.limits
        timeout = limits.header_timeout_s if part == "headers" else limits.body_timeout_s
        self._reading = part
        self._read_deadline = self.loop.call_later(timeout, self._too_slow, part, timeout)

    def _stop_reading(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
        self._read_deadline = None
        self._reading = None

    def _too_slow(self, part: Part, timeout: float) -> None:
        self._read_deadline = None
        self._reading = None
        if self.transport.is_closing():
            return
        log.info(
            "closed the connection of %s: its request %s did not arrive within %g s",
            _address(self.client),
            part,
            timeout,
        )
        # connection_lost follows: uvicorn ends the request's cycle (a handler waiting for the
        # body sees the client gone) and h11's state.
        self.transport.close()


def _address(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "an unknown address"
