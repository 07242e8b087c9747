"""A WebSocket client for the in-process app of the WebSocket tests.

It speaks ASGI straight to `app(scope, receive, send)` on the test's own event loop: no thread, no
network. Unlike `TestClient.websocket_connect` (whose `receive` blocks its thread with no bound), a
test can hold several sockets open at once, wait on each with a bound, and read the exact close
code and reason the server chose. Every frame the server sends is checked with
`rejoin_protocol.messages.decode_server`, so a malformed frame fails the test that received it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from starlette.applications import Starlette

from rejoin_protocol.messages import decode_server

from .support import Player

# A bound on every wait for the server, never a measure of it: on a loaded CI machine an in-process
# round trip may take a while, but a frame that has not come after this is not coming.
WAIT_S = 10.0


class ClientGone(OSError):
    """What a send to a socket the client has left raises (ASGI: an OSError subclass)."""


class Closed(Exception):
    """The server closed the socket (raised by `receive` when the next thing is the close)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class WsClient:
    """One WebSocket connection to the app, opened by `open`."""

    def __init__(self, app: Starlette, path: str) -> None:
        self._app = app
        self._path = path
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._gone = False  # the client hung up
        self.close: Closed | None = None  # the server's close, once it has been read

    # --- the app's side of ASGI ------------------------------------------------------------------

    async def _receive(self) -> dict[str, Any]:
        return await self._to_app.get()

    async def _send(self, message: dict[str, Any]) -> None:
        if self._gone:
            raise ClientGone("the client has hung up")
        self._from_app.put_nowait(message)
        if message["type"] == "websocket.close":
            # The closing handshake completes at once: a receive still pending in the app ends.
            self._to_app.put_nowait({"type": "websocket.disconnect", "code": message["code"]})

    # --- the test's side -------------------------------------------------------------------------

    async def open(self) -> None:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": self._path,
            "raw_path": self._path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")],
            "client": ("testclient", 50000),
            "server": ("testserver", 80),
            "subprotocols": [],
        }
        self._to_app.put_nowait({"type": "websocket.connect"})
        self._task = asyncio.get_running_loop().create_task(
            self._app(scope, self._receive, self._send)  # type: ignore[arg-type]
        )
        accepted = await self._next_message(WAIT_S)
        assert accepted["type"] == "websocket.accept", accepted

    async def send_json(self, value: Mapping[str, Any]) -> None:
        await self.send_text(json.dumps(value))

    async def send_text(self, text: str) -> None:
        assert not self._gone, "this client has hung up"
        self._to_app.put_nowait({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        assert not self._gone, "this client has hung up"
        self._to_app.put_nowait({"type": "websocket.receive", "bytes": data})

    async def _next_message(self, timeout_s: float) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(self._from_app.get(), timeout_s)
        except TimeoutError:
            raise AssertionError(
                f"nothing from the server on {self._path} within {timeout_s} s"
            ) from None

    async def receive(
        self, timeout_s: float = WAIT_S, *, skip: tuple[str, ...] = ("ping",)
    ) -> dict[str, Any]:
        """The next frame whose type is not in `skip` (by default the server's heartbeat `ping`,
        which a test that is not about the heartbeat does not care for). Raises `Closed` when the
        server closes first."""
        if self.close is not None:
            raise self.close
        while True:
            message = await self._next_message(timeout_s)
            if message["type"] == "websocket.close":
                self.close = Closed(message["code"], message.get("reason") or "")
                raise self.close
            assert message["type"] == "websocket.send", message
            text = message.get("text")
            assert isinstance(text, str), f"the server sent a binary frame: {message}"
            decode_server(text)  # raises on a frame that is not a well-formed server message
            frame: dict[str, Any] = json.loads(text)
            if frame["type"] not in skip:
                return frame

    async def until(
        self, type_: str, timeout_s: float = WAIT_S, *, skip: tuple[str, ...] = ("ping",)
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Read until a frame of `type_`: the frames before it (not skipped ones) and it.
        `timeout_s` bounds the whole wait, not each frame: a heartbeat must not keep it going."""
        before: list[dict[str, Any]] = []
        async with _bounded(self._path, type_, timeout_s):
            while True:
                frame = await self.receive(timeout_s, skip=skip)
                if frame["type"] == type_:
                    return before, frame
                before.append(frame)

    async def closed(
        self, timeout_s: float = WAIT_S, *, skip: tuple[str, ...] = ("ping",)
    ) -> tuple[list[dict[str, Any]], Closed]:
        """Read until the server closes: the frames before the close (not skipped ones), and it.
        `timeout_s` bounds the whole wait, as in `until`."""
        before: list[dict[str, Any]] = []
        async with _bounded(self._path, "close", timeout_s):
            while True:
                try:
                    before.append(await self.receive(timeout_s, skip=skip))
                except Closed as close:
                    await self._finished(timeout_s)
                    return before, close

    async def roundtrip(self, t: float = 7) -> list[dict[str, Any]]:
        """Send `ping {t}` and read until its `pong`: the connection is open and serving. Returns
        the frames that came before the pong."""
        await self.send_json({"type": "ping", "t": t})
        before, pong = await self.until("pong")
        assert pong == {"type": "pong", "t": t}
        return before

    async def hang_up(self, code: int = 1000) -> None:
        """The client leaves; returns once the app has finished with the socket."""
        if not self._gone:
            self._gone = True
            self._to_app.put_nowait({"type": "websocket.disconnect", "code": code})
        await self._finished(WAIT_S)

    async def _finished(self, timeout_s: float) -> None:
        assert self._task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        except TimeoutError:
            raise AssertionError(
                f"the app did not let go of {self._path} within {timeout_s} s"
            ) from None


@asynccontextmanager
async def _bounded(path: str, what: str, timeout_s: float) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(timeout_s):
            yield
    except TimeoutError:
        raise AssertionError(f"no {what} frame on {path} within {timeout_s} s") from None


def resumed(player: Player, welcome: Mapping[str, Any]) -> Player:
    """`player` as a `welcome` left them: its hello won the seat anew, so their older session
    token no longer works (issue 12) and their tokens are the welcome's."""
    return replace(player, session=welcome["sessionToken"], reconnect=welcome["token"]["token"])


def ws_path(game_id: str) -> str:
    return f"/api/game/{game_id}/ws"


def hello_frame(
    player: Player,
    token: str | None = None,
    *,
    client_id: str | None = None,
    last_seq: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "hello",
        "playerId": player.player_id,
        "token": token or player.reconnect,
        "clientId": client_id or uuid.uuid4().hex,
        "protocol": 1,
    }
    if last_seq is not None:
        frame["lastSeq"] = last_seq
    frame.update(extra)
    return frame


class Sockets:
    """The sockets a test opened; every one still open is hung up at the end of the test, before
    the app's lifespan ends."""

    def __init__(self, app: Starlette) -> None:
        self._app = app
        self._open: list[WsClient] = []

    async def connect(self, game_id: str) -> WsClient:
        """An accepted socket that has said nothing yet."""
        client = WsClient(self._app, ws_path(game_id))
        await client.open()
        self._open.append(client)
        return client

    async def refused(
        self, game_id: str, hello: Mapping[str, Any] | None
    ) -> tuple[Closed, dict[str, Any]]:
        """Send `hello` (or nothing, when None) and expect one `error` then the close."""
        client = await self.connect(game_id)
        if hello is not None:
            await client.send_json(hello)
        frames, close = await client.closed()
        assert len(frames) == 1, frames
        error = frames[0]
        assert error["type"] == "error", error
        assert isinstance(error["message"], str)
        assert error["message"]
        return close, error

    async def hello(
        self,
        player: Player,
        token: str | None = None,
        *,
        client_id: str | None = None,
        last_seq: int | None = None,
    ) -> tuple[WsClient, dict[str, Any]]:
        """A socket that has said `hello` and been welcomed: it and the welcome."""
        client = await self.connect(player.game_id)
        await client.send_json(hello_frame(player, token, client_id=client_id, last_seq=last_seq))
        welcome = await client.receive()
        assert welcome["type"] == "welcome", welcome
        return client, welcome

    async def close_all(self) -> None:
        for client in self._open:
            await client.hang_up()


@asynccontextmanager
async def sockets(app: Starlette) -> AsyncIterator[Sockets]:
    opened = Sockets(app)
    try:
        yield opened
    finally:
        await opened.close_all()
