"""`GET /api/game/{gameId}/ws`: the handshake of the live channel (DESIGN §4).

The first frame must be `hello` (within `HELLO_TIMEOUT_S`). It is answered like `POST …/reconnect`:
everything the `welcome` says (the seat, the view, the missed events) is read under the game's lock,
where the channel also subscribes, so no event can fall between the welcome and the live stream;
the reconnect token is used last, so a refusal before that leaves it as it was. Once the token is
used, this socket holds the seat and an older one is closed with 4409 `superseded`.

A refusal is an `error` message with its code, then a close with the code's close code (4401 for
a bad token, 4404 for an unknown game, …; see `rejoin_protocol.errors`). The connection after the
welcome is `channel.Channel`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from rejoin_protocol.errors import (
    CLOSE_INTERNAL,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_SERVER_RESTARTING,
    CLOSE_TRY_AGAIN_LATER,
    ErrorCode,
)
from rejoin_protocol.messages import (
    PROTOCOL_VERSION,
    Error,
    Hello,
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
from rejoin_server.api.reconnect import limit_resumes, resume_claims, seat_held
from rejoin_server.api.responses import error
from rejoin_server.errors import (
    ApiError,
    GameNotFound,
    RateLimited,
    RejoinError,
    StorageUnavailable,
)
from rejoin_server.timefmt import iso_ms

log = logging.getLogger(__name__)

# A connection that has not said `hello` by then is closed (4400): it holds a socket for nothing.
HELLO_TIMEOUT_S = 10.0


async def channel(websocket: WebSocket) -> None:
    """The endpoint: handshake, then the channel until either side ends it."""
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
    except (RejoinError, ProtocolError, _NoHello) as exc:
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
    if not isinstance(hello, Hello):
        raise ProtocolError("type", "The first message must be `hello`; send it before anything.")
    if hello.protocol != PROTOCOL_VERSION:
        raise ProtocolError(
            "hello.protocol",
            f"This server speaks protocol {PROTOCOL_VERSION}, not {hello.protocol}; "
            "update the client.",
        )
    _within_bounds(hello)
    claims = resume_claims(svc, hello.token, game_id, hello.player_id)
    resuming = limit_resumes(svc, claims)
    live = await svc.host.get(game_id)
    player_id = hello.player_id
    async with svc.host.reading(live) as game:
        seat = seat_held(game, player_id)
        if game.status == "completed":
            raise ApiError(
                ErrorCode.GAME_COMPLETED,
                "This game is over; its final result is in `details.gameState`. Join a new game.",
                details={"gameState": svc.host.view(live, player_id, also=player_id)},
            )
        missed, resync = await svc.host.missed_events(
            live, player_id, hello.last_seq, hello.last_epoch
        )
        seq = game.seq
        # The view (with who is connected) and the subscription with no await between them:
        # presence changes take no lock, and one in between would be in neither. Subscribed
        # under the lock, at a published seq: every later event reaches the queue.
        view = svc.host.view(live, player_id, also=player_id)
        subscriber = svc.host.subscribe(live, player_id, presence=True, count=False)
    try:
        fresh = await svc.tokens.use(claims, hello.client_id, svc.host.clock(), reclaim=True)
        resuming.succeeded()
        svc.host.note_claim(live, player_id, fresh.claimed, keep=subscriber)
        svc.host.take_seat(live, subscriber)
        welcome = Welcome(
            player_id=player_id,
            seat=seat,
            seq=seq,
            game_state=view,
            missed_events=missed,
            resync=resync,
            token=TokenInfo(fresh.token, iso_ms(fresh.expires_at)),
            session_token=session_token(svc, live, player_id),
            server_time=svc.host.clock(),
            epoch=live.history.token(),
        )
        live_channel = Channel(
            websocket, svc, live, subscriber, client_id=hello.client_id, token=fresh, sent=seq
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
    if isinstance(exc, RejoinError):
        return exc.code.value
    return ErrorCode.INVALID_REQUEST.value


async def _refuse(websocket: WebSocket, svc: Services, exc: BaseException) -> None:
    """Tell the client why, then close with the matching code."""
    if isinstance(exc, RejoinError):
        if isinstance(exc, StorageUnavailable):
            svc.host.writer.report_unavailable(exc)
        message = Error(exc.code.value, exc.message, details=exc.details or None)
        close = exc.code.close_code or _close_without_code(exc.code)
    elif isinstance(exc, ProtocolError):
        message = Error(ErrorCode.INVALID_REQUEST.value, exc.message)
        close = CLOSE_PROTOCOL_ERROR
    elif isinstance(exc, _NoHello):
        message = Error(
            ErrorCode.INVALID_REQUEST.value,
            f"No `hello` within {HELLO_TIMEOUT_S:g} s; send `hello` first, as soon as the "
            "socket opens.",
        )
        close = CLOSE_PROTOCOL_ERROR
    else:
        message = Error(
            ErrorCode.INTERNAL.value,
            "The server failed on this connection; it has been logged. Reconnect in a moment.",
        )
        close = CLOSE_INTERNAL
    with contextlib.suppress(Exception):  # the client may be gone already
        await websocket.send_text(orjson.dumps(wire(message)).decode())
        await websocket.close(close, message.code)


def _close_without_code(code: ErrorCode) -> int:
    """The close code of a refusal at `hello` whose error code has none of its own (codes that
    answer an action without ending the connection)."""
    if code in (ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.RATE_LIMITED, ErrorCode.STORAGE_FULL):
        return CLOSE_TRY_AGAIN_LATER
    if code in (ErrorCode.INTERNAL, ErrorCode.STATE_CORRUPTED):
        return CLOSE_INTERNAL
    if code == ErrorCode.STALE_STATE:  # the game was reloaded while the hello waited
        return CLOSE_SERVER_RESTARTING
    return CLOSE_PROTOCOL_ERROR
