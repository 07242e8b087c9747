"""What every endpoint reaches for, built once in the app's lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from rejoin_server.api.ratelimit import RateLimiter
from rejoin_server.console.usage import StoredUsage
from rejoin_server.host.host import GameHost
from rejoin_server.login.identity import Login
from rejoin_server.metrics import Metrics
from rejoin_server.settings import ServerSettings
from rejoin_server.store.base import GameStore
from rejoin_server.tokens.service import ReconnectTokens
from rejoin_server.tokens.signing import TokenSigner

if TYPE_CHECKING:
    # Only on PostgreSQL: a server on SQLite never imports psycopg.
    from rejoin_server.cluster.membership import Membership


# Resumes (a `hello`, a `POST …/reconnect`) past their game's load at once: see `api.resume`.
RESUMES_AT_ONCE = 32


@dataclass(slots=True)
class Services:
    settings: ServerSettings
    store: GameStore
    host: GameHost
    signer: TokenSigner
    tokens: ReconnectTokens
    metrics: Metrics
    backend: str  # "sqlite", "postgresql" or "memory", for /healthz
    limiter: RateLimiter = field(default_factory=RateLimiter)
    cluster: Membership | None = None  # on PostgreSQL: this node's membership of the cluster
    login: Login | None = None  # players log in (`create_app(authenticate=…)`, `--auth-jwt-…`)
    resuming: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(RESUMES_AT_ONCE))
    # The store's usage for the console, measured at most every 15 s (`console.usage`).
    usage: StoredUsage = field(init=False)

    def __post_init__(self) -> None:
        self.usage = StoredUsage(self.store.usage, self._now)

    def _now(self) -> int:
        return self.host.clock()  # looked up each time: a test may replace the host's clock


def services(conn: HTTPConnection) -> Services:
    found: Services | None = getattr(conn.app.state, "services", None)
    if found is None:
        # Only a host app that mounted rejoin without running its lifespan gets here.
        raise RuntimeError(
            "rejoin's lifespan is not running: a host app that mounts it runs it in its own "
            "lifespan (rejoin_server.embed, docs/games.md)"
        )
    return found
