"""The SSE transport under Pyodide: `SseLinkBase` over the browser's own `fetch`.

The stream is read with `fetch` and a stream reader rather than an `EventSource`, for two reasons:
an `EventSource` cannot send the `Authorization` header, so its session token would sit in the
URL (and in every access log on the way), and the server pushes renewed tokens only to streams
that were opened with the header; and an `EventSource` reconnects by itself, while the session
must be the one that decides when and how to resume. Each request and the stream have their own
`AbortController`, aborted when the link closes.
"""

from __future__ import annotations

import json
from typing import Any

from js import (  # type: ignore[import-not-found]  # Pyodide only
    AbortController,
    AbortSignal,
    Object,
    TextDecoder,
    fetch,
)
from pyodide.ffi import JsException, to_js  # type: ignore[import-not-found]

from rejoin.link import LinkListener
from rejoin.sse.bridge import HttpCall, OpenStream
from rejoin.sse.driver import NoAnswer, SseLinkBase

__all__ = ["BrowserSseLink"]

REQUEST_TIMEOUT_MS = 10_000


class BrowserSseLink(SseLinkBase):
    def __init__(self, url: str, connection: int, listener: LinkListener) -> None:
        self._aborts: list[Any] = []
        super().__init__(url, connection, listener)

    async def _call(self, call: HttpCall) -> tuple[int, Any, str | None]:
        headers = {"Content-Type": "application/json"}
        if call.bearer is not None:
            headers["Authorization"] = f"Bearer {call.bearer}"
        options: dict[str, Any] = {"method": call.method, "headers": headers, "cache": "no-store"}
        if call.body is not None:
            options["body"] = json.dumps(call.body)
        try:
            reply = await self._fetch(call.url, options, timeout_ms=REQUEST_TIMEOUT_MS)
            text = str(await reply.text())
        except JsException as exc:
            raise NoAnswer(f"{call.method} {call.url}: {exc}") from exc
        return int(reply.status), _json(text), _header(reply, "x-rejoin-node")

    async def _read_stream(self, stream: OpenStream) -> None:
        headers = {"Authorization": f"Bearer {stream.bearer}", "Accept": "text/event-stream"}
        try:
            reply = await self._fetch(
                stream.url, {"method": "GET", "headers": headers, "cache": "no-store"}
            )
            if int(reply.status) != 200:
                self._bridge.stream_opened(int(reply.status), _json(str(await reply.text())))
                self._pump()
                return
            self._bridge.stream_opened(200, None)
            reader = reply.body.getReader()
            decoder = TextDecoder.new()
            while True:
                chunk = await reader.read()
                if chunk.done:
                    break
                self._bridge.stream_text(str(decoder.decode(chunk.value, _STREAMING)))
                self._pump()
        except JsException as exc:
            raise NoAnswer(f"the event stream: {exc}") from exc

    async def _release(self) -> None:
        for controller in self._aborts:
            controller.abort()
        self._aborts.clear()

    def close(self, code: int, reason: str) -> None:
        # Abort at once: a request or stream the session let go of must not hold the socket.
        for controller in self._aborts:
            controller.abort()
        super().close(code, reason)

    async def _fetch(self, url: str, options: dict[str, Any], timeout_ms: int = 0) -> Any:
        controller = AbortController.new()
        self._aborts.append(controller)
        signal = controller.signal
        if timeout_ms:
            signal = AbortSignal.any(to_js([signal, AbortSignal.timeout(timeout_ms)]))
        js_options = to_js({**options, "signal": signal}, dict_converter=Object.fromEntries)
        return await fetch(url, js_options)


_STREAMING = to_js({"stream": True}, dict_converter=Object.fromEntries)


def _header(reply: Any, name: str) -> str | None:
    value = reply.headers.get(name)
    return None if value is None else str(value)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
