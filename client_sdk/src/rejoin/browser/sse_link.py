"""The SSE transport under Pyodide: `SseLinkBase` over the browser's own `fetch`.

The stream is read with `fetch` and a stream reader rather than an `EventSource`, for two reasons:
an `EventSource` cannot send the `Authorization` header, so its session token would sit in the
URL (and in every access log on the way), and the server pushes renewed tokens only to streams
that were opened with the header; and an `EventSource` reconnects by itself, while the session
must be the one that decides when and how to resume.

Each request and the stream have their own `AbortController`, aborted as soon as what it guards
is over (a finished request: a no-op; a task cancelled mid-way, or a request timed out: the
browser lets go of the socket) and, for those still running, when the link closes. A request's
timeout is Python's (`asyncio.timeout`) rather than `AbortSignal.any`/`AbortSignal.timeout`,
which older browsers lack (Safari before 17.4, Firefox before 124). Nothing here hands a Python
callable to JavaScript, so there is no `create_proxy` to destroy.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Iterator
from typing import Any

from js import (  # type: ignore[import-not-found]  # Pyodide only
    AbortController,
    Object,
    TextDecoder,
    fetch,
)
from pyodide.ffi import JsException, to_js  # type: ignore[import-not-found]

from rejoin.link import LinkListener
from rejoin.sse.bridge import HttpCall, OpenStream
from rejoin.sse.driver import NoAnswer, SseLinkBase

__all__ = ["BrowserSseLink"]

REQUEST_TIMEOUT_S = 10.0


class BrowserSseLink(SseLinkBase):
    def __init__(self, url: str, connection: int, listener: LinkListener) -> None:
        self._aborts: dict[int, Any] = {}  # the AbortControllers of what is still running
        self._numbers = itertools.count()
        super().__init__(url, connection, listener)

    async def _call(self, call: HttpCall) -> tuple[int, Any, str | None]:
        headers = {"Content-Type": "application/json"}
        if call.bearer is not None:
            headers["Authorization"] = f"Bearer {call.bearer}"
        options: dict[str, Any] = {"method": call.method, "headers": headers, "cache": "no-store"}
        if call.body is not None:
            options["body"] = json.dumps(call.body)
        with self._abortable() as signal:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    reply = await fetch(call.url, _js_options(options, signal))
                    text = str(await reply.text())
            except TimeoutError as exc:
                raise NoAnswer(
                    f"{call.method} {call.url}: no answer in {REQUEST_TIMEOUT_S:g} s"
                ) from exc
            except JsException as exc:  # refused, reset, offline
                raise NoAnswer(f"{call.method} {call.url}: {exc}") from exc
            return int(reply.status), _json(text), _header(reply, "x-rejoin-node")

    async def _read_stream(self, stream: OpenStream) -> None:
        headers = {"Authorization": f"Bearer {stream.bearer}", "Accept": "text/event-stream"}
        options = {"method": "GET", "headers": headers, "cache": "no-store"}
        # No timeout: the session's silence timer covers a stream that goes quiet.
        with self._abortable() as signal:
            try:
                reply = await fetch(stream.url, _js_options(options, signal))
                if int(reply.status) != 200:
                    self._bridge.stream_opened(int(reply.status), _json(str(await reply.text())))
                    self._pump()
                    return
                self._bridge.stream_opened(200, None)
                self._pump()
                reader = reply.body.getReader()
                # One decoder for the whole stream: a chunk may end inside a UTF-8 character.
                decoder = TextDecoder.new()
                # Until it ends, or the link did (a loss the bridge saw while reading it).
                while not self._ended and not (chunk := await reader.read()).done:
                    self._bridge.stream_text(str(decoder.decode(chunk.value, _STREAMING)))
                    self._pump()
                if tail := str(decoder.decode()):
                    self._bridge.stream_text(tail)
                    self._pump()
            except JsException as exc:  # the connection broke, or the link aborted it
                raise NoAnswer(f"the event stream: {exc}") from exc

    async def _release(self) -> None:
        self._abort_all()

    def close(self, code: int, reason: str) -> None:
        # Abort at once: a request or stream the session let go of must not hold the socket.
        self._abort_all()
        super().close(code, reason)

    @contextlib.contextmanager
    def _abortable(self) -> Iterator[Any]:
        """The signal of a new AbortController, aborted on leaving: also when the task is
        cancelled or timed out, which on its own would leave the browser's fetch running."""
        number = next(self._numbers)
        controller = AbortController.new()
        self._aborts[number] = controller
        try:
            yield controller.signal
        finally:
            del self._aborts[number]
            controller.abort()

    def _abort_all(self) -> None:
        for controller in list(self._aborts.values()):
            controller.abort()


_STREAMING = to_js({"stream": True}, dict_converter=Object.fromEntries)


def _js_options(options: dict[str, Any], signal: Any) -> Any:
    """`fetch`'s init object: plain JS objects (a Python dict would arrive as a Map)."""
    return to_js({**options, "signal": signal}, dict_converter=Object.fromEntries)


def _header(reply: Any, name: str) -> str | None:
    # A missing header is JS null, which arrives as `jsnull` (not None).
    value = reply.headers.get(name)
    return value if isinstance(value, str) else None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
