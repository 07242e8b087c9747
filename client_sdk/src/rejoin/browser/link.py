"""One WebSocket connection over the browser's own `WebSocket`, for `GameClient` under Pyodide.

The counterpart of `ws_link.WebSocketLink`: it reports opened, each frame and how it ended to its
listener and decides nothing. The browser's callbacks are `create_proxy` wrappers, destroyed when
the socket has closed so that no Python object outlives its connection in the JS heap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final

from js import WebSocket  # type: ignore[import-not-found]  # Pyodide only
from pyodide.ffi import JsException, create_proxy  # type: ignore[import-not-found]

from rejoin.link import LinkListener
from rejoin_protocol.errors import CLOSE_NORMAL

__all__ = ["BrowserWebSocketLink"]

log = logging.getLogger(__name__)

_OPEN: Final = 1  # WebSocket.readyState


def browser_close_code(code: int) -> int:
    """A browser's `close()` takes only 1000 and 3000-4999 (others throw): anything else is 1000."""
    return code if code == CLOSE_NORMAL or 3000 <= code <= 4999 else CLOSE_NORMAL


class BrowserWebSocketLink:
    """Connection number `connection` of a session, dialling from creation."""

    transport: Final = "websocket"

    def __init__(self, url: str, connection: int, listener: LinkListener) -> None:
        self.connection: Final = connection
        self._listener = listener
        self.task: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._proxies: list[Any] = []
        self._ended = False
        self._socket: Any = None
        try:
            self._socket = WebSocket.new(url)
        except JsException as exc:  # a malformed URL throws at once
            self._end(None, f"WebSocket: {exc}")
            return
        for name, handler in (
            ("open", self._on_open),
            ("message", self._on_message),
            ("close", self._on_close),
        ):
            proxy = create_proxy(handler)
            self._proxies.append(proxy)
            self._socket.addEventListener(name, proxy)

    def send(self, text: str) -> None:
        if self._socket is not None and self._socket.readyState == _OPEN:
            self._socket.send(text)

    def close(self, code: int, reason: str) -> None:
        if self._socket is not None and not self._ended:
            # The browser sends what was queued before the close frame. It throws on a reason
            # over 123 UTF-8 bytes; a close that fails must not stop the session's outputs.
            short = reason.encode()[:123].decode(errors="ignore")
            try:
                self._socket.close(browser_close_code(code), short)
            except JsException:
                log.exception("closing the WebSocket failed")

    def _on_open(self, _event: Any) -> None:
        self._guard(lambda: self._listener.link_opened(self.connection))

    def _on_message(self, event: Any) -> None:
        data = event.data
        if isinstance(data, str):
            self._guard(lambda: self._listener.link_frame(self.connection, data))

    def _on_close(self, event: Any) -> None:
        # A refused or dropped connection is 1006 without a reason (the browser hides why).
        code, reason = int(event.code), str(event.reason or "")
        self._guard(lambda: self._end(code, reason))

    def _end(self, code: int | None, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        try:
            self._listener.link_lost(self.connection, code, reason)
        finally:
            # Destroyed on the next turn: `_on_close` is one of them and is still running.
            asyncio.get_running_loop().call_soon(self._destroy_proxies)
            if not self.task.done():
                self.task.set_result(None)

    def _destroy_proxies(self) -> None:
        for proxy in self._proxies:
            proxy.destroy()
        self._proxies.clear()

    def _guard(self, call: Callable[[], None]) -> None:
        # An exception must not vanish into the browser's event loop unseen.
        try:
            call()
        except Exception:
            log.exception("the session failed on a WebSocket callback")
