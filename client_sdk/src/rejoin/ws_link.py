"""One WebSocket connection for the asyncio driver: dial, report, send in order, close.

A `WebSocketLink` owns no decisions. It tells its listener that the transport opened, each
frame, and how it ended; the `ClientSession` decides everything else (timeouts, retries). For
that reason the library's own timers are off: no open timeout and no protocol-level pings, since
the session's silence timer already covers a dial that hangs and a link that goes quiet.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import socket
from typing import Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from rejoin.link import LinkListener

__all__ = ["WebSocketLink"]

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 2**20
"""A welcome replays up to the server's replay limit (1000 events by default) in one frame."""
CLOSE_TIMEOUT_S = 2.0


class _Close:
    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class WebSocketLink:
    """Connection number `connection` of a session, running as its own task from creation."""

    transport: Final = "websocket"

    def __init__(self, url: str, connection: int, listener: LinkListener) -> None:
        self.connection: Final = connection
        self._url = url
        self._listener = listener
        self._outgoing: asyncio.Queue[str | _Close] = asyncio.Queue()
        self._opened = False
        self.unreachable = False
        """The dial found nothing listening (refused, no such host): see `_unreachable`."""
        self.refused_status: int | None = None
        """The HTTP status of an upgrade turned away (403 from a proxy, 429 rate limited…)."""
        self.task = asyncio.create_task(self._run(), name=f"rejoin-link-{connection}")

    def send(self, text: str) -> None:
        """Queue a text frame; frames go out in the order they were queued."""
        self._outgoing.put_nowait(text)

    def close(self, code: int, reason: str) -> None:
        """Close after what is already queued; a dial still in progress is abandoned."""
        if self._opened:
            self._outgoing.put_nowait(_Close(code, reason))
        else:
            self.task.cancel()

    async def _run(self) -> None:
        code: int | None = None
        reason = ""
        try:
            async with connect(
                self._url,
                open_timeout=None,
                ping_interval=None,
                close_timeout=CLOSE_TIMEOUT_S,
                max_size=MAX_FRAME_BYTES,
            ) as ws:
                self._opened = True
                self._listener.link_opened(self.connection)
                await self._pump(ws)
                code, reason = ws.close_code, ws.close_reason or ""
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            self.unreachable = _unreachable(exc)
            if isinstance(exc, InvalidStatus):
                self.refused_status = exc.response.status_code
        self._listener.link_lost(self.connection, code, reason)

    async def _pump(self, ws: ClientConnection) -> None:
        writer = asyncio.create_task(self._write(ws))
        try:
            async for frame in ws:
                self._listener.link_frame(self.connection, frame)
        except ConnectionClosed:
            pass  # the close code and reason are on `ws`
        finally:
            writer.cancel()

    async def _write(self, ws: ClientConnection) -> None:
        try:
            while True:
                item = await self._outgoing.get()
                if isinstance(item, _Close):
                    await ws.close(item.code, item.reason)
                    return
                await ws.send(item)
        except ConnectionClosed:
            pass  # the reader sees the close and reports it


_NOT_LISTENING = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH})


def _unreachable(exc: BaseException) -> bool:
    """Whether the dial failed before anything answered at the server's address: refused (no
    process listens: a server restarting), unreachable, or no such host. Then plain HTTP to the
    same address cannot get through either, and `transport="auto"` does not take it for a
    WebSocket blocked on the way (`auto_link`). asyncio reports a dial to several addresses
    (IPv4 and IPv6) that all failed as one OSError listing them: unreachable if each was."""
    if isinstance(exc, socket.gaierror):
        return True
    if not isinstance(exc, OSError):
        return False
    if exc.errno is not None:
        return exc.errno in _NOT_LISTENING
    found = [int(number) for number in re.findall(r"\[Errno (\d+)\]", str(exc))]
    return bool(found) and all(number in _NOT_LISTENING for number in found)
