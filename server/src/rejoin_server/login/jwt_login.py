"""The built-in authenticator: JWTs signed by an identity provider, verified with PyJWT.

The player sends the token their provider issued as `Authorization: Bearer <jwt>`. It is
accepted when:

- its signature verifies with the one key the operator gave: a shared secret (HS256) or the
  provider's PEM public key, whose type fixes the one algorithm accepted (RSA: RS256; EC P-256:
  ES256, P-384: ES384). The algorithm is never read from the token: `alg: none`, and HS256 "signed"
  with the public key's text (the algorithm-confusion attack), are refused like any other
  algorithm that is not the key's;
- it has `exp` (not past, with `LEEWAY_S` for clocks that disagree) and `sub`; `nbf` and `iat`,
  when present, are checked too;
- its `aud` holds the configured audience, and its `iss` is the configured issuer when one is.

Refusals are `LoginRefused` (401 `unauthorized`) with a message that says what is wrong and a
`details.reason` word. The `sub` is the identity; `name` (else `preferred_username`, else
`nickname`) is the name shown at the table when the join names none.
"""

from __future__ import annotations

import jwt
from starlette.requests import HTTPConnection

from rejoin_server.login.identity import Identity, LoginRefused
from rejoin_server.login.keys import PublicKey, load_public_key
from rejoin_server.settings import MIN_JWT_SECRET_BYTES, ServerSettings

# Clocks of the provider and of this server may disagree by this much.
LEEWAY_S = 30
# A longer bearer is no login: refused before any parsing.
MAX_JWT_CHARS = 8192
_NAME_CLAIMS = ("name", "preferred_username", "nickname")


class JwtLogin:
    """An `Authenticate` for JWTs: None without an `Authorization: Bearer`, else the token's
    `Identity` or `LoginRefused`."""

    def __init__(
        self,
        *,
        audience: str,
        secret: str | None = None,
        public_key: str | bytes | None = None,
        issuer: str | None = None,
    ) -> None:
        if (secret is None) == (public_key is None):
            raise ValueError("give a shared secret (HS256) or a public key, one of the two")
        self._key: bytes | PublicKey
        if secret is not None:
            if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
                raise ValueError(f"the HS256 secret must be at least {MIN_JWT_SECRET_BYTES} bytes")
            self._key, self._algorithm = secret.encode(), "HS256"
        else:
            assert public_key is not None
            self._key, self._algorithm = load_public_key(public_key)
        self._audience = audience
        self._issuer = issuer
        self._required = ["exp", "sub", "aud", *(["iss"] if issuer is not None else [])]

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> JwtLogin:
        assert settings.auth_jwt_audience is not None  # ServerSettings requires it with a key
        return cls(
            audience=settings.auth_jwt_audience,
            secret=settings.auth_jwt_secret,
            public_key=settings.auth_jwt_public_key,
            issuer=settings.auth_jwt_issuer,
        )

    @property
    def algorithm(self) -> str:
        return self._algorithm

    async def __call__(self, conn: HTTPConnection) -> Identity | None:
        scheme, _, value = conn.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return self.verify(value.strip())

    def verify(self, token: str) -> Identity:
        """The identity `token` proves, or `LoginRefused` saying why not."""
        if len(token) > MAX_JWT_CHARS:
            raise LoginRefused(
                f"This login token is longer than {MAX_JWT_CHARS} characters; send the token "
                "your identity provider issued.",
                "malformed",
            )
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_S,
                options={"require": self._required, "enforce_minimum_key_length": True},
            )
        except jwt.PyJWTError as exc:
            raise self._refusal(token, exc) from None
        name = next((claims[c] for c in _NAME_CLAIMS if isinstance(claims.get(c), str)), None)
        return Identity(str(claims["sub"]), name)

    def _refusal(self, token: str, exc: jwt.PyJWTError) -> LoginRefused:
        """What to tell the player about `exc`: the first row of `_refusals` it is an instance
        of (subclasses before their bases: a bad signature is a `DecodeError` too)."""
        for kinds, reason, message in self._refusals(token, exc):
            if isinstance(exc, kinds):
                return LoginRefused(message, reason)
        return LoginRefused(
            f"This login is not accepted ({exc}); log in again and send the new token.", "invalid"
        )

    def _refusals(
        self, token: str, exc: jwt.PyJWTError
    ) -> list[tuple[type[Exception] | tuple[type[Exception], ...], str, str]]:
        again = "log in again and send the new token"
        claim = getattr(exc, "claim", "?")
        return [
            (jwt.ExpiredSignatureError, "expired", f"Your login has expired; {again}."),
            (
                jwt.InvalidAudienceError,
                "audience",
                f"This login is for another application: its `aud` is not {self._audience!r}; "
                "log in to this game.",
            ),
            (
                jwt.InvalidIssuerError,
                "issuer",
                f"This login was not issued by {self._issuer!r}; log in with that provider.",
            ),
            (
                jwt.InvalidAlgorithmError,
                "algorithm",
                f"This login is signed with {_algorithm_of(token)}; this server accepts "
                f"{self._algorithm} only. Log in with the identity provider it trusts.",
            ),
            (
                jwt.InvalidSignatureError,
                "signature",
                "This login's signature does not verify: it was not issued by the identity "
                f"provider this server trusts, or it was altered; {again}.",
            ),
            (
                jwt.MissingRequiredClaimError,
                "claims",
                f"This login has no `{claim}` claim, which this server requires "
                "(`exp`, `sub`, `aud`); ask your identity provider to include it.",
            ),
            (
                jwt.exceptions.InvalidSubjectError,
                "claims",
                "This login's `sub` is not a string; ask your identity provider for its usual "
                "tokens.",
            ),
            (
                (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError),
                "not_yet_valid",
                f"This login is not valid yet (its `nbf` or `iat` is in the future); {again} "
                "or check this machine's clock.",
            ),
            (
                jwt.DecodeError,
                "malformed",
                "This is not a JWT (three base64url parts separated by dots); send the token "
                "your identity provider issued as `Authorization: Bearer <token>`.",
            ),
        ]


def _algorithm_of(token: str) -> str:
    """The `alg` a token claims, for a refusal's message only (never to pick a key)."""
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        return "no readable algorithm"
    if not isinstance(alg, str):
        return "no algorithm"
    return f"`alg: {alg[:16]}`"
