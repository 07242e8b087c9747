"""What a link is: one connection of a `GameClient` (a WebSocket, or SSE and HTTP), reporting to a
`LinkListener` in the WebSocket protocol's frames whatever it runs over.

A link owns no decisions: it dials when created, tells its listener that the transport opened,
each frame and how it ended, sends what it is given in order, and closes when told. The
implementations (`ws_link`, `browser.link`, `sse`, `browser.sse_link`, `auto_link`) and the
client all import these types from here, and `transport` picks an implementation for the
platform and the transport, so that no module imports in a circle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

__all__ = ["Link", "LinkFactory", "LinkListener"]


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
