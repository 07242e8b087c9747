"""Getting back into a seat: `GET …/connection-token` and `POST …/reconnect` (DESIGN §3)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api import bodies
from rejoin_server.api.auth import player_claims, seated, session_token
from rejoin_server.api.context import Services, services
from rejoin_server.api.ratelimit import client_key
from rejoin_server.api.responses import ok
from rejoin_server.errors import ApiError, RejoinError
from rejoin_server.games.base import GameState
from rejoin_server.timefmt import iso_ms
from rejoin_server.tokens.signing import Claims


def resume_claims(svc: Services, token: str, game_id: str, player_id: str) -> Claims:
    """The claims of a reconnect token (`POST …/reconnect` or `hello`), checked to be for this
    game and this player. Raises token_invalid/token_expired, or forbidden."""
    claims = svc.signer.check_reconnect(token)
    if claims.game_id != game_id:
        raise ApiError(
            ErrorCode.FORBIDDEN, "This reconnect token is for another game; use that game's token."
        )
    if claims.player_id != player_id:
        raise ApiError(
            ErrorCode.FORBIDDEN,
            "This reconnect token belongs to another player; use your own token.",
        )
    return claims


@dataclass(frozen=True, slots=True)
class Resuming:
    """A resume let through by the per-player limit, to be counted once it has won the seat."""

    svc: Services
    key: str

    def succeeded(self) -> None:
        self.svc.limiter.spend("resume", self.svc.settings.rate_connect, self.key)


def limit_resumes(svc: Services, claims: Claims) -> Resuming:
    """`--rate-connect`: resumes (a `hello`, a `POST …/reconnect`) per player. A resume counts
    once it has won the seat, so someone replaying a spent token of the player (refused) cannot
    empty the player's bucket; refusals count against their address (`--rate-connect-address`,
    charged at the WebSocket's upgrade and at the HTTP reconnect)."""
    key = f"{claims.game_id}/{claims.player_id}"
    svc.limiter.check("resume", svc.settings.rate_connect, key, "reconnects", spend=False)
    return Resuming(svc, key)


def seat_held(game: GameState, player_id: str) -> int:
    """The seat `player_id` holds, or player_not_in_game: only a seated player can resume."""
    seat = game.seat_of(player_id)
    if seat is None:
        raise ApiError(
            ErrorCode.PLAYER_NOT_IN_GAME,
            "That player holds no seat in this game; a player can only reconnect to a game "
            "they joined.",
        )
    return seat


async def connection_token(request: Request) -> Response:
    """The seat's live reconnect token (a new one once that is past half its life:
    `ReconnectTokens.current`), and a fresh session token: how a player who plays over plain
    HTTP keeps both alive."""
    svc = services(request)
    game_id = request.path_params["game_id"]
    claims = player_claims(request, svc, game_id)
    live = await svc.host.get(game_id)
    seated(live, claims)
    player_id = claims.player_id
    svc.limiter.check(
        "token",
        svc.settings.rate_token,
        f"{game_id}/{player_id}",
        "connection tokens for your seat",
    )
    token = await svc.tokens.current(game_id, player_id, svc.host.clock())
    return ok({**token.to_json(), "sessionToken": session_token(svc, live, player_id)})


async def reconnect(request: Request) -> Response:
    svc = services(request)
    started = time.perf_counter()
    try:
        response = await _reconnect(request, svc)
    except RejoinError as exc:
        svc.metrics.reconnects.labels(exc.code.value).inc()
        raise
    svc.metrics.reconnects.labels("ok").inc()
    svc.metrics.reconnect_seconds.observe(time.perf_counter() - started)
    return response


async def _reconnect(request: Request, svc: Services) -> Response:
    svc.limiter.check(
        "connect_address",
        svc.settings.rate_connect_address,
        client_key(request),
        "reconnects from your address",
    )
    game_id = request.path_params["game_id"]
    body = await bodies.read(request, bodies.Reconnect, svc.settings.max_body_bytes)
    player_id, token = body.player_id, body.reconnect_token
    last_seq, last_epoch, client_id = body.last_seq, body.last_epoch, body.client_id

    claims = resume_claims(svc, token, game_id, player_id)
    resuming = limit_resumes(svc, claims)
    live = await svc.host.get(game_id)
    # Everything the answer says is read first, under the game's lock (so it is committed), and
    # the token is used last: a failure before that leaves the token as it was.
    async with svc.host.reading(live) as game:
        seat_held(game, player_id)
        view = svc.host.view(live, player_id)
        if game.status == "completed":
            raise ApiError(
                ErrorCode.GAME_COMPLETED,
                "This game is over; its final result is in `details.gameState`. Join a new game.",
                details={"gameState": view},
            )
        missed, resync = await svc.host.missed_events(live, player_id, last_seq, last_epoch)
        seq = game.seq
    now = svc.host.clock()
    fresh = await svc.tokens.use(claims, client_id, now, reclaim=True)
    resuming.succeeded()
    svc.host.note_claim(live, player_id, fresh.claimed)
    # The seat is resumed here: a WebSocket still holding it is told so (4409), as DESIGN §3 says.
    svc.host.supersede(live, player_id)
    svc.metrics.missed_events.inc(len(missed))
    return ok(
        {
            "success": True,
            "gameState": view,
            "reconnectedAt": iso_ms(now),
            "missedEvents": missed,
            "resync": resync,
            "seq": seq,
            "epoch": live.history.token(),
            "connectionToken": fresh.to_json(),
            "sessionToken": session_token(svc, live, player_id),
        }
    )
