"""What every SSE link does whatever its HTTP client: run an `SseBridge` and carry out its outputs.

A link subclass supplies the two kinds of I/O (`_call`: one request and its JSON answer;
`_read_stream`: the event stream, fed to the bridge as it arrives); this class turns the bridge's
outputs into those calls, into frames for the listener, and into the one `link_lost`. Like the
WebSocket links it decides nothing: the session's timers cover a request or a stream that hangs.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any, Final

from rejoin.link import LinkListener
from rejoin.sse.bridge import Deliver, HttpCall, Lost, OpenStream, SseBridge
from rejoin.urls import game_of_ws_url

__all__ = ["NoAnswer", "SseLinkBase"]

log = logging.getLogger(__name__)


class NoAnswer(Exception):
    """A request got no answer (refused, reset, timed out, the page went offline)."""


class SseLinkBase(ABC):
    """Connection number `connection` of a session over SSE and HTTP; `url` is the game's
    WebSocket URL, which names the server and the game (`urls.game_ws_url`)."""

    transport: Final = "sse"

    def __init__(self, url: str, connection: int, listener: LinkListener) -> None:
        self.connection: Final = connection
        self._listener = listener
        game_url, game_id = game_of_ws_url(url)
        self._bridge = SseBridge(game_url, game_id)
        self._loop = asyncio.get_running_loop()
        self._running: dict[asyncio.Task[None], str] = {}  # each task, and what it does
        self._pumping = False
        self._ended = False
        self._releasing: asyncio.Task[None] | None = None
        self.task: asyncio.Future[None] = self._loop.create_future()
        # There is no handshake before `hello`: the link is open at once (on the next turn, so
        # that the session hears it after the dial that created it, as from a WebSocket).
        self._loop.call_soon(self._opened)

    # --- the Link protocol -------------------------------------------------------------------

    def send(self, text: str) -> None:
        self._bridge.client_frame(text)
        self._pump()

    def close(self, code: int, reason: str) -> None:
        """The session let go of this connection: stop every request (nothing is reported)."""
        self._bridge.close()
        self._finish()

    # --- the I/O a subclass supplies ---------------------------------------------------------

    @abstractmethod
    async def _call(self, call: HttpCall) -> tuple[int, Any, str | None]:
        """`call`'s status, JSON body (None if not JSON) and `X-Rejoin-Node`; NoAnswer if none."""

    @abstractmethod
    async def _read_stream(self, stream: OpenStream) -> None:
        """Open `stream`, tell `self._bridge.stream_opened` its status, feed `stream_text` what
        arrives and call `self._pump()` after each piece; return when it ends (NoAnswer if it
        could not be opened). Cancelled when the link closes."""

    @abstractmethod
    async def _release(self) -> None:
        """Free what the subclass holds (its HTTP client), once, after every request ended."""

    # --- carrying out the bridge's outputs ----------------------------------------------------

    def _opened(self) -> None:
        if not self._ended:
            self._guard(lambda: self._listener.link_opened(self.connection))

    def _pump(self) -> None:
        # Not re-entered: a frame delivered to the listener may make the session send, which
        # lands here again; the loop below picks those outputs up in order instead.
        if self._pumping:
            return
        self._pumping = True
        try:
            while outputs := self._bridge.outputs():
                for output in outputs:
                    if self._ended:
                        return
                    self._carry_out(output)
        finally:
            self._pumping = False

    def _carry_out(self, output: Deliver | HttpCall | OpenStream | Lost) -> None:
        match output:
            case Deliver(frame=frame):
                self._guard(lambda: self._listener.link_frame(self.connection, frame))
            case HttpCall():
                what = f"action {output.action_id}" if output.kind == "action" else "the reconnect"
                self._spawn(self._request(output), what)
            case OpenStream():
                self._spawn(self._stream(output), "the event stream")
            case Lost(code=code, reason=reason):
                self._finish()
                self._guard(lambda: self._listener.link_lost(self.connection, code, reason))

    async def _request(self, call: HttpCall) -> None:
        try:
            status, body, node = await self._call(call)
        except NoAnswer as exc:
            self._bridge.call_failed(call, str(exc))
        else:
            self._bridge.answered(call, status, body, node)
        self._pump()

    async def _stream(self, stream: OpenStream) -> None:
        try:
            await self._read_stream(stream)
        except NoAnswer as exc:
            self._bridge.stream_ended(str(exc))
        else:
            self._bridge.stream_ended()
        self._pump()

    def _spawn(self, work: Any, what: str) -> None:
        task = self._loop.create_task(work, name=f"rejoin-sse-{self.connection}")
        self._running[task] = what
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        what = self._running.pop(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Not the network (that is NoAnswer, handled in the task): a bug, said as one.
            log.error("SSE link %d: %s failed", self.connection, what, exc_info=error)
            self._bridge.failed(f"{what} failed: {type(error).__name__}: {error}")
            self._pump()
        if self._ended and not self._running and not self.task.done():
            self._release_soon()

    def _release_soon(self) -> None:
        if self._releasing is None:  # kept: the loop holds only a weak reference to a task
            self._releasing = self._loop.create_task(self._released())

    async def _released(self) -> None:
        try:
            await self._release()
        finally:
            if not self.task.done():
                self.task.set_result(None)

    def _finish(self) -> None:
        if self._ended:
            return
        self._ended = True
        # Every request and the stream stop, the task that got here included: a loss found
        # while reading the stream (the server's `close` event, a message that is not one)
        # must not leave it read for ever, holding `task` open and the client's close waiting.
        # Cancelled, it stops at its next await; what it does before is ignored by the bridge.
        for task in self._running:
            task.cancel()
        if not self._running:
            self._release_soon()

    def _guard(self, call: Any) -> None:
        # An exception in the session must not vanish into a task nobody awaits.
        try:
            call()
        except Exception:
            log.exception("the session failed on an SSE link callback")
