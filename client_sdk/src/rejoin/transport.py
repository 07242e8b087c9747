"""What `GameClient` needs from a transport, and which one it gets where it runs.

A link is one WebSocket connection that reports to a `LinkListener` (the client) and owns no
decisions. Under CPython it is `ws_link.WebSocketLink` (the `websockets` library); under Pyodide
it is `browser.link.BrowserWebSocketLink` (the browser's own `WebSocket`). Both are imported only
when chosen, so that neither's dependencies are needed where the other runs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Final, Protocol

__all__ = ["IN_BROWSER", "Link", "LinkFactory", "LinkListener", "default_link_factory"]

IN_BROWSER: Final = sys.platform == "emscripten"
"""True under Pyodide (in a browser page or on Node.js)."""


class LinkListener(Protocol):
    def link_opened(self, connection: int) -> None: ...

    def link_frame(self, connection: int, frame: str | bytes) -> None: ...

    def link_lost(self, connection: int, code: int | None, reason: str) -> None: ...


class Link(Protocol):
    """Connection number `connection` of a session, dialling from the moment it is created."""

    @property
    def connection(self) -> int: ...

    @property
    def task(self) -> asyncio.Future[None]:
        """Done when the link has ended and reported `link_lost` (or was abandoned by `close`)."""
        ...

    def send(self, text: str) -> None:
        """Queue a text frame; frames go out in the order they were queued."""

    def close(self, code: int, reason: str) -> None:
        """Close after what is already queued; a dial still in progress is abandoned."""


LinkFactory = Callable[[str, int, LinkListener], Link]
"""`factory(url, connection, listener)` starts a link."""


def default_link_factory() -> LinkFactory:
    if IN_BROWSER:
        # Lazy platform switch: the browser link imports this module (LinkListener) back.
        from rejoin.browser.link import BrowserWebSocketLink

        return BrowserWebSocketLink
    # Lazy platform switch: ws_link imports this module (LinkListener) back, and `websockets`.
    from rejoin.ws_link import WebSocketLink

    return WebSocketLink
