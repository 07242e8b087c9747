"""Who is calling: a seated player (session token) or the operator (admin token)."""

from __future__ import annotations

import hmac

from starlette.requests import HTTPConnection

from rejoin_protocol.errors import ErrorCode
from rejoin_server.api.context import Services
from rejoin_server.errors import ApiError
from rejoin_server.host.live import LiveGame
from rejoin_server.tokens.signing import Claims


def bearer(conn: HTTPConnection, *, allow_query: bool = False) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if allow_query:
        return conn.query_params.get("session") or None
    return None


def is_admin(conn: HTTPConnection, svc: Services) -> bool:
    token = bearer(conn)
    admin = svc.settings.admin_token
    return bool(token and admin and hmac.compare_digest(token.encode(), admin.encode()))


def require_admin(conn: HTTPConnection, svc: Services) -> None:
    if is_admin(conn, svc):
        return
    if bearer(conn) is None:
        raise ApiError(ErrorCode.UNAUTHORIZED, "Send the admin token as `Authorization: Bearer`.")
    raise ApiError(ErrorCode.FORBIDDEN, "Only the operator (admin token) may do this.")


def player_claims(
    conn: HTTPConnection, svc: Services, game_id: str, *, allow_query: bool = False
) -> Claims:
    """The session token's claims, checked to be for `game_id`. Raises `unauthorized`/`forbidden`."""
    token = bearer(conn, allow_query=allow_query)
    if token is None:
        raise ApiError(
            ErrorCode.UNAUTHORIZED,
            "Send your session token (from join or reconnect) as `Authorization: Bearer`.",
        )
    claims = svc.signer.check_session(token)
    if claims.game_id != game_id:
        raise ApiError(ErrorCode.FORBIDDEN, "This session token is for another game.")
    return claims


def seated(live: LiveGame, claims: Claims) -> int:
    """The seat of the session token's player, if the token is of the seat's current claim.
    Raises `player_not_in_game`, or `token_reused` for a session token of an older claim."""
    seat = live.state.seat_of(claims.player_id)
    if seat is None:
        raise ApiError(
            ErrorCode.PLAYER_NOT_IN_GAME, "You hold no seat in this game; join it first."
        )
    current = live.claims.get(claims.player_id)
    if current is not None and claims.claim != current:
        raise ApiError(
            ErrorCode.TOKEN_REUSED,
            "This session token is no longer valid: your seat was resumed since (by you on "
            "another device or tab, or by someone holding your reconnect token). Use the "
            "sessionToken of your latest reconnect, or reconnect again.",
        )
    return seat


def session_token(svc: Services, live: LiveGame, player_id: str) -> str:
    """A fresh session token of the seat's current claim."""
    return svc.signer.session_token(live.game_id, player_id, live.claims.get(player_id, ""))
