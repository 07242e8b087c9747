"""Which link a `GameClient` gets where it runs and for the transport it was given, and the links
it holds open.

`transport="websocket"`: under CPython `ws_link.WebSocketLink` (the `websockets` library), under
Pyodide `browser.link.BrowserWebSocketLink` (the browser's own `WebSocket`). `"sse"`: the game's
events over Server-Sent Events and its requests over HTTP (`sse.link.SseLink` over httpx,
`browser.sse_link.BrowserSseLink` over the browser's `fetch`). `"auto"` (the default): the
WebSocket, and SSE where the WebSocket does not get through (`auto_link`). Each implementation is
imported only when chosen, so that none's dependencies are needed where another runs. What a
link is (`Link`, `LinkListener`, `LinkFactory`) lives in `rejoin.link`, imported by all, and is
re-exported here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from typing import Final, Literal, cast, get_args

from rejoin.link import Link, LinkFactory, LinkListener
from rejoin.urls import game_ws_url  # where it was before `urls`: kept importable from here

__all__ = [
    "IN_BROWSER",
    "TRANSPORTS",
    "Link",
    "LinkFactory",
    "LinkListener",
    "Links",
    "Transport",
    "check_transport",
    "default_link_factory",
    "game_ws_url",
    "link_factory",
]

log = logging.getLogger(__name__)

IN_BROWSER: Final = sys.platform == "emscripten"
"""True under Pyodide (in a browser page or on Node.js)."""


Transport = Literal["auto", "websocket", "sse"]
TRANSPORTS: Final[tuple[str, ...]] = get_args(Transport)


def check_transport(transport: str) -> Transport:
    """`transport` if it is one of TRANSPORTS, else a ValueError that says what to write."""
    if transport in TRANSPORTS:
        return cast(Transport, transport)
    raise ValueError(f"transport={transport!r}: write one of {', '.join(map(repr, TRANSPORTS))}")


def link_factory(transport: str) -> LinkFactory:
    """The links of `transport` where this runs; ValueError for a transport that is none."""
    transport = check_transport(transport)
    if transport == "websocket":
        return default_link_factory()
    if transport == "auto":
        # Lazy: auto_link imports `rejoin.link`, as every link does.
        from rejoin.auto_link import AutoLink

        return functools.partial(AutoLink, websocket=default_link_factory(), sse=sse_link_factory())
    return sse_link_factory()


def sse_link_factory() -> LinkFactory:
    # A platform switch, as below: the browser's `fetch`, or httpx.
    if IN_BROWSER:
        from rejoin.browser.sse_link import BrowserSseLink

        return BrowserSseLink
    from rejoin.sse.link import SseLink

    return SseLink


def default_link_factory() -> LinkFactory:
    # A platform switch: each implementation is imported only where it runs (see above).
    if IN_BROWSER:
        # Lazy platform switch: the browser link imports this module (LinkListener) back.
        from rejoin.browser.link import BrowserWebSocketLink

        return BrowserWebSocketLink
    # Lazy platform switch: ws_link imports this module (LinkListener) back, and `websockets`.
    from rejoin.ws_link import WebSocketLink

    return WebSocketLink


class Links:
    """The links of one client by connection number: dialled, written to and closed as its
    session says, and awaited when the client closes."""

    def __init__(self, factory: LinkFactory | None, transport: str = "websocket") -> None:
        self._factory = factory  # chosen at the first dial when None
        self._transport = transport
        self._open: dict[int, Link] = {}
        self._running: set[asyncio.Future[None]] = set()

    def dial(self, url: str, connection: int, listener: LinkListener) -> None:
        if self._factory is None:
            self._factory = link_factory(self._transport)
        link = self._factory(url, connection, listener)
        self._open[connection] = link
        self._running.add(link.task)
        link.task.add_done_callback(self._ended)

    def send(self, connection: int, text: str) -> None:
        """Send on `connection` if it is still open (a link already lost drops the frame)."""
        if (link := self._open.get(connection)) is not None:
            link.send(text)

    def close(self, connection: int, code: int, reason: str) -> None:
        if (link := self._open.pop(connection, None)) is not None:
            link.close(code, reason)

    def transport_of(self, connection: int) -> str | None:
        """ "websocket" or "sse": what `connection` runs over (None once it has ended, or for a
        link of a test's own that does not say)."""
        link = self._open.get(connection)
        found = getattr(link, "transport", None)
        return found if isinstance(found, str) else None

    def lost(self, connection: int) -> None:
        """`connection` reported its end: nothing is sent on it any more."""
        self._open.pop(connection, None)

    async def wait_ended(self) -> None:
        """Until every link started has ended (a failed one is logged, not raised)."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _ended(self, task: asyncio.Future[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("a link failed", exc_info=error)
