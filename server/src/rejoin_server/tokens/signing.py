"""Signing and checking the two bearer strings a player holds (DESIGN §3).

- A **reconnect token** is single-use: an itsdangerous signature over ids only, `{g, p, j}` (game,
  player, `jti`). The signature proves the server issued it; the token row in the store says
  whether it was used. Nothing secret is inside.
- A **session token** authorises a seated player's HTTP calls: a signature over `{g, p}`. It needs
  no row: it cannot be replayed to take a seat, only to act as the player who already holds it.

Keys rotate: the newest key signs, every key listed verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError

_RECONNECT_SALT = "rejoin.reconnect"
_SESSION_SALT = "rejoin.session"


@dataclass(frozen=True, slots=True)
class Claims:
    game_id: str
    player_id: str
    jti: str = ""


class TokenSigner:
    def __init__(self, keys_newest_first: list[str], *, token_ttl_ms: int, session_ttl_ms: int):
        if not keys_newest_first:
            raise ValueError("at least one signing key is needed")
        # itsdangerous signs with the last key of the list and tries every key to verify.
        keys = list(reversed(keys_newest_first))
        self._reconnect = URLSafeTimedSerializer(keys, salt=_RECONNECT_SALT)
        self._session = URLSafeTimedSerializer(keys, salt=_SESSION_SALT)
        # itsdangerous stamps whole seconds.
        self._token_ttl_s = max(1, token_ttl_ms // 1000)
        self._session_ttl_s = max(1, session_ttl_ms // 1000)

    def reconnect_token(self, game_id: str, player_id: str, jti: str) -> str:
        return str(self._reconnect.dumps({"g": game_id, "p": player_id, "j": jti}))

    def session_token(self, game_id: str, player_id: str) -> str:
        return str(self._session.dumps({"g": game_id, "p": player_id}))

    def check_reconnect(self, token: str) -> Claims:
        """Raises `token_invalid` or `token_expired`."""
        data = _loads(self._reconnect, token, self._token_ttl_s, "reconnect token", reconnect=True)
        jti = data.get("j")
        if not isinstance(jti, str) or not jti:
            raise _invalid("reconnect token")
        return Claims(data["g"], data["p"], jti)

    def check_session(self, token: str) -> Claims:
        """Raises `unauthorized` (a session token is not a reconnect token: no token_* codes)."""
        try:
            data = _loads(self._session, token, self._session_ttl_s, "session token")
        except ApiError as exc:
            raise ApiError(ErrorCode.UNAUTHORIZED, exc.message) from exc
        return Claims(data["g"], data["p"])


def _loads(
    serializer: URLSafeTimedSerializer,
    token: str,
    max_age_s: int,
    what: str,
    *,
    reconnect: bool = False,
) -> dict[str, Any]:
    try:
        data = serializer.loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        if reconnect:
            raise ApiError(
                ErrorCode.TOKEN_EXPIRED,
                "This reconnect token has expired; join the game again for a new seat.",
            ) from exc
        raise ApiError(
            ErrorCode.UNAUTHORIZED, f"This {what} has expired; reconnect for a fresh one."
        ) from exc
    except (BadSignature, UnicodeError, ValueError) as exc:
        raise _invalid(what) from exc
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("g"), str)
        or not isinstance(data.get("p"), str)
    ):
        raise _invalid(what)
    return data


def _invalid(what: str) -> ApiError:
    return ApiError(
        ErrorCode.TOKEN_INVALID,
        f"This {what} was not issued by this server or was altered; use the token you were "
        "given, or join the game again.",
    )
