"""Everything an operator can set on a server, in one frozen value (`create_app(settings)`).

The CLI (`rejoin_server.cli`) builds it from flags and environment variables; tests build it
directly. Durations are held in milliseconds, the unit the game clocks use.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import Literal

Durability = Literal["strict", "relaxed"]

DEFAULT_DATABASE_URL = "sqlite:///./rejoin.db"
# The shortest HS256 secret for player login: as long as the hash (RFC 7518, 3.2).
MIN_JWT_SECRET_BYTES = 32

# What a node id may be made of: it goes into a header (`X-Rejoin-Node`) and a proxy's config.
NODE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h|d)\s*$")


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` requests per `per_ms`, as a token bucket: up to `count` at once, then one every
    `per_ms / count`. Written `30/m`, `5/s`, `100/10m`."""

    count: int
    per_ms: int

    def __str__(self) -> str:
        for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
            if self.per_ms % size == 0:
                n = self.per_ms // size
                return f"{self.count}/{'' if n == 1 else n}{unit}"
        return f"{self.count}/{self.per_ms}ms"


def parse_rate(text: str) -> Rate | None:
    """`"30/m"` → Rate(30, 60000); `"off"` → None (no limit). Raises ValueError saying what is
    accepted."""
    if text.strip().lower() == "off":
        return None
    match = _RATE.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a rate: write a count and a period, e.g. 30/m, 5/s, 100/10m, "
            "or off for no limit"
        )
    count, number, unit = match.groups()
    per_ms = round(float(number or 1) * _UNIT_MS[unit])
    if int(count) < 1 or per_ms < 1:
        raise ValueError(f"{text!r}: the count and the period must be above zero (or write off)")
    return Rate(int(count), per_ms)


def parse_duration_ms(text: str) -> int:
    """`"30m"` → 1800000. A bare number is seconds. Raises ValueError saying what is accepted."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: write a number and a unit, e.g. 500ms, 15s, 30m, 12h, 7d"
        )
    number, unit = match.groups()
    return round(float(number) * _UNIT_MS[unit or "s"])


@dataclass(frozen=True, slots=True)
class ServerSettings:
    database_url: str = DEFAULT_DATABASE_URL
    # Bearer token of the operator (persist/restore/delete of any game, /metrics off loopback).
    # None: the CLI generates one and prints it; a test app without one has no admin.
    admin_token: str | None = None
    # Signing keys for tokens, newest first; older ones still verify. Empty: a key is generated
    # once and kept in the store, so tokens outlive restarts.
    secret_keys: tuple[str, ...] = ()
    # Keys that encrypt private game data at rest (REJOIN_DATA_KEYS, --data-key-file), newest
    # first: the newest seals, all of them open. Empty: private data is stored in the clear.
    data_keys: tuple[str, ...] = field(default=(), repr=False)
    durability: Durability = "strict"
    # The rollout rule (docs/games.md, "Rolling out"): the share of new games, by a stable hash
    # of their id, persisted with `durability`; the others are kept in memory only. A game
    # created with its own durability is not subject to it.
    persist_fraction: float = 1.0
    # Kinds of game served besides poker: `MODULE:ATTR` of an engine (or of a callable making
    # one), loaded by `create_app` (`--game`, REJOIN_GAMES).
    games: tuple[str, ...] = ()
    token_ttl_ms: int = 30 * 60_000
    # Lifetime of a session token (the bearer of a seated player's HTTP calls); every reconnect
    # hands out a fresh one, and a connected WebSocket is pushed one before it expires.
    session_ttl_ms: int = 3_600_000
    snapshot_every: int = 100  # events between snapshots (hand boundaries always snapshot)
    keep_snapshots: int = 3
    replay_limit: int = 1000  # more missed events than this: `resync` with the fresh state
    migrate: bool = True
    cleanup_interval_ms: int = 60_000
    retention_ms: int = 7 * 86_400_000  # completed games are deleted this long after completing
    abandon_after_ms: int = 3_600_000  # a game with no player action this long is completed
    max_games: int | None = None
    max_storage_bytes: int | None = None
    max_body_bytes: int = 64 * 1024
    # The WebSocket heartbeat (docs/protocol.md): the server sends `ping` this often, and drops a client
    # it has heard nothing from for `idle_timeout_ms` (it resumes from its last seq).
    ping_interval_ms: int = 5_000
    # What an event stream (SSE) tells a browser's EventSource to wait before it reconnects
    # (`retry:`): a browser's own default is 3 s, too long to be back within a second of a
    # restart.
    sse_retry_ms: int = 300
    idle_timeout_ms: int = 15_000
    # The browser bundle's folder (`client_sdk/web`: pages, Pyodide, SDK wheels); None: the
    # checkout's own (see `api.web.default_web_dir`).
    web_dir: str | None = None
    # --- limits (docs/operations.md, "Limits") ----
    # What a new table may ask for: anonymous clients create tables, and a table whose clocks run
    # at zero plays itself thousands of events a second.
    min_action_timeout_ms: int = 1_000
    min_next_hand_delay_ms: int = 1_000
    max_starting_stack: int = 1_000_000
    # A table where no seated player has acted or been connected for this long deals no new
    # round until one is back (the round in play still ends by its clocks).
    unattended_after_ms: int = 60_000
    # Past this many events a game is completed (reason `event_limit`).
    max_events_per_game: int = 1_000_000
    # Connections: at most this many open at once (lowered to what the open-file limit allows);
    # a request's headers, then its body, must arrive within their timeouts; an idle keep-alive
    # connection is closed after its timeout.
    max_connections: int = 10_000
    header_timeout_ms: int = 10_000
    body_timeout_ms: int = 10_000
    keep_alive_timeout_ms: int = 5_000
    # Rate limits (None: no limit), per client address or per player (docs/operations.md).
    rate_create: Rate | None = Rate(30, 60_000)
    rate_join: Rate | None = Rate(120, 60_000)
    rate_token: Rate | None = Rate(30, 60_000)
    rate_force_persist: Rate | None = Rate(10, 60_000)
    rate_connect: Rate | None = Rate(60, 60_000)
    rate_connect_address: Rate | None = Rate(6_000, 60_000)
    # Proxies whose X-Forwarded-For is believed (addresses or networks); none by default, so the
    # client address is the connection's own.
    trusted_proxies: tuple[str, ...] = ()
    # With operator keys (REJOIN_SECRET_KEYS), the key the server once generated and stored stops
    # verifying at once instead of after the longest token lifetime.
    retire_stored_key: bool = False
    # This node's name in a cluster (`--node-id`); None: `hostname:port` (see `node`).
    node_id: str | None = None
    # A direct PostgreSQL URL for the cluster's coordination connections (LISTEN, liveness), when
    # `database_url` goes through a transaction-mode pooler; None: `database_url` itself.
    cluster_database_url: str | None = None
    # Player login (docs/games.md, "Players from your login"): JWTs of an identity provider,
    # verified with a shared HS256 secret or with its PEM public key (RS256, ES256), one of the two;
    # `auth_jwt_audience` is then required (a token minted for another application of the same
    # provider must not seat anyone here). None: anyone may join, as a new player each time.
    auth_jwt_secret: str | None = field(default=None, repr=False)
    auth_jwt_public_key: str | None = None  # the PEM text (the CLI reads it from its file)
    auth_jwt_audience: str | None = None
    auth_jwt_issuer: str | None = None
    # Public URL pieces, for what the CLI prints and the default node id.
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def jwt_login(self) -> bool:
        """Whether players log in with JWTs (`--auth-jwt-secret` or `--auth-jwt-public-key`)."""
        return self.auth_jwt_secret is not None or self.auth_jwt_public_key is not None

    @property
    def node(self) -> str:
        """This node's id: `--node-id`, else `hostname:port` (the port it really has), cut to
        what a node id may hold."""
        if self.node_id is not None:
            return self.node_id
        default = re.sub(r"[^A-Za-z0-9._:-]", "-", f"{socket.gethostname()}:{self.port}")
        return default[-64:]

    def __post_init__(self) -> None:
        if self.node_id is not None and not NODE_ID.fullmatch(self.node_id):
            raise ValueError(
                f"node_id must be 1 to 64 of A-Z a-z 0-9 . _ : -, not {self.node_id!r}"
            )
        if self.durability not in ("strict", "relaxed"):
            raise ValueError(f"durability must be strict or relaxed, not {self.durability!r}")
        # Written so that NaN fails too.
        if not 0.0 <= self.persist_fraction <= 1.0:
            raise ValueError(f"persist_fraction must be from 0 to 1, not {self.persist_fraction!r}")
        for name in (
            "token_ttl_ms",
            "session_ttl_ms",
            "cleanup_interval_ms",
            "abandon_after_ms",
            "ping_interval_ms",
            "idle_timeout_ms",
            "unattended_after_ms",
            "header_timeout_ms",
            "body_timeout_ms",
            "keep_alive_timeout_ms",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.idle_timeout_ms <= self.ping_interval_ms:
            raise ValueError("idle_timeout_ms must be longer than ping_interval_ms")
        if self.retention_ms < 0:
            raise ValueError("retention_ms must not be negative")
        if self.snapshot_every < 1 or self.keep_snapshots < 1 or self.replay_limit < 0:
            raise ValueError("snapshot_every and keep_snapshots must be ≥ 1, replay_limit ≥ 0")
        if self.min_action_timeout_ms < 0 or self.min_next_hand_delay_ms < 0:
            raise ValueError(
                "min_action_timeout_ms and min_next_hand_delay_ms must not be negative"
            )
        if self.max_starting_stack < 1 or self.max_events_per_game < 1 or self.max_connections < 1:
            raise ValueError("max_starting_stack, max_events_per_game, max_connections must be ≥ 1")
        self._check_jwt_login()

    def _check_jwt_login(self) -> None:
        """The key's own form (a PEM, its type) is checked where it is loaded
        (`login.jwt_login`): this module imports no cryptography."""
        if self.auth_jwt_secret is not None and self.auth_jwt_public_key is not None:
            raise ValueError(
                "give --auth-jwt-secret (HS256) or --auth-jwt-public-key (RS256, ES256), not both"
            )
        if not self.jwt_login:
            if self.auth_jwt_audience is not None or self.auth_jwt_issuer is not None:
                raise ValueError(
                    "--auth-jwt-audience and --auth-jwt-issuer need --auth-jwt-secret or "
                    "--auth-jwt-public-key"
                )
            return
        if not self.auth_jwt_audience:
            raise ValueError(
                "--auth-jwt-audience is required with player login: the `aud` your identity "
                "provider puts in the tokens it issues for this game"
            )
        if (
            self.auth_jwt_secret is not None
            and len(self.auth_jwt_secret.encode()) < MIN_JWT_SECRET_BYTES
        ):
            raise ValueError(
                f"--auth-jwt-secret must be at least {MIN_JWT_SECRET_BYTES} bytes (HS256 wants a "
                "key as long as its hash, RFC 7518 3.2)"
            )
