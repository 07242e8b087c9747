"""`X-Rejoin-Node`: every HTTP answer names the node that gave it.

Behind a proxy that spreads players over several nodes, which node served a request is otherwise
invisible: the header tells a client, a test and an operator reading a proxy's log. Added as the
response starts, so it is on every answer that passes through the app: errors included, a
WebSocket's upgrade, and one refused before its upgrade. A connection the server refuses before
the app sees it (`--max-connections`) and a 500 from a bug do not carry it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Rejoin-Node"
# The messages that start an answer: an HTTP response, a WebSocket's upgrade (101), and a
# WebSocket refused before its upgrade (429).
_STARTS = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})


class NodeHeader:
    """ASGI middleware adding `X-Rejoin-Node: <node>` to every answer's headers."""

    def __init__(self, app: ASGIApp, node: str) -> None:
        self.app = app
        self._header = (HEADER.lower().encode("ascii"), node.encode("ascii"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def named(message: Message) -> None:
            if message["type"] in _STARTS:
                message = {**message, "headers": [*message.get("headers", ()), self._header]}
            await send(message)

        await self.app(scope, receive, named)
