"""The SSE transport under CPython: `SseLinkBase` over one httpx client per connection.

One client per connection, closed with it, so that a connection after a server restart never
reuses a pooled socket of the dead process. Requests time out like the SDK's other HTTP calls;
the stream has no read timeout, since the session's silence timer already covers a stream that
goes quiet (the server's heartbeat comments keep a live one talking).
"""

from __future__ import annotations

from typing import Any

import httpx

from rejoin.link import LinkListener
from rejoin.sse.bridge import HttpCall, OpenStream
from rejoin.sse.driver import NoAnswer, SseLinkBase

__all__ = ["SseLink"]

REQUEST_TIMEOUT_S = 10.0


class SseLink(SseLinkBase):
    def __init__(self, url: str, connection: int, listener: LinkListener) -> None:
        # The client after the base, which refuses a URL that names no game: none is left open.
        super().__init__(url, connection, listener)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(REQUEST_TIMEOUT_S), headers={"Cache-Control": "no-store"}
        )

    async def _call(self, call: HttpCall) -> tuple[int, Any, str | None]:
        headers = {} if call.bearer is None else {"Authorization": f"Bearer {call.bearer}"}
        try:
            reply = await self._http.request(call.method, call.url, json=call.body, headers=headers)
        except httpx.TransportError as exc:
            raise NoAnswer(f"{type(exc).__name__}: {exc}") from exc
        return reply.status_code, _json(reply), reply.headers.get("x-rejoin-node")

    async def _read_stream(self, stream: OpenStream) -> None:
        headers = {"Authorization": f"Bearer {stream.bearer}", "Accept": "text/event-stream"}
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, read=None)
        try:
            async with self._http.stream(
                "GET", stream.url, headers=headers, timeout=timeout
            ) as reply:
                if reply.status_code != 200:
                    await reply.aread()
                    self._bridge.stream_opened(reply.status_code, _json(reply))
                    self._pump()
                    return
                self._bridge.stream_opened(200, None)
                async for chunk in reply.aiter_text():
                    self._bridge.stream_text(chunk)
                    self._pump()
        except httpx.TransportError as exc:
            raise NoAnswer(f"{type(exc).__name__}: {exc}") from exc

    async def _release(self) -> None:
        await self._http.aclose()


def _json(reply: httpx.Response) -> Any:
    try:
        return reply.json()
    except ValueError:
        return None
