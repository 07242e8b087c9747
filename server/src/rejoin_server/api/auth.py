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
    seat = live.state.seat_of(claims.player_id)
    if seat is None:
        raise ApiError(
            ErrorCode.PLAYER_NOT_IN_GAME, "You hold no seat in this game; join it first."
        )
    return seat
