"""Signing and checking the two bearer strings a player holds (docs/architecture.md).

- A **reconnect token** is single-use: an itsdangerous signature over ids only, `{g, p, j}` (game,
  player, `jti`). The signature proves the server issued it; the token row in the store says
  whether it was used. Nothing secret is inside.
- A **session token** authorises a seated player's HTTP calls: a signature over `{g, p, c}`, where
  `c` is the claim on the seat it was issued with. It needs no row: the host knows each seat's
  current claim, and once a reconnect wins the seat anew (a new claim), older session tokens are
  refused (`api.auth.seated`).

Keys rotate: the newest key signs, every key listed verifies. Keys being retired (the key the
server once generated, after the operator gave keys of their own) verify only until a deadline.

Every `hello` checks one token and signs two, so a signature's cost is part of every resume.
itsdangerous, as it comes, builds a signer and derives its key again for each token and computes
the HMAC through Python's `hmac.HMAC` object: `_Tokens` keeps one signer per salt, each key
derived once, and takes the HMAC from the C one-shot `hmac.digest` (the same bytes): a token is
signed or checked in a fraction of the time, and every token issued before verifies as it did.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import (
    BadSignature,
    Serializer,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import HMACAlgorithm, Signer

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import ApiError
from rejoin_server.timefmt import now_ms

_RECONNECT_SALT = "rejoin.reconnect"
_SESSION_SALT = "rejoin.session"


@dataclass(frozen=True, slots=True)
class Claims:
    game_id: str
    player_id: str
    jti: str = ""  # a reconnect token's
    claim: str = ""  # a session token's claim on the seat ("" in tokens from before claims)


class _Sha1Hmac(HMACAlgorithm):
    """itsdangerous's HMAC-SHA1 from the C one-shot `hmac.digest`: the same signature, without an
    `hmac.HMAC` object built in Python for every token."""

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha1")


class _KeyedSigner(TimestampSigner):
    """A timestamp signer that derives each key once (itsdangerous derives it for every token it
    signs and for every key it tries when it checks one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # _Sha1Hmac computes SHA-1 whatever it is handed: the digest must be the same.
        assert self.digest_method().name == "sha1", "tokens are HMAC-SHA1 (itsdangerous's default)"
        self._derived: dict[str | bytes | None, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self._derived.get(secret_key)
        if key is None:
            key = self._derived[secret_key] = super().derive_key(secret_key)
        return key


class _Tokens(URLSafeTimedSerializer):
    """URL-safe timed tokens, itsdangerous's format, with one `_KeyedSigner` per salt made once,
    and payloads left uncompressed."""

    default_signer = _KeyedSigner

    def __init__(self, secret_keys: list[str], *, salt: str) -> None:
        super().__init__(secret_keys, salt=salt, signer_kwargs={"algorithm": _Sha1Hmac()})
        self._signers: dict[str | bytes | None, Signer] = {}

    def dump_payload(self, obj: Any) -> bytes:
        # itsdangerous zlib-compresses every payload to keep it if shorter: deflate's set-up for
        # ~100 bytes of ids costs more than the rest of the token (it saves ~20 characters).
        # Compressed tokens issued before still load: the payload says whether it is.
        return base64_encode(Serializer.dump_payload(self, obj))

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)
        return signer


class TokenSigner:
    def __init__(
        self,
        keys_newest_first: list[str],
        *,
        token_ttl_ms: int,
        session_ttl_ms: int,
        retiring_keys: list[str] | None = None,
        retiring_until_ms: int = 0,
        clock: Callable[[], int] = now_ms,
    ):
        if not keys_newest_first:
            raise ValueError("at least one signing key is needed")
        # itsdangerous signs with the last key of the list and tries every key to verify.
        keys = list(reversed(keys_newest_first))
        self._reconnect = _Tokens(keys, salt=_RECONNECT_SALT)
        self._session = _Tokens(keys, salt=_SESSION_SALT)
        # Keys that verify (never sign) until `retiring_until_ms`, then not at all.
        retiring = list(reversed(retiring_keys or []))
        self._retiring = (
            (
                _Tokens(retiring, salt=_RECONNECT_SALT),
                _Tokens(retiring, salt=_SESSION_SALT),
            )
            if retiring
            else None
        )
        self._retiring_until_ms = retiring_until_ms
        self._clock = clock
        # itsdangerous stamps whole seconds.
        self._token_ttl_s = max(1, token_ttl_ms // 1000)
        self._session_ttl_s = max(1, session_ttl_ms // 1000)

    def reconnect_token(self, game_id: str, player_id: str, jti: str) -> str:
        return str(self._reconnect.dumps({"g": game_id, "p": player_id, "j": jti}))

    def session_token(self, game_id: str, player_id: str, claim: str) -> str:
        return str(self._session.dumps({"g": game_id, "p": player_id, "c": claim}))

    def check_reconnect(self, token: str) -> Claims:
        """Raises `token_invalid` or `token_expired`."""
        data = self._loads(token, session=False)
        jti = data.get("j")
        if not isinstance(jti, str) or not jti:
            raise _invalid("reconnect token")
        return Claims(data["g"], data["p"], jti)

    def check_session(self, token: str) -> Claims:
        """Raises `unauthorized` (a session token is not a reconnect token: no token_* codes)."""
        try:
            data = self._loads(token, session=True)
        except ApiError as exc:
            raise ApiError(ErrorCode.UNAUTHORIZED, exc.message) from exc
        claim = data.get("c", "")
        return Claims(data["g"], data["p"], claim=claim if isinstance(claim, str) else "")

    def _loads(self, token: str, *, session: bool) -> dict[str, Any]:
        what = "session token" if session else "reconnect token"
        max_age_s = self._session_ttl_s if session else self._token_ttl_s
        serializer = self._session if session else self._reconnect
        try:
            return _loads(serializer, token, max_age_s, what, reconnect=not session)
        except ApiError as exc:
            retiring = self._retiring
            if (
                exc.code != ErrorCode.TOKEN_INVALID
                or retiring is None
                or self._clock() >= self._retiring_until_ms
            ):
                raise
            return _loads(retiring[session], token, max_age_s, what, reconnect=not session)


def _loads(
    serializer: _Tokens,
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
