"""The options of player login (`--auth-jwt-…`, docs/operations.md "Player login"): their parser
group, their environment variables (listed in `parsers.EPILOG` with the others), and reading them
into `ServerSettings` fields.

The public key is read and checked here, before anything starts: a file that cannot be read or is
not a usable key is a usage error naming the option (exit 2). The check imports cryptography, and
only when the option is given.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict

from rejoin_server.cli import values

# Names of variables, not secrets (S105).
ENV_AUTH_JWT_SECRET = "REJOIN_AUTH_JWT_SECRET"  # noqa: S105
ENV_AUTH_JWT_PUBLIC_KEY = "REJOIN_AUTH_JWT_PUBLIC_KEY"
ENV_AUTH_JWT_AUDIENCE = "REJOIN_AUTH_JWT_AUDIENCE"
ENV_AUTH_JWT_ISSUER = "REJOIN_AUTH_JWT_ISSUER"

_PEM_START = "-----BEGIN"


def _text(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text.strip()


def _secret(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text  # as given: a secret's spaces are part of it


def public_key(text: str) -> str:
    """A PEM file (or, from the environment, the PEM text itself) holding a public key this
    server can verify with: the PEM text."""
    if text.lstrip().startswith(_PEM_START):
        pem = text
    else:
        try:
            pem = Path(text).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a PEM file"
            raise argparse.ArgumentTypeError(
                f"cannot read {text!r}: {reason}; give the PEM file of your identity provider's "
                "public key or certificate (RSA, or EC P-256 or P-384)"
            ) from None
    from rejoin_server.login.keys import load_public_key

    try:
        load_public_key(pem)
    except ValueError as exc:
        where = "the PEM text" if pem is text else repr(text)
        raise argparse.ArgumentTypeError(f"{where}: {exc}") from None
    return pem


def add_login_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "player login",
        "players log in with a JWT of your identity provider: a join needs one, and its `sub` "
        "is the player id (see docs/games.md, Players from your login)",
    )
    add = group.add_argument
    add(
        "--auth-jwt-secret",
        metavar="SECRET",
        type=_secret,
        help=f"the HS256 secret shared with the identity provider, 32 bytes or more "
        f"(env {ENV_AUTH_JWT_SECRET}; default: no login)",
    )
    add(
        "--auth-jwt-public-key",
        metavar="FILE",
        type=public_key,
        help=f"the identity provider's PEM public key or certificate: RSA (RS256), EC P-256 "
        f"(ES256) or P-384 (ES384) (env {ENV_AUTH_JWT_PUBLIC_KEY}; default: no login)",
    )
    add(
        "--auth-jwt-audience",
        metavar="AUD",
        type=_text,
        help=f"the `aud` a login must hold; required with a secret or a key "
        f"(env {ENV_AUTH_JWT_AUDIENCE}; default none)",
    )
    add(
        "--auth-jwt-issuer",
        metavar="ISS",
        type=_text,
        help=f"the `iss` a login must have (env {ENV_AUTH_JWT_ISSUER}; default: any)",
    )


class LoginSettings(TypedDict):
    """The `ServerSettings` fields of player login."""

    auth_jwt_secret: str | None
    auth_jwt_public_key: str | None
    auth_jwt_audience: str | None
    auth_jwt_issuer: str | None


def login_settings(
    parser: argparse.ArgumentParser, ns: argparse.Namespace, env: Mapping[str, str]
) -> LoginSettings:
    """The `ServerSettings` fields of player login: each flag, else its variable."""

    def given(flag: str | None, name: str, check: Callable[[str], str]) -> str | None:
        return flag if flag is not None else values.from_env(parser, env, name, check)

    return LoginSettings(
        auth_jwt_secret=given(ns.auth_jwt_secret, ENV_AUTH_JWT_SECRET, _secret),
        auth_jwt_public_key=given(ns.auth_jwt_public_key, ENV_AUTH_JWT_PUBLIC_KEY, public_key),
        auth_jwt_audience=given(ns.auth_jwt_audience, ENV_AUTH_JWT_AUDIENCE, _text),
        auth_jwt_issuer=given(ns.auth_jwt_issuer, ENV_AUTH_JWT_ISSUER, _text),
    )
