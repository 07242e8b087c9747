"""Players from an existing login (docs/games.md, "Players from your login"): the authenticator
hook `create_app(settings, authenticate=…)` takes (`identity`), and the built-in authenticator of
signed JWTs (`jwt_login`, imported only by a server that uses it: PyJWT and cryptography cost
start-up time that a restart's players wait for)."""

from __future__ import annotations

from rejoin_server.login.identity import Authenticate, Identity, Login, LoginRefused

__all__ = ["Authenticate", "Identity", "Login", "LoginRefused"]
