"""Who a player is, as an existing login says: the authenticator hook of `create_app`.

`create_app(settings, authenticate=…)` takes an `Authenticate`: an async callable given the
request (a `starlette.requests.HTTPConnection`, so a WebSocket upgrade too) that answers the
caller's `Identity`, None when the request carries no credential at all, or raises `LoginRefused`
for a credential it does not accept (expired, forged, for another application). The built-in one,
`login.jwt_login.JwtLogin`, verifies the JWTs of an identity provider (`--auth-jwt-…`).

With an authenticator a join needs an identity, and the seat's `playerId` is its `subject`: the
same subject joining again takes its seat back (docs/http-api.md, `POST …/reclaim`). So a subject
must be the identity provider's own id of the person, never something a user chooses (a name or
an e-mail address they can set): whoever can become a subject can take that subject's seats.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from rejoin_protocol.errors import ErrorCode
from rejoin_server.errors import CodedError


@dataclass(frozen=True, slots=True)
class Identity:
    """A logged-in person: `subject`, the identity provider's stable id of them (the seat's
    `playerId`), and the `name` to show at the table when the join names none."""

    subject: str
    name: str | None = None


Authenticate = Callable[[HTTPConnection], Awaitable[Identity | None]]


class LoginRefused(CodedError):
    """A credential the authenticator does not accept: 401 `unauthorized`, with `message` (what
    to do) and `details.reason`, a short word a client may branch on (`missing`, `expired`,
    `audience`, `issuer`, `signature`, `algorithm`, `malformed`, `claims`, `subject`, …)."""

    code = ErrorCode.UNAUTHORIZED

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason
        self.details = {"reason": reason}


class Login:
    """The server's side of logins: `authenticate`, and one login at a time per game and subject
    (`one_at_a_time`), so that two devices of one player joining together take one seat."""

    def __init__(self, authenticate: Authenticate) -> None:
        self.authenticate = authenticate
        # (game id, subject) -> its lock and how many hold or wait for it; gone at zero.
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def one_at_a_time(self, game_id: str, subject: str) -> AsyncIterator[None]:
        key = (game_id, subject)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
