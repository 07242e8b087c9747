"""Which link a `GameClient` gets where it runs, and the links it holds open.

Under CPython a link is `ws_link.WebSocketLink` (the `websockets` library); under Pyodide it is
`browser.link.BrowserWebSocketLink` (the browser's own `WebSocket`). Both are imported only when
chosen, so that neither's dependencies are needed where the other runs. What a link is (`Link`,
`LinkListener`, `LinkFactory`) lives in `rejoin.link`, imported by both, and is re-exported here.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Final

from rejoin.link import Link, LinkFactory, LinkListener
from rejoin.urls import game_ws_url  # where it was before `urls`: kept importable from here

__all__ = [
    "IN_BROWSER",
    "Link",
    "LinkFactory",
    "LinkListener",
    "Links",
    "default_link_factory",
    "game_ws_url",
]

log = logging.getLogger(__name__)

IN_BROWSER: Final = sys.platform == "emscripten"
"""True under Pyodide (in a browser page or on Node.js)."""


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

    def __init__(self, factory: LinkFactory | None) -> None:
        self._factory = factory  # chosen at the first dial when None
        self._open: dict[int, Link] = {}
        self._running: set[asyncio.Future[None]] = set()

    def dial(self, url: str, connection: int, listener: LinkListener) -> None:
        if self._factory is None:
            self._factory = default_link_factory()
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
            log.error("WebSocket link failed", exc_info=error)
