"""Seats of logged-in players (docs/http-api.md): `POST …/join` on a server with player login,
and `POST …/reclaim`.

With an authenticator (`create_app(authenticate=…)`, `--auth-jwt-…`) a join needs an identity
and the seat's `playerId` is its subject. A player holds one seat per game, so the same subject
joining again takes that seat back (`reclaim`) rather than a second one, and asking for another
seat number is `seat_conflict`. Taking a seat back needs no reconnect token: the seat gets a new
claim and a new reconnect token (`ReconnectTokens.reclaim` uses up the live one), so the device
that held it is treated as after a reconnect elsewhere: its WebSocket is closed with 4409
`superseded`, its session tokens answer `token_reused`, its reconnect token `seat_conflict` for
a moment and `token_reused` after.

One login at a time per game and subject (`Login.one_at_a_time`): two devices joining together
get one seat, the second one's join taking it back from the first.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from rejoin_protocol.errors import ErrorCode
from rejoin_protocol.messages import is_ident
from rejoin_server.api import bodies
from rejoin_server.api.auth import session_token
from rejoin_server.api.context import Services, services
from rejoin_server.api.fields import read_fields
from rejoin_server.api.games import seat_player
from rejoin_server.api.names import player_name
from rejoin_server.api.ratelimit import client_key
from rejoin_server.api.responses import ok
from rejoin_server.errors import ApiError
from rejoin_server.login.identity import Identity, Login, LoginRefused
from rejoin_server.store import widths

# A subject becomes the player id, which the store scopes action ids with (`{playerId}:{actionId}`
# in a column of `widths.ACTION_ID`), so it must leave room for the longest actionId; and `:`
# inside it would let two players' scoped ids collide.
MAX_SUBJECT = min(widths.PLAYER_ID, widths.ACTION_ID - 1 - bodies.MAX_ACTION_ID)


def subject_problem(subject: str) -> str | None:
    """What keeps `subject` from being a player id here, or None."""
    if not is_ident(subject):
        return "it is empty or has control characters"
    if len(subject) > MAX_SUBJECT:
        return f"it is {len(subject)} characters long, and a player id is at most {MAX_SUBJECT}"
    if ":" in subject:
        return "it contains `:`"
    return None


async def identity(conn: HTTPConnection, login: Login) -> Identity:
    """Who is calling, as the authenticator says; `LoginRefused` when nobody or a subject that
    cannot be a player id."""
    found = await login.authenticate(conn)
    if found is None:
        raise LoginRefused(
            "This server seats logged-in players only: send the token of your login as "
            "`Authorization: Bearer <token>`.",
            "missing",
        )
    problem = subject_problem(found.subject)
    if problem is not None:
        raise LoginRefused(
            f"Your login's subject cannot be a player id on this server: {problem}. The "
            "operator must have the identity provider issue shorter ids.",
            "subject",
        )
    return found


def _login(svc: Services) -> Login:
    if svc.login is None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            "This server has no player login; take your seat back with its reconnect token "
            "(POST …/reconnect or the WebSocket hello).",
        )
    return svc.login


async def join(request: Request) -> Response:
    """`POST …/join` with a login: the subject's seat, new (201) or taken back (200)."""
    svc = services(request)
    svc.limiter.check(
        "join", svc.settings.rate_join, client_key(request), "joins from your address"
    )
    login = _login(svc)
    who = await identity(request, login)
    game_id = request.path_params["game_id"]
    raw = await bodies.read_object(request, svc.settings.max_body_bytes, optional=True)
    body = read_fields(bodies.Join, _named(raw, who), request.path_params)
    async with login.one_at_a_time(game_id, who.subject):
        held = (await svc.host.get(game_id)).state.seat_of(who.subject)
        if held is None:
            return await seat_player(svc, game_id, who.subject, body)
        if body.seat is not None and body.seat != held:
            raise ApiError(
                ErrorCode.SEAT_CONFLICT,
                f"You already hold seat {held} (numbered from 0) of this game, and a player "
                f"holds one seat; leave `seat` out (or send {held}) to take yours back here.",
                details={"seat": held},
            )
        return await _reclaim(svc, game_id, who.subject)


async def reclaim(request: Request) -> Response:
    """`POST …/reclaim`: the login's seat in this game, taken back on this device."""
    svc = services(request)
    svc.limiter.check(
        "connect_address",
        svc.settings.rate_connect_address,
        client_key(request),
        "reconnects from your address",
    )
    login = _login(svc)
    who = await identity(request, login)
    game_id = request.path_params["game_id"]
    async with login.one_at_a_time(game_id, who.subject):
        return await _reclaim(svc, game_id, who.subject)


def _named(raw: dict[str, Any], who: Identity) -> dict[str, Any]:
    """The join's body, named after the login when it names nobody and the login's name is one
    a table can show (else the body's own rule asks for a `name`)."""
    if raw.get("name") is not None or who.name is None:
        return raw
    try:
        player_name(who.name, "name", max_length=bodies.MAX_NAME)
    except ApiError:
        return raw
    return {**raw, "name": who.name}


async def _reclaim(svc: Services, game_id: str, player_id: str) -> Response:
    """Give `player_id`'s seat a new claim and reconnect token, ending the connections of the
    old claim; counted against `--rate-connect` like a resume, once it has succeeded."""
    host = svc.host
    key = f"{game_id}/{player_id}"
    svc.limiter.check("resume", svc.settings.rate_connect, key, "reconnects", spend=False)
    live = await host.get(game_id)
    async with host.reading(live) as game:
        seat = game.seat_of(player_id)
        if seat is None:
            raise ApiError(
                ErrorCode.PLAYER_NOT_IN_GAME,
                "You hold no seat in this game; join it (POST …/join) to take one.",
            )
        if game.status == "completed":
            raise ApiError(
                ErrorCode.GAME_COMPLETED,
                "This game is over; its final result is in `details.gameState`. Join a new game.",
                details={"gameState": host.view(live, player_id)},
            )
    fresh = await svc.tokens.reclaim(game_id, player_id, host.clock())
    svc.limiter.spend("resume", svc.settings.rate_connect, key)
    host.note_claim(live, player_id, fresh.claimed)
    host.supersede(live, player_id)
    return ok(
        {
            "playerId": player_id,
            "seat": seat,
            "sessionToken": session_token(svc, live, player_id),
            "connectionToken": fresh.to_json(),
            "reclaimed": True,
        }
    )
