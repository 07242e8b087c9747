"""`GET /api/game/{gameId}/ws`: the handshake of the live channel (docs/protocol.md).

The first frame must be `hello` (within `HELLO_TIMEOUT_S`). It resumes the seat through
`resume.resume`, the path `POST …/reconnect` takes too, which also subscribes this socket to the
game's events under the lock that reads the welcome: no event can fall between the welcome and the
live stream. Once the token is used, this socket holds the seat and an older one is closed with
4409 `superseded`.

A refusal is an `error` message with its code, then a close with the code's close code at `hello`
(4401 for a bad token, 4404 for an unknown game, …: `ErrorCode.hello_close_code`). The connection
after the welcome is `channel.Channel`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from rejoin_protocol.errors import ErrorCode
from rejoin_protocol.messages import (
    PROTOCOL_VERSION,
    Error,
    Hello,
    Ping,
    ProtocolError,
    TokenInfo,
    Welcome,
    decode_client,
    wire,
)
from rejoin_server.api import bodies
from rejoin_server.api.auth import session_token
from rejoin_server.api.bodies import MAX_CLIENT_ID, MAX_EPOCH, MAX_PLAYER_ID, MAX_TOKEN
from rejoin_server.api.channel import Channel, receive_frame
from rejoin_server.api.context import Services, services
from rejoin_server.api.ratelimit import client_key
from rejoin_server.api.responses import error
from rejoin_server.api.resume import ResumeRequest, resume
from rejoin_server.errors import CodedError, GameNotFound, RateLimited
from rejoin_server.timefmt import iso_ms

log = logging.getLogger(__name__)

# A connection that has not said `hello` by then is closed (4400): it holds a socket for nothing.
HELLO_TIMEOUT_S = 10.0


async def websocket_endpoint(websocket: WebSocket) -> None:
    """`…/ws`: the handshake, then the live `Channel` until either side ends it."""
    svc = services(websocket)
    try:
        svc.limiter.check(
            "connect_address",
            svc.settings.rate_connect_address,
            client_key(websocket),
            "WebSocket connections from your address",
        )
    except RateLimited as exc:
        svc.metrics.reconnects.labels(exc.code.value).inc()
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            # Refused before the upgrade, as a plain HTTP 429: a flood costs no handshake.
            await websocket.send_denial_response(error(exc.code, exc.message, exc.details))
        else:  # a server without the denial extension: say it on the socket (close 1013)
            await websocket.accept()
            await _refuse(websocket, svc, exc)
        return
    await websocket.accept()
    started = time.perf_counter()
    try:
        accepted = await _handshake(websocket, svc)
    except _HungUp:
        return
    except (CodedError, ProtocolError, _NoHello) as exc:
        svc.metrics.reconnects.labels(_outcome(exc)).inc()
        await _refuse(websocket, svc, exc)
        return
    except Exception as exc:  # a bug: logged here, never a traceback to the client
        log.exception("WebSocket hello on %s failed", websocket.url.path)
        await _refuse(websocket, svc, exc)
        return
    svc.metrics.reconnects.labels("ok").inc()
    svc.metrics.reconnect_seconds.observe(time.perf_counter() - started)
    svc.metrics.missed_events.inc(len(accepted.welcome.missed_events))
    await accepted.channel.run(accepted.welcome)


@dataclass(frozen=True, slots=True)
class _Accepted:
    channel: Channel
    welcome: Welcome


class _HungUp(Exception):
    """The client hung up before its `hello` was answered."""


class _NoHello(Exception):
    """No `hello` within HELLO_TIMEOUT_S."""


class _Probed(ProtocolError):
    """A `ping` before any `hello`: how the SDK's `transport="auto"` asks whether a WebSocket gets
    through, without a seat (`rejoin.ws_probe`). Refused as any other first frame, and counted
    apart (`rejoin_reconnects_total{outcome="probe"}`), so that it does not read as a client
    breaking the protocol."""


async def _handshake(websocket: WebSocket, svc: Services) -> _Accepted:
    game_id = websocket.path_params["game_id"]
    if not bodies.GAME_ID.fullmatch(game_id):
        raise GameNotFound(game_id[:80])
    try:
        frame = await asyncio.wait_for(receive_frame(websocket), HELLO_TIMEOUT_S)
    except WebSocketDisconnect:
        raise _HungUp from None
    except TimeoutError:
        raise _NoHello from None
    hello = decode_client(frame)
    if isinstance(hello, Ping):
        raise _Probed("type", "The first message must be `hello`; send it before anything.")
    if not isinstance(hello, Hello):
        raise ProtocolError("type", "The first message must be `hello`; send it before anything.")
    if hello.protocol != PROTOCOL_VERSION:
        raise ProtocolError(
            "hello.protocol",
            f"This server speaks protocol {PROTOCOL_VERSION}, not {hello.protocol}; "
            "update the client.",
        )
    _within_bounds(hello)
    resumed = await resume(
        svc,
        ResumeRequest(
            game_id, hello.player_id, hello.token, hello.client_id, hello.last_seq, hello.last_epoch
        ),
        subscribe=True,
    )
    live, subscriber, player_id = resumed.live, resumed.subscriber, resumed.player_id
    assert subscriber is not None
    try:
        welcome = Welcome(
            player_id=player_id,
            seat=resumed.seat,
            seq=resumed.seq,
            game_state=resumed.view,
            missed_events=resumed.missed,
            resync=resumed.resync,
            token=TokenInfo(resumed.token.token, iso_ms(resumed.token.expires_at)),
            session_token=session_token(svc, live, player_id),
            server_time=svc.host.clock(),
            epoch=live.history.token(),
            node=svc.settings.node,
        )
        live_channel = Channel(
            websocket,
            svc,
            live,
            subscriber,
            client_id=hello.client_id,
            token=resumed.token,
            sent=resumed.seq,
        )
    except BaseException:
        svc.host.unsubscribe(live, subscriber)  # not this socket's seat after all
        raise
    return _Accepted(live_channel, welcome)


def _within_bounds(hello: Hello) -> None:
    """The longest each `hello` field may be: what the store's columns hold, as over HTTP."""
    for field, value, longest in (
        ("playerId", hello.player_id, MAX_PLAYER_ID),
        ("token", hello.token, MAX_TOKEN),
        ("clientId", hello.client_id, MAX_CLIENT_ID),
        ("lastEpoch", hello.last_epoch or "", MAX_EPOCH),
    ):
        if len(value) > longest:
            path = f"hello.{field}"
            raise ProtocolError(path, f"{path} must be at most {longest} characters")


def _outcome(exc: BaseException) -> str:
    if isinstance(exc, _Probed):
        return "probe"
    if isinstance(exc, CodedError):
        return exc.code.value
    return ErrorCode.INVALID_REQUEST.value


async def _refuse(websocket: WebSocket, svc: Services, exc: BaseException) -> None:
    """Tell the client why, then close with the close code its error code has at `hello`."""
    if isinstance(exc, CodedError):
        svc.host.note_failure(exc)
        message = Error(exc.code.value, exc.message, details=exc.details or None)
    elif isinstance(exc, ProtocolError):
        message = Error(ErrorCode.INVALID_REQUEST.value, exc.message)
    elif isinstance(exc, _NoHello):
        message = Error(
            ErrorCode.INVALID_REQUEST.value,
            f"No `hello` within {HELLO_TIMEOUT_S:g} s; send `hello` first, as soon as the "
            "socket opens.",
        )
    else:
        message = Error(
            ErrorCode.INTERNAL.value,
            "The server failed on this connection; it has been logged. Reconnect in a moment.",
        )
    close = ErrorCode(message.code).hello_close_code
    with contextlib.suppress(Exception):  # the client may be gone already
        await websocket.send_text(orjson.dumps(wire(message)).decode())
        await websocket.close(close, message.code)
